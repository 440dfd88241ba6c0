import { join } from 'node:path'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { cliTempDir, runCli } from './support/cli.js'
import { connectAuth } from '../packages/server/src/index.js'

// `wire-auth user verify-email` and `user reset-link` on the built bin, then
// the printed link followed over HTTP against the same SQLite file.
const PASSWORD = 'a long and unusual passphrase'

const tmp = cliTempDir('wire-auth-cli-account-')
const sqlite = () => join(tmp.dir, 'cli.sqlite')
const wireAuth = (args: string[]) => runCli(args, { cwd: tmp.dir, env: { WIRE_AUTH_SQLITE: sqlite(), WIRE_AUTH_PASSWORD: PASSWORD } })

describe('wire-auth user verify-email / reset-link', () => {
  it('verify-email grants email_verified=true and audits it as an admin action', async () => {
    expect((await wireAuth(['user', 'add', '--email', 'ada@example.com'])).code).toBe(0)
    const verified = await wireAuth(['user', 'verify-email', 'ada@example.com'])
    expect(verified.code).toBe(0)
    expect(verified.stdout).toMatch(/marked ada@example\.com of \S+ verified/)
    const [user] = JSON.parse((await wireAuth(['user', 'list', '--json'])).stdout)
    expect(user.claims).toEqual([{ type: 'email_verified', value: 'true' }])
    const audit = JSON.parse((await wireAuth(['audit', '--action', 'email.verify', '--json'])).stdout)
    expect(audit).toHaveLength(1)
    expect(audit[0]).toMatchObject({ targetId: user.id, detail: { via: 'cli' } })
  })

  it('reset-link prints a one-time link that resets the password once over HTTP; an earlier link stops working', async () => {
    expect((await wireAuth(['user', 'add', '--email', 'bob@example.com'])).code).toBe(0)
    const first = (await wireAuth(['user', 'reset-link', 'bob@example.com'])).stdout.trim()
    const printed = await wireAuth(['user', 'reset-link', 'bob@example.com'])
    expect(printed.code).toBe(0)
    const link = printed.stdout.trim()
    expect(link).toMatch(/^http:\/\/localhost:3000\/account\/reset-password#token=[A-Za-z0-9_-]{43}$/)
    expect(printed.stderr).toMatch(/valid 1 hour/)
    expect(printed.stderr).not.toContain(link.split('#token=')[1])

    const app = Fastify({ logger: false })
    await connectAuth(app, { sqlitePath: sqlite(), localIdp: true })
    try {
      const reset = (token: string, password: string) => app.inject({ method: 'POST', url: '/auth/account/password/reset', payload: { token, password } })
      expect((await reset(first.split('#token=')[1]!, 'a brand new passphrase')).json().error.code).toBe('ERR_LINK_INVALID')
      const token = link.split('#token=')[1]!
      expect((await reset(token, 'a brand new passphrase')).statusCode).toBe(200)
      expect((await reset(token, 'yet another new passphrase')).json().error.code).toBe('ERR_LINK_INVALID')
      const login = await app.inject({ method: 'POST', url: '/auth/local/login', payload: { email: 'bob@example.com', password: 'a brand new passphrase' } })
      expect(login.statusCode).toBe(200)
    } finally {
      await app.close()
    }
    const audit = JSON.parse((await wireAuth(['audit', '--action', 'password.reset.link', '--json'])).stdout)
    expect(audit).toHaveLength(2)
    expect(audit[0].detail).toEqual({ via: 'cli' })
  })

  it('unknown users answer ERR_USER_NOT_FOUND with exit code 1', async () => {
    for (const sub of ['verify-email', 'reset-link']) {
      const missing = await wireAuth(['user', sub, 'nobody@example.com'])
      expect(missing.code).toBe(1)
      expect(missing.stderr).toMatch(/ERR_USER_NOT_FOUND/)
      expect(missing.stdout).toBe('')
    }
  })
})
