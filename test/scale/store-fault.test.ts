import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { http, mountedTab, signedInUser, startServe, stopAll, Tab, tempDir, WAIT_MS, type HttpAnswer, type ServeProcess } from '../support/worker-processes.js'

// Two `wire-auth serve` processes on one SQLite file and the Redis channel.
// The file is made unavailable under them the way the store's own fault
// tests do it (its directory renamed away; running as root, chmod would not
// block): every login, session and token check, guard and fragment must
// then deny or answer a coded 503 — never allow, never a stack trace — and
// the processes serve again once the directory is back.

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const CHANNEL = `wire-auth:test:scale-store:${randomBytes(6).toString('hex')}`
// The local IdP's routes exist only once the plugin mounts it.
const LOCAL_IDP = readFileSync(fileURLToPath(new URL('../../packages/server/dist/lib/plugin.js', import.meta.url)), 'utf8').includes('registerLocalIdp')

let dir: ReturnType<typeof tempDir>
let data: string
let moved: string
const workers: ServeProcess[] = []
const tabs: Tab[] = []
let redis: Redis | undefined

function expectUnavailable(answer: HttpAnswer, what: string): void {
  expect(answer.status, what).toBe(503)
  expect(answer.json, what).toEqual({ error: { code: 'ERR_STORE_UNAVAILABLE', message: expect.any(String) } })
  // Nothing of the driver or the file system reaches the client.
  expect(answer.body, what).not.toMatch(/\bat .+:\d+:\d+|SqliteError|ENOENT|auth\.sqlite/)
}

/** A 503 `ERR_STORE_UNAVAILABLE`, or a denial: never an allowed answer. */
function expectDeniedOrUnavailable(answer: HttpAnswer, what: string, denied: (answer: HttpAnswer) => boolean): void {
  if (answer.status === 503) expectUnavailable(answer, what)
  else expect(denied(answer), `${what}: ${answer.status} ${answer.body}`).toBe(true)
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
  const started = await Promise.allSettled([1, 2].map(() => startServe(env)))
  for (const result of started) if (result.status === 'fulfilled') workers.push(result.value)
  const failed = started.find((result) => result.status === 'rejected')
  if (failed) throw (failed as PromiseRejectedResult).reason
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
    // A grant through worker 1 reaches the socket that lived through the fault on worker 2.
    expect((await http(w1.url, 'POST', '/test/grant', { body: { userId: ada.id, type: 'role', value: 'beta' } })).status).toBe(200)
    expect(await held.tab.render(WAIT_MS)).toEqual([{ id: 'beta', status: 'allowed', html: '<p>beta for Ada</p>' }])
    expect((await http(w2.url, 'GET', '/test/beta-api', { cookie: ada.cookie })).json).toEqual({ hello: 'Ada' })
    const again = await mountedTab(w1.url, ada.cookie, 'ada@w1')
    tabs.push(again.tab)
    expect(again.regions.beta).toEqual({ id: 'beta', status: 'allowed', html: '<p>beta for Ada</p>' })
  })

  it.skipIf(!LOCAL_IDP)(`local IdP login, token issue and token checks deny or answer 503 meanwhile${LOCAL_IDP ? '' : ' (skipped: the plugin does not mount the local IdP yet)'}`, async () => {
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
        expectDeniedOrUnavailable(await http(worker.url, 'POST', '/auth/local/verify-token', { body: { token } }), 'verify-token', (a) => a.status === 200 && a.json.active === false)
        expectDeniedOrUnavailable(await http(worker.url, 'GET', '/test/beta-api', { headers: bearer }), 'bearer on a guarded route', (a) => a.status === 401 || a.status === 403)
        expectDeniedOrUnavailable(await http(worker.url, 'POST', '/auth/fragments', { headers: bearer, body: { regions: REGIONS } }), 'bearer fragments', (a) => a.status === 200 && a.json.regions[0].status === 'denied')
      }
    } finally {
      repairStore()
    }
    for (const worker of [w1, w2]) {
      expect((await http(worker.url, 'POST', '/auth/local/login', { body: credentials })).status).toBe(200)
      expect((await http(worker.url, 'POST', '/auth/local/verify-token', { body: { token } })).json.active).toBe(true)
      expect((await http(worker.url, 'GET', '/test/beta-api', { headers: bearer })).json).toEqual({ hello: 'Carol' })
    }
  })
})
