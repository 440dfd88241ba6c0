// Checklist 30 (output hygiene), the identity side of issue 13: F13 (5xx
// bodies name no store class, operation or driver code — the log does) and
// F9 (control characters from users or providers never reach a terminal or
// a log line raw). The provider boundary itself is proven in
// packages/server/test/oidc-identity-hygiene.test.ts.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, SqliteAuthStore } from '@wire-auth/server'
import { Client } from './support/live-client.js'
import { securityApp, SITE, type SecurityApp } from './support/security-app.js'

/** Raw control characters a terminal or log viewer acts on (newline excepted: it ends a line). */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u
const HOSTILE = 'Mal\u001b[2J\u001b]0;pwned\u0007lory \u009b31m\u202egnp.exe\u2066'

function logSink(): { stream: Writable; lines: string[] } {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter((l) => l !== ''))
      done()
    },
  })
  return { stream, lines }
}

describe('checklist 30: errors name no internal class, operation or driver code (F13)', () => {
  let product: SecurityApp
  const log = logSink()
  beforeAll(async () => {
    product = await securityApp({ config: { localIdp: { rateLimitPerMinute: 1000 }, fastify: { logger: { level: 'error', stream: log.stream } } } })
    await product.app.listen({ port: 0, host: '127.0.0.1' })
  })
  afterAll(async () => {
    await product?.close()
  })

  it('503 bodies of a store outage carry a plain coded message; the store class, operation and driver detail go to the log', async () => {
    const { app } = product
    const user = await app.authStore.createUser({ email: 'f13@example.com', name: 'F13', passwordHash: null })
    const cookie = await product.signIn(user.id)
    const dir = dirname(product.sqlitePath)
    const url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/auth/live`
    const internals = /SqliteAuthStore|MongoAuthStore|SQLITE_|ENOENT|failed with|the database file|\b(getSession|getUser|getUserByEmail|recordFailure|createSession|listUsers|init)\b/
    const bodies: string[] = []
    renameSync(dir, `${dir}-moved`)
    try {
      for (const request of [
        { url: '/auth/me', headers: { cookie } },
        { method: 'POST' as const, url: '/auth/local/login', payload: { email: 'f13@example.com', password: 'correct horse battery staple' } },
        { method: 'POST' as const, url: '/auth/local/register', payload: { email: 'f13b@example.com', password: 'correct horse battery staple' } },
        { method: 'POST' as const, url: '/auth/fragments', headers: { cookie, origin: SITE }, payload: { regions: [{ id: 'a', fragment: 'admin-console' }] } },
        { url: '/auth/fragments/admin-console', headers: { cookie } },
      ]) {
        const response = await app.inject(request)
        expect(response.statusCode, response.body).toBe(503)
        expect(response.json().error.code).toBe('ERR_STORE_UNAVAILABLE')
        bodies.push(response.body)
      }
      await expect(Client.open(url, { cookie })).rejects.toMatchObject({ statusCode: 503 })
    } finally {
      renameSync(`${dir}-moved`, dir)
    }
    for (const body of bodies) expect(body).not.toMatch(internals)
    // The operator still learns what failed: the log line has the store's own message.
    const logged = log.lines.map((l) => JSON.parse(l) as { code?: string; msg?: string }).filter((l) => l.code === 'ERR_STORE_UNAVAILABLE')
    expect(logged.length).toBeGreaterThan(0)
    expect(logged.some((l) => /SqliteAuthStore: \w+ failed/.test(l.msg ?? ''))).toBe(true)
  })
})

describe('checklist 30: control characters from users are refused where they enter', () => {
  it('app.auth.grant / grantTo (and the CLI and admin APIs built on them) refuses claim values with control characters: ERR_INVALID_CLAIM', async () => {
    const product = await securityApp()
    try {
      const user = await product.app.authStore.createUser({ email: 'grantee@example.com', name: 'G', passwordHash: null })
      for (const value of ['beta\u001b[8m', 'beta\u009b8m', 'beta\u202e', 'be\nta', 'beta\u2066']) {
        await expect(product.app.auth.grantTo(user.id, 'role', value)).rejects.toMatchObject({ code: 'ERR_INVALID_CLAIM' })
      }
      await product.app.auth.grantTo(user.id, 'role', 'beta')
      expect((await product.app.authStore.getUser(user.id))!.claims).toEqual([{ type: 'role', value: 'beta' }])
    } finally {
      await product.close()
    }
  })
})

describe('checklist 30: control characters never reach a log line raw (F9)', () => {
  it('createServer’s logger escapes what pino leaves raw (C1, bidi, separators), with the same JSON', async () => {
    const log = logSink()
    const dir = mkdtempSync(join(tmpdir(), 'wire-auth-hygiene-'))
    const app = await createServer({ sqlitePath: join(dir, 'auth.sqlite'), publicUrl: 'http://localhost:3000', fastify: { logger: { level: 'warn', stream: log.stream } } })
    try {
      app.log.warn({ name: HOSTILE }, `hostile ${HOSTILE}`)
      const line = log.lines.find((l) => l.includes('hostile'))!
      expect(line).not.toMatch(RAW_CONTROL)
      expect(JSON.parse(line)).toMatchObject({ name: HOSTILE, msg: `hostile ${HOSTILE}` })
    } finally {
      await app.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('an unsafe OpenID returnTo is logged without raw control characters', async () => {
    const log = logSink()
    const product = await securityApp({ config: { fastify: { logger: { level: 'warn', stream: log.stream } } } })
    try {
      await product.app.inject({ url: `/auth/demo/login?returnTo=${encodeURIComponent(`https://evil.example/${HOSTILE}`)}` })
      const warned = log.lines.filter((l) => l.includes('ERR_REDIRECT_NOT_ALLOWED'))
      expect(warned).toHaveLength(1)
      expect(warned[0]).not.toMatch(RAW_CONTROL)
      expect((JSON.parse(warned[0]!) as { returnTo: string }).returnTo).not.toMatch(RAW_CONTROL)
    } finally {
      await product.close()
    }
  })
})

describe('checklist 30: the CLI escapes what it prints (F9, terminal injection)', () => {
  const cli = fileURLToPath(new URL('../../packages/server/dist/cli.js', import.meta.url))
  const run = promisify(execFile)
  let dir: string
  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error('packages/server/dist/cli.js is missing: run `npm run build` first')
    dir = mkdtempSync(join(tmpdir(), 'wire-auth-cli-hygiene-'))
    // Names written by an older version, a provider before the boundary existed, or the store API directly.
    const store = new SqliteAuthStore(join(dir, 'cli.sqlite'))
    await store.init()
    await store.createUser({ email: 'mallory@example.com', name: HOSTILE, passwordHash: null, claims: [{ type: 'dept', value: `x\u001b[8m\u009b8mhidden` }] })
    await store.appendAudit({ at: Date.now(), action: 'login.failure', actorId: null, targetId: null, detail: { returnTo: HOSTILE }, ip: null })
    await store.close()
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const wireAuth = async (args: string[]) => (await run(process.execPath, [cli, ...args], { cwd: dir, env: { ...process.env, WIRE_AUTH_SQLITE: join(dir, 'cli.sqlite') } })).stdout

  it('`wire-auth user list` prints hostile names and claims as visible escapes, never raw', async () => {
    const text = await wireAuth(['user', 'list'])
    expect(text).not.toMatch(RAW_CONTROL)
    expect(text).toContain('Mal\\x1b[2J\\x1b]0;pwned\\x07lory \\x9b31m\\u202egnp.exe\\u2066')
    expect(text).toContain('dept=x\\x1b[8m\\x9b8mhidden')
  })

  it('`--json` output and `wire-auth audit` carry no raw control character and stay equivalent JSON', async () => {
    const listed = await wireAuth(['user', 'list', '--json'])
    expect(listed).not.toMatch(RAW_CONTROL)
    expect(JSON.parse(listed)[0].name).toBe(HOSTILE)
    const audit = await wireAuth(['audit'])
    expect(audit).not.toMatch(RAW_CONTROL)
    const auditJson = await wireAuth(['audit', '--json'])
    expect(auditJson).not.toMatch(RAW_CONTROL)
    expect(JSON.parse(auditJson)[0].detail.returnTo).toBe(HOSTILE)
  })
})
