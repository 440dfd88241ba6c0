import { randomBytes } from 'node:crypto'
import { mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { byId, http, mountedTab, signedInUser, stopAll, Tab, tempDir, WAIT_MS, type HttpAnswer, type ServeProcess, startServers } from '../support/worker-processes.js'
import { WORKER_RESOURCE_SERVER } from '../support/worker-config.mjs'

const INTROSPECTION = { authorization: `Basic ${Buffer.from(`${WORKER_RESOURCE_SERVER.id}:${WORKER_RESOURCE_SERVER.secret}`).toString('base64')}` }

// Two `wire-auth serve` processes on one SQLite file and the Redis channel.
// The file is made unavailable under them the way the store's own fault
// tests do it (its directory renamed away; running as root, chmod would not
// block): every login, session and token check, guard and fragment must
// then deny or answer a coded 503 — never allow, never a stack trace — and
// the processes serve again once the directory is back.

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const CHANNEL = `wire-auth:test:scale-store:${randomBytes(6).toString('hex')}`

let dir: ReturnType<typeof tempDir>
let data: string
let moved: string
const workers: ServeProcess[] = []
const tabs: Tab[] = []
let redis: Redis | undefined

function expectUnavailable(answer: HttpAnswer, what: string): void {
  expect(answer.status, what).toBe(503)
  // The token endpoint answers in RFC 6749 §5.2 shape, everything else in wire-auth's.
  if (typeof (answer.json as { error?: unknown }).error === 'string') expect(answer.json, what).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String), code: 'ERR_STORE_UNAVAILABLE' })
  else expect(answer.json, what).toEqual({ error: { code: 'ERR_STORE_UNAVAILABLE', message: expect.any(String) } })
  // Nothing of the driver or the file system reaches the client.
  expect(answer.body, what).not.toMatch(/\bat .+:\d+:\d+|SqliteError|ENOENT|auth\.sqlite/)
}

function breakStore(): void {
  renameSync(data, moved)
}
function repairStore(): void {
  renameSync(moved, data)
}

const REGIONS = [
  { id: 'beta', fragment: 'beta-panel' },
  { id: 'acct', fragment: 'account' },
  { id: 'news', fragment: 'worker' },
  { id: 'g', kind: 'guard', fragment: 'account' },
]

beforeAll(async () => {
  dir = tempDir()
  data = join(dir.dir, 'data')
  moved = join(dir.dir, 'moved')
  mkdirSync(data)
  const env = { WA_TEST_SQLITE: join(data, 'auth.sqlite'), WA_TEST_REDIS_URL: REDIS_URL, WA_TEST_REDIS_CHANNEL: CHANNEL }
  await startServers(workers, env)
}, 60_000)

afterAll(async () => {
  for (const t of tabs.splice(0)) t.close()
  redis?.disconnect()
  await stopAll(workers)
  dir?.cleanup()
})

