import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js'
import { byId, http, mountedTab, signedInUser, startServe, stopAll, tempDir, WAIT_MS, type ServeProcess, type Tab } from '../support/worker-processes.js'

// Three `wire-auth serve` processes sharing one SQLite file and a PRIVATE
// redis-server (test/support/redis-server.ts) that the test stops and starts:
// what is changed while Redis is down must reach every socket once it is back.

let dir: ReturnType<typeof tempDir>
let redis: RedisServerHandle
const workers: ServeProcess[] = []
const tabs: Tab[] = []
let late: ServeProcess | undefined
let env: Record<string, string>

const CLAIMS = { t: 'mount', regions: [{ id: 'claims', fragment: 'claims' }] }

/** A tab of the cookie's user on each worker, with MOUNT and the `claims` region mounted. */
async function tabsEverywhere(cookie: string) {
  return Promise.all(
    workers.map(async (worker, i) => {
      const opened = await mountedTab(worker.url, cookie, `w${i + 1}`)
      tabs.push(opened.tab)
      opened.tab.send(CLAIMS)
      await opened.tab.render()
      return opened.tab
    }),
  )
}

function grant(worker: ServeProcess, userId: string, value: string) {
  return http(worker.url, 'POST', '/test/grant', { body: { userId, type: 'role', value } })
}

beforeAll(async () => {
  dir = tempDir()
  redis = await startRedisServer()
  env = { WA_TEST_SQLITE: join(dir.dir, 'auth.sqlite'), WA_TEST_REDIS_URL: redis.url }
  const started = await Promise.allSettled([1, 2, 3].map(() => startServe(env)))
  for (const result of started) if (result.status === 'fulfilled') workers.push(result.value)
  const failed = started.find((result) => result.status === 'rejected')
  if (failed) throw (failed as PromiseRejectedResult).reason
}, 60_000)

afterAll(async () => {
  for (const t of tabs.splice(0)) t.close()
  await stopAll([...workers, late])
  await redis?.close()
  dir?.cleanup()
})

describe('Redis stopped and restarted under three workers', { timeout: 90_000 }, () => {
  it('a grant made during the outage reaches every socket after Redis is back', async () => {
    const ada = await signedInUser(workers[0]!.url, 'Ada')
    const [t1, t2, t3] = await tabsEverywhere(ada.cookie)

    // Fan-out works before the outage.
    expect((await grant(workers[0]!, ada.id, 'alpha')).status).toBe(200)
    for (const t of [t1!, t2!, t3!]) expect(await t.render(WAIT_MS)).toEqual([{ id: 'claims', status: 'allowed', html: '<p>alpha</p>' }])

    await redis.stop()

    // The grant is committed and answered at once; worker 1's own socket updates locally.
    expect((await grant(workers[0]!, ada.id, 'beta')).status).toBe(200)
    expect(byId(await t1!.render(WAIT_MS))).toEqual({
      beta: { id: 'beta', status: 'allowed', html: '<p>beta for Ada</p>' },
      claims: { id: 'claims', status: 'allowed', html: '<p>alpha beta</p>' },
    })
    // The store is the source of truth: worker 2 already answers HTTP with the new claim.
    expect((await http(workers[1]!.url, 'GET', '/test/beta-api', { cookie: ada.cookie })).json).toEqual({ hello: 'Ada' })
    // Its sockets could not hear of it: nothing rendered there yet.
    for (const t of [t2!, t3!]) expect(t.unread().filter((m) => m.t === 'render')).toEqual([])

    await redis.start()

    // Each worker resyncs once its subscriber is back: the missed grant arrives.
    for (const t of [t2!, t3!]) {
      expect(byId(await t.render(WAIT_MS))).toEqual({
        beta: { id: 'beta', status: 'allowed', html: '<p>beta for Ada</p>' },
        claims: { id: 'claims', status: 'allowed', html: '<p>alpha beta</p>' },
      })
    }
    // And the channel carries events again, from any worker.
    await expectFanOut(ada.id, [t1!, t2!, t3!], workers[2]!, 'gamma', '<p>alpha beta gamma</p>')
  })

  it('a session revoked during the outage turns the sockets on every worker anonymous after it', async () => {
    const bob = await signedInUser(workers[1]!.url, 'Bob')
    const [t1, t2, t3] = await tabsEverywhere(bob.cookie)

    await redis.stop()
    expect((await http(workers[2]!.url, 'POST', '/test/revoke-session', { cookie: bob.cookie })).status).toBe(200)
    // The revoked cookie is refused at once on every worker over HTTP.
    for (const worker of workers) expect((await http(worker.url, 'GET', '/auth/me', { cookie: bob.cookie })).json.authenticated).toBe(false)
    await t3!.next('signed-out', WAIT_MS)

    await redis.start()
    for (const t of [t1!, t2!]) {
      await t.next('signed-out', WAIT_MS)
      expect((await t.next('principal')).user).toEqual({ authenticated: false, id: null, name: null })
      expect(byId(await t.render())).toMatchObject({
        acct: { status: 'denied', code: 'ERR_UNAUTHENTICATED' },
        claims: { status: 'denied', code: 'ERR_UNAUTHENTICATED' },
      })
    }
  })

  it('a worker started while Redis is down serves after a bounded wait and joins the fan-out when Redis comes up', async () => {
    const carol = await signedInUser(workers[0]!.url, 'Carol')
    await redis.stop()
    // It waits a bounded time for the channel, then serves anyway.
    late = await startServe(env)
    const onLate = await mountedTab(late.url, carol.cookie, 'late')
    tabs.push(onLate.tab)
    expect(onLate.principal.user).toEqual({ authenticated: true, id: carol.id, name: 'Carol' })
    expect(onLate.regions.beta).toMatchObject({ status: 'denied' })
    expect(late.output()).toMatch(/ERR_CHANNEL_UNAVAILABLE/)

    expect((await grant(workers[0]!, carol.id, 'beta')).status).toBe(200)
    await redis.start()
    // Its first connect came after failures, so it resyncs: the grant made meanwhile arrives.
    expect(await onLate.tab.render(WAIT_MS)).toEqual([{ id: 'beta', status: 'allowed', html: '<p>beta for Carol</p>' }])
    // And later events from the other workers reach it.
    expect((await http(workers[1]!.url, 'POST', '/test/revoke-session', { cookie: carol.cookie })).status).toBe(200)
    await onLate.tab.next('signed-out', WAIT_MS)
  })
})

/** A grant through `via` renders `html` in the `claims` region of every tab. */
async function expectFanOut(userId: string, tabsOfUser: Tab[], via: ServeProcess, value: string, html: string): Promise<void> {
  // Should `via`'s publisher still be reconnecting, the dropped event is healed by its resync notice: either way it arrives.
  expect((await grant(via, userId, value)).status).toBe(200)
  for (const t of tabsOfUser) {
    const regions = byId(await t.render(WAIT_MS))
    expect(regions.claims).toEqual({ id: 'claims', status: 'allowed', html })
  }
}
