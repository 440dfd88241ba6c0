// The audit trail: every grant, revoke, session revocation, login success
// and failure (local IdP, token grant and OpenID provider), token issue and
// revocation, and disabling a user is recorded in the store — who (actor),
// whom (target), what (action, detail), when (at) and from where (ip) —
// readable through app.authStore.listAudit and `wire-auth audit`, and no
// line ever holds a secret: passwords, cookies, tokens, codes, hashes.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OidcProvider } from '@wire-auth/server'
import { TestBrowser } from '../support/oidc-provider-browser.mjs'
import { listenOnFreePort, startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.mjs'
import { cookieFrom, SECRET, securityApp, SITE, type SecurityApp } from './support/security-app.js'
import { storeSnapshot } from './support/store-snapshot.js'

const CLI = fileURLToPath(new URL('../../packages/server/dist/cli.js', import.meta.url))
const PASSWORD = 'correct horse battery staple'
const WRONG = 'Tr0ub4dor&3-wrong-guess'

let product: SecurityApp
let op: TestOidcProvider
let base: string
const secrets: string[] = [PASSWORD, WRONG, SECRET]
let adminId: string
let adminCookie: string
let pat: string

beforeAll(async () => {
  const backend = await listenOnFreePort()
  base = backend.url
  op = await startOidcProvider({ redirectUris: [`${base}/auth/loop/callback`], login: 'auto', autoLogin: 'grace', accounts: { grace: { email: 'grace@example.test', email_verified: true, name: 'Grace' } } })
  product = await securityApp({
    config: {
      publicUrl: base,
      localIdp: { rateLimitPerMinute: 1000, maxFailuresPerAccount: 3, grants: ['authorization_code', 'refresh_token', 'password'] },
      providers: [new OidcProvider({ name: 'loop', issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret, allowInsecureRequests: true })],
      fastify: { serverFactory: (handler) => backend.server.on('request', handler) },
    },
  })
  const admin = await product.app.authStore.createUser({ email: 'root@example.com', name: 'Root', passwordHash: null, claims: [{ type: 'role', value: 'admin' }] })
  adminId = admin.id
  adminCookie = await product.signIn(admin.id)
  secrets.push(adminCookie.split('=')[1]!)
}, 60_000)

afterAll(async () => {
  await product?.close()
  await op?.close()
})

const post = (url: string, payload: object, headers: Record<string, string> = {}) => product.app.inject({ method: 'POST', url, payload, headers: { origin: SITE, ...headers } })

describe('the audit trail', () => {
  it('records who, whom, what, when and from where for every security event', async () => {
    const { app } = product
    const started = Date.now()
    // Registration and logins.
    // A forged X-Forwarded-For is not believed (trustProxy is the site owner's call).
    const registered = await post('/auth/local/register', { email: 'pat@example.com', password: PASSWORD, name: 'Pat' }, { 'x-forwarded-for': '203.0.113.9' })
    pat = registered.json().user.id
    const patCookie = cookieFrom(registered)!
    secrets.push(patCookie.split('=')[1]!)
    expect((await post('/auth/local/login', { email: 'pat@example.com', password: PASSWORD })).statusCode).toBe(200)
    expect((await post('/auth/local/login', { email: 'pat@example.com', password: WRONG })).statusCode).toBe(401)
    expect((await post('/auth/local/login', { email: 'nobody@example.com', password: WRONG })).statusCode).toBe(401)
    expect((await post('/auth/local/login', { email: 'pat@example.com', password: WRONG })).statusCode).toBe(401)
    expect((await post('/auth/local/login', { email: 'pat@example.com', password: WRONG })).statusCode).toBe(401)
    // Now throttled: refused without checking the password, still a failure on record.
    expect((await post('/auth/local/login', { email: 'pat@example.com', password: PASSWORD })).statusCode).toBe(429)
    // Tokens.
    await app.authStore.clearFailures(app.localIdp!.throttle.accountKey('pat@example.com'))
    await app.authStore.clearFailures(app.localIdp!.throttle.pairKey('pat@example.com', { ip: '127.0.0.1' }))
    const tokens = (await post('/auth/local/token', { grant_type: 'password', username: 'pat@example.com', password: PASSWORD })).json()
    secrets.push(tokens.access_token, tokens.refresh_token)
    expect((await post('/auth/local/token', { grant_type: 'password', username: 'pat@example.com', password: WRONG })).statusCode).toBe(400)
    expect((await post('/auth/local/revoke', { token: tokens.access_token })).statusCode).toBe(200)
    // Claims and sessions, by an admin.
    expect((await post(`/demo/api/users/${pat}/claims`, { type: 'role', value: 'beta' }, { cookie: adminCookie })).statusCode).toBe(200)
    expect((await post(`/demo/api/users/${pat}/claims/revoke`, { type: 'role', value: 'beta' }, { cookie: adminCookie })).statusCode).toBe(200)
    expect((await post(`/demo/api/users/${pat}/sessions/revoke`, {}, { cookie: adminCookie })).json().ended).toBeGreaterThan(0)
    const again = cookieFrom(await post('/auth/local/login', { email: 'pat@example.com', password: PASSWORD }))!
    secrets.push(again.split('=')[1]!)
    expect((await post('/auth/logout', {}, { cookie: again })).statusCode).toBe(204)
    await app.auth.setDisabled(pat, true)
    await app.auth.setDisabled(pat, false)
    // An OpenID login that succeeds, and one that fails at the callback (state tampered).
    const browser = new TestBrowser()
    const ok = await browser.navigate(`${base}/auth/loop/login?returnTo=/account`)
    expect(new URL(ok.url).pathname).toBe('/account')
    const other = new TestBrowser()
    const failing = await other.navigate(`${base}/auth/loop/login`, { stopAt: (u) => u.pathname === '/auth/loop/callback' })
    const tampered = new URL(failing.next!)
    secrets.push(tampered.searchParams.get('code')!, tampered.searchParams.get('state')!)
    tampered.searchParams.set('state', 'forged')
    const refused = await other.request(tampered)
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('ERR_OIDC_STATE_MISMATCH')

    const audit = await app.authStore.listAudit({ limit: 1000 })
    const of = (action: string) => audit.filter((a) => a.action === action)
    const grace = await app.authStore.getUserByEmail('grace@example.test')
    expect(grace).not.toBeNull()

    // Who, whom, what, when, from where.
    for (const line of audit) {
      expect(line.at).toBeGreaterThanOrEqual(started - 1000)
      expect(line.at).toBeLessThanOrEqual(Date.now())
      expect(typeof line.action).toBe('string')
    }
    expect(of('user.register')).toEqual([expect.objectContaining({ actorId: pat, targetId: pat, ip: '127.0.0.1' })])
    expect(of('login.success').filter((a) => a.targetId === pat)).toHaveLength(2)
    expect(of('login.success').find((a) => a.targetId === grace!.id)).toMatchObject({ actorId: grace!.id, detail: expect.objectContaining({ method: 'oidc', provider: 'loop' }) })
    const failures = of('login.failure')
    // Wrong password (3×, via login; the third reaches the throttle's limit), unknown account, the throttled attempt, the token grant.
    expect(failures.filter((a) => a.targetId === pat && a.detail.via === 'local' && a.detail.reason === 'invalid')).toHaveLength(3)
    expect(failures.filter((a) => a.targetId === null && a.detail.via === 'local' && a.detail.reason === 'invalid')).toHaveLength(1)
    expect(failures.filter((a) => a.detail.reason === 'throttled')).toEqual([expect.objectContaining({ actorId: null, ip: '127.0.0.1', detail: expect.objectContaining({ scope: 'account' }) })])
    expect(failures.filter((a) => a.detail.via === 'token')).toHaveLength(1)
    expect(of('token.issue')).toEqual([expect.objectContaining({ actorId: pat, targetId: pat })])
    expect(of('token.revoke')).toEqual([expect.objectContaining({ targetId: pat, detail: { kind: 'access' } })])
    expect(of('claim.grant')).toEqual([expect.objectContaining({ actorId: adminId, targetId: pat, detail: { type: 'role', value: 'beta' }, ip: '127.0.0.1' })])
    expect(of('claim.revoke')).toEqual([expect.objectContaining({ actorId: adminId, targetId: pat, detail: { type: 'role', value: 'beta' } })])
    expect(of('session.revoke')).toEqual([expect.objectContaining({ actorId: adminId, targetId: pat, detail: expect.objectContaining({ all: true }) })])
    expect(of('logout')).toEqual([expect.objectContaining({ actorId: pat, targetId: pat })])
    expect(of('user.disable')).toEqual([expect.objectContaining({ targetId: pat })])
    expect(of('user.enable')).toEqual([expect.objectContaining({ targetId: pat })])
    // The tampered callback: a real attempt of this browser (it holds the login cookie), so it is on record.
    expect(failures.filter((a) => a.detail.method === 'oidc')).toEqual([expect.objectContaining({ actorId: null, ip: '127.0.0.1', detail: expect.objectContaining({ provider: 'loop', code: 'ERR_OIDC_STATE_MISMATCH' }) })])
  })

  it('never holds a secret: passwords, cookies, tokens, codes, states, session hashes, the signing secret', async () => {
    const audit = JSON.stringify(await product.app.authStore.listAudit({ limit: 10_000 }))
    const snapshot = storeSnapshot(product.sqlitePath)
    const sessionHashes = (snapshot.sessions as Array<{ id: string }>).map((s) => s.id)
    const refreshHashes = (snapshot.refresh_tokens as Array<{ id: string }>).map((r) => r.id)
    const passwordHashes = (snapshot.users as Array<{ password_hash: string | null }>).map((u) => u.password_hash).filter((h): h is string => h !== null)
    expect(secrets.length).toBeGreaterThan(8)
    for (const secret of [...secrets, ...sessionHashes, ...refreshHashes, ...passwordHashes]) {
      expect(secret.length).toBeGreaterThan(3)
      expect(audit.includes(secret), `audit holds ${secret.slice(0, 12)}…`).toBe(false)
    }
    expect(audit).not.toMatch(/argon2|Bearer|wa_sid/i)
  })

  it('is filtered by user and action, and readable through `wire-auth audit`', async () => {
    const forPat = await product.app.authStore.listAudit({ userId: pat })
    expect(forPat.length).toBeGreaterThan(5)
    for (const line of forPat) expect([line.actorId, line.targetId]).toContain(pat)
    expect((await product.app.authStore.listAudit({ action: 'claim.grant' })).map((a) => a.action)).toEqual(['claim.grant'])
    if (!existsSync(CLI)) return expect.soft(existsSync(CLI), 'packages/server/dist/cli.js missing: run `npm run build` to check the CLI too').toBe(true)
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'audit', '--user', 'pat@example.com', '--json', '--limit', '500'], { env: { ...process.env, WIRE_AUTH_SQLITE: product.sqlitePath } })
    const lines = JSON.parse(stdout) as Array<{ action: string; actorId: string | null; targetId: string | null; ip: string | null; at: number }>
    expect(lines.map((l) => l.action).sort()).toEqual(forPat.map((l) => l.action).sort())
    for (const secret of secrets) expect(stdout.includes(secret)).toBe(false)
    const text = await promisify(execFile)(process.execPath, [CLI, 'audit', '--action', 'claim.grant'], { env: { ...process.env, WIRE_AUTH_SQLITE: product.sqlitePath } })
    expect(text.stdout).toMatch(new RegExp(`claim\\.grant\\s+actor=${adminId} target=${pat} ip=127\\.0\\.0\\.1`))
  })
})