describe('the SQLite file made unavailable under two workers', { timeout: 90_000 }, () => {
  it('sessions, guards, fragments, sockets and sign-in deny or answer 503 meanwhile, and everything works again after', async () => {
    const [w1, w2] = workers as [ServeProcess, ServeProcess]
    const ada = await signedInUser(w1.url, 'Ada')
    const bob = await http(w1.url, 'POST', '/test/users', { body: { email: 'bob@example.com', name: 'Bob' } })
    const held = await mountedTab(w2.url, ada.cookie, 'ada@w2')
    tabs.push(held.tab)
    expect(held.regions.acct).toEqual({ id: 'acct', status: 'allowed', html: '<p>Ada</p>' })

    breakStore()
    try {
      for (const worker of workers) {
        // A request presenting a session cannot be resolved: 503, not anonymous and not the old principal.
        expectUnavailable(await http(worker.url, 'GET', '/auth/me', { cookie: ada.cookie }), '/auth/me with a session')
        expectUnavailable(await http(worker.url, 'GET', '/test/beta-api', { cookie: ada.cookie }), 'guarded host route')
        expectUnavailable(await http(worker.url, 'POST', '/auth/fragments', { cookie: ada.cookie, body: { regions: REGIONS } }), 'POST /auth/fragments')
        expectUnavailable(await http(worker.url, 'GET', '/auth/fragments/account', { cookie: ada.cookie }), 'GET /auth/fragments/account')
        expectUnavailable(await http(worker.url, 'POST', `/test/sign-in/${bob.json.id}`), 'sign-in')
        // Anonymous requests need no store: they are served, and denied.
        expect((await http(worker.url, 'GET', '/auth/me')).json).toEqual({ authenticated: false, id: null, name: null })
        expect((await http(worker.url, 'GET', '/test/beta-api')).json.error.code).toBe('ERR_UNAUTHENTICATED')
        const anonymous = await http(worker.url, 'POST', '/auth/fragments', { body: { regions: REGIONS } })
        expect(anonymous.status).toBe(200)
        expect(anonymous.json.regions.map((r: { id: string; status: string }) => `${r.id}:${r.status}`)).toEqual(['beta:denied', 'acct:denied', 'news:allowed', 'g:redirect'])
        // A new socket with the session is refused before the upgrade.
        await expect(Tab.open(worker.url, ada.cookie)).rejects.toMatchObject({ statusCode: 503 })
      }

      // An open socket asked to re-check its principal (a resync from another worker) gets a coded error and stays open.
      redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
      await redis.publish(CHANNEL, JSON.stringify({ type: 'resync', origin: 'store-fault-test' }))
      const error = await held.tab.next('error', WAIT_MS)
      expect(error.code).toBe('ERR_STORE_UNAVAILABLE')
      expect(JSON.stringify(error)).not.toMatch(/SqliteError|ENOENT|auth\.sqlite/)
      // It fails closed: every region it showed is withdrawn until the principal can be re-read.
      const withdrawn = { status: 'denied', html: '', code: 'ERR_STORE_UNAVAILABLE' }
      expect(await held.tab.render()).toEqual([{ id: 'beta', ...withdrawn }, { id: 'acct', ...withdrawn }, { id: 'pid', ...withdrawn }])
    } finally {
      repairStore()
    }

    // Both processes survived and recover on the next request.
    for (const worker of workers) {
      expect(worker.child.exitCode).toBeNull()
      expect((await http(worker.url, 'GET', '/auth/me', { cookie: ada.cookie })).json).toEqual({ authenticated: true, id: ada.id, name: 'Ada' })
      const denied = await http(worker.url, 'GET', '/test/beta-api', { cookie: ada.cookie })
      expect(denied.json.error.code).toBe('ERR_FORBIDDEN')
    }
    expect((await http(w2.url, 'POST', `/test/sign-in/${bob.json.id}`)).status).toBe(200)
    // A grant through worker 1 reaches the socket that lived through the fault on worker 2: its re-check restores every region.
    expect((await http(w1.url, 'POST', '/test/grant', { body: { userId: ada.id, type: 'role', value: 'beta' } })).status).toBe(200)
    // The worker's next sweep may re-check the socket first (every region back, beta still denied): on a
    // loaded machine its render comes before the grant's. Each render waits at most WAIT_MS.
    let restored = byId(await held.tab.render(WAIT_MS))
    if (restored.beta?.status !== 'allowed') restored = byId(await held.tab.render(WAIT_MS))
    expect(restored).toEqual({
      beta: { id: 'beta', status: 'allowed', html: '<p>beta for Ada</p>' },
      acct: { id: 'acct', status: 'allowed', html: '<p>Ada</p>' },
      pid: { id: 'pid', status: 'allowed', html: held.regions.pid!.html },
    })
    expect((await http(w2.url, 'GET', '/test/beta-api', { cookie: ada.cookie })).json).toEqual({ hello: 'Ada' })
    const again = await mountedTab(w1.url, ada.cookie, 'ada@w1')
    tabs.push(again.tab)
    expect(again.regions.beta).toEqual({ id: 'beta', status: 'allowed', html: '<p>beta for Ada</p>' })
  })

  it('local IdP login, token issue, token checks and token sockets answer 503 meanwhile', async () => {
    const [w1, w2] = workers as [ServeProcess, ServeProcess]
    const credentials = { email: `carol-${randomBytes(4).toString('hex')}@example.com`, password: 'correct horse battery staple' }
    const registered = await http(w1.url, 'POST', '/auth/local/register', { body: { ...credentials, name: 'Carol' } })
    expect(registered.status).toBe(201)
    // Carol may pass BetaOnly: whatever is denied below is denied because of the fault.
    expect((await http(w1.url, 'POST', '/test/grant', { body: { userId: registered.json.user.id, type: 'role', value: 'beta' } })).status).toBe(200)
    const issued = await http(w1.url, 'POST', '/auth/local/token', { body: { grant_type: 'password', username: credentials.email, password: credentials.password } })
    expect(issued.status).toBe(200)
    const token = issued.json.access_token as string
    const bearer = { authorization: `Bearer ${token}` }

    breakStore()
    try {
      for (const worker of [w1, w2]) {
        expectUnavailable(await http(worker.url, 'POST', '/auth/local/login', { body: credentials }), 'login')
        expectUnavailable(await http(worker.url, 'POST', '/auth/local/token', { body: { grant_type: 'password', username: credentials.email, password: credentials.password } }), 'token')
        expectUnavailable(await http(worker.url, 'POST', '/auth/local/verify-token', { body: { token }, headers: INTROSPECTION }), 'verify-token')
        expectUnavailable(await http(worker.url, 'GET', '/test/beta-api', { headers: bearer }), 'bearer on a guarded route')
        expectUnavailable(await http(worker.url, 'POST', '/auth/fragments', { headers: bearer, body: { regions: REGIONS } }), 'bearer fragments')
        // Sockets: a bearer upgrade is refused before the 101; a token sent as the first message is refused.
        await expect(Tab.open(worker.url, undefined, 'bearer', bearer)).rejects.toMatchObject({ statusCode: 503 })
        const anonymous = await Tab.open(worker.url, undefined, 'token')
        tabs.push(anonymous)
        expect((await anonymous.next('principal')).user.authenticated).toBe(false)
        anonymous.send({ t: 'auth', token })
        expect((await anonymous.next('error', WAIT_MS)).code).toBe('ERR_STORE_UNAVAILABLE')
        expect(anonymous.messages.filter((m) => m.t === 'principal' && m.user.authenticated)).toEqual([])
      }
    } finally {
      repairStore()
    }
    for (const worker of [w1, w2]) {
      expect((await http(worker.url, 'POST', '/auth/local/login', { body: credentials })).status).toBe(200)
      expect((await http(worker.url, 'POST', '/auth/local/verify-token', { body: { token }, headers: INTROSPECTION })).json.active).toBe(true)
      expect((await http(worker.url, 'GET', '/test/beta-api', { headers: bearer })).json).toEqual({ hello: 'Carol' })
      const viaToken = await Tab.open(worker.url, undefined, 'token-after')
      tabs.push(viaToken)
      viaToken.send({ t: 'auth', token })
      expect((await viaToken.next('principal')).user).toMatchObject({ authenticated: false })
      expect((await viaToken.next('principal')).user).toEqual({ authenticated: true, id: registered.json.user.id, name: 'Carol' })
    }
  })

  // Last: it stops both workers. Regression: an upgrade refused because the store was down left its
  // socket half-open on the server, so app.close() (and SIGTERM) waited for it forever.
  it('both workers stop cleanly on SIGTERM after refusing sockets during the outage', async () => {
    for (const t of tabs.splice(0)) t.close()
    for (const worker of workers) {
      await worker.stop('SIGTERM')
      expect(await worker.exited).toEqual({ code: 0, signal: null })
    }
  })
})
