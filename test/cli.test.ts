import { spawn } from 'node:child_process'
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CLI, cliTempDir, runCli } from './support/cli.js'

const tmp = cliTempDir('wire-auth-cli-')
const storeEnv = () => ({ WIRE_AUTH_SQLITE: join(tmp.dir, 'cli.sqlite'), WIRE_AUTH_PASSWORD: '' })
const env = () => ({ ...process.env, ...storeEnv() })
const wireAuth = (args: string[], extraEnv: Record<string, string> = {}) => runCli(args, { cwd: tmp.dir, env: { ...storeEnv(), ...extraEnv } })

describe('wire-auth CLI', () => {
  it('prints help and fails on an unknown command with a clear message', async () => {
    expect((await wireAuth(['--help'])).stdout).toMatch(/wire-auth serve/)
    const unknown = await wireAuth(['frobnicate'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/unknown command/)
  })

  it('adds a user with a generated password printed once, lists, grants, revokes, and audits', async () => {
    const added = await wireAuth(['user', 'add', '--email', ' Ada@Example.COM ', '--name', 'Ada', '--claim', 'role=admin'])
    expect(added.code).toBe(0)
    expect(added.stdout).toMatch(/created user .* <ada@example\.com> with role=admin/)
    // C9: the generated password goes to a 0600 file in a fresh 0700 directory; only its path is printed.
    const file = /password: written to (\S+) \(mode 0600/.exec(added.stdout)?.[1]
    expect(file).toBeDefined()
    expect(statSync(file!).mode & 0o777).toBe(0o600)
    expect(statSync(dirname(file!)).mode & 0o777).toBe(0o700)
    const generated = readFileSync(file!, 'utf8').trim()
    expect(generated).toMatch(/^\S{20,}$/)
    expect(added.stdout + added.stderr).not.toContain(generated)
    rmSync(dirname(file!), { recursive: true, force: true })

    const listed = JSON.parse((await wireAuth(['user', 'list', '--json'])).stdout)
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({ email: 'ada@example.com', name: 'Ada', claims: [{ type: 'role', value: 'admin' }] })
    expect(listed[0].passwordHash).toBeUndefined()

    expect((await wireAuth(['user', 'grant', 'ada@example.com', 'role=beta'])).code).toBe(0)
    expect((await wireAuth(['user', 'revoke', 'ada@example.com', 'role=admin'])).code).toBe(0)
    const after = JSON.parse((await wireAuth(['user', 'list', '--json'])).stdout)
    expect(after[0].claims).toEqual([{ type: 'role', value: 'beta' }])

    const audit = JSON.parse((await wireAuth(['audit', '--user', 'ada@example.com', '--json'])).stdout)
    expect(audit.map((a: { action: string }) => a.action)).toEqual(expect.arrayContaining(['user.register', 'claim.grant', 'claim.revoke']))
    expect(JSON.stringify(audit)).not.toMatch(/argon2|password/i)
  })

  it('reads the password from stdin and refuses a common one with its code', async () => {
    const child = spawn(process.execPath, [CLI, 'user', 'add', '--email', 'bob@example.com', '--password-stdin'], { cwd: tmp.dir, env: env() })
    child.stdin.end('password123\n')
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const code = await new Promise((resolve) => child.on('close', resolve))
    expect(code).toBe(1)
    expect(stderr).toMatch(/ERR_WEAK_PASSWORD/)
    expect(stderr).not.toMatch(/password123/)
  })

  it('answers coded errors for unknown users and malformed claims, without a stack trace', async () => {
    const missing = await wireAuth(['user', 'grant', 'nobody@example.com', 'role=x'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/ERR_USER_NOT_FOUND/)
    const malformed = await wireAuth(['user', 'grant', 'ada@example.com', 'role'])
    expect(malformed.stderr).toMatch(/ERR_INVALID_OPTION/)
    expect(malformed.stderr).not.toMatch(/\n\s+at /)
  })

  it('serves from a config module and answers /auth/me', async () => {
    const config = join(tmp.dir, 'wire-auth.config.mjs')
    writeFileSync(config, `export default () => ({ sqlitePath: ${JSON.stringify(join(tmp.dir, 'serve.sqlite'))}, localIdp: true })\n`)
    const child = spawn(process.execPath, [CLI, 'serve', '--config', config, '--port', '0'], { cwd: tmp.dir, env: env() })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = ''
        child.stdout.on('data', (chunk) => {
          out += chunk
          const match = /listening on (\S+)/.exec(out)
          if (match) resolve(match[1]!)
        })
        child.on('exit', (code) => reject(new Error(`serve exited ${code}`)))
      })
      const me = await fetch(`${url}/auth/me`)
      expect(await me.json()).toEqual({ authenticated: false, id: null, name: null })
    } finally {
      child.kill('SIGTERM')
    }
  })
})
