import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { alive, eventually, extraPids, http, mountedTab, signedInUser, startServe, stopAll, tempDir, WAIT_MS, type ServeProcess, type Tab } from '../support/worker-processes.js'

// `wire-auth serve --workers 3`: one primary, three node:cluster workers on
// one port (the BUILT server), sharing one SQLite file and the Redis channel.
// Every new connection may land on another worker, so the tests find out
// which worker answered through the `worker` fragment / GET /test/worker (its pid).

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

let dir: ReturnType<typeof tempDir>
let primary: ServeProcess | undefined
const tabs: Tab[] = []

/** Asks GET /test/worker on fresh connections until `count` distinct live pids answered. */
async function workerPids(count: number, exclude: ReadonlySet<number> = new Set()): Promise<Set<number>> {
  const seen = new Set<number>()
  return eventually(`${count} distinct workers answering`, async () => {
    const pid = (await http(primary!.url, 'GET', '/test/worker')).json.pid as number
    if (!exclude.has(pid)) seen.add(pid)
    for (const p of seen) extraPids.add(p)
    return seen.size >= count ? seen : undefined
  })
}

/** Opens tabs of `cookie` until one is held by each pid of `pids`; closes the surplus. */
async function oneTabPerWorker(cookie: string, pids: ReadonlySet<number>): Promise<Map<number, Awaited<ReturnType<typeof mountedTab>>>> {
  const byPid = new Map<number, Awaited<ReturnType<typeof mountedTab>>>()
  return eventually('a tab on every worker', async () => {
    const opened = await mountedTab(primary!.url, cookie)
    const pid = Number(/<p>(\d+)<\/p>/.exec(opened.regions.pid!.html ?? '')?.[1])
    if (pids.has(pid) && !byPid.has(pid)) {
      byPid.set(pid, opened)
      tabs.push(opened.tab)
    } else {
      opened.tab.close()
    }
    return byPid.size === pids.size ? byPid : undefined
  })
}

beforeAll(async () => {
  dir = tempDir()
  primary = await startServe(
    {
      WA_TEST_SQLITE: join(dir.dir, 'auth.sqlite'),
      WA_TEST_REDIS_URL: REDIS_URL,
      WA_TEST_REDIS_CHANNEL: `wire-auth:test:scale-cluster:${randomBytes(6).toString('hex')}`,
    },
    { workers: 3 },
  )
}, 60_000)

afterAll(async () => {
  for (const t of tabs.splice(0)) t.close()
  await stopAll([primary])
  dir?.cleanup()
})

describe('wire-auth serve --workers 3', { timeout: 90_000 }, () => {
  it('starts three workers on one port, survives a killed worker, forks a new one, and stops them all on SIGTERM', async () => {
    expect(primary!.output()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ with 3 workers/)
    const first = await workerPids(3)
    expect(first.has(primary!.pid)).toBe(false)

    // A user's tabs spread over the three workers; a grant made through any worker reaches them all.
    const ada = await signedInUser(primary!.url, 'Ada')
    const held = await oneTabPerWorker(ada.cookie, first)
    for (const opened of held.values()) expect(opened.regions.beta).toMatchObject({ status: 'denied', code: 'ERR_DENIED' })
    expect((await http(primary!.url, 'POST', '/test/grant', { body: { userId: ada.id, type: 'role', value: 'beta' } })).status).toBe(200)
    for (const opened of held.values()) {
      expect(await opened.tab.render(WAIT_MS)).toEqual([{ id: 'beta', status: 'allowed', html: '<p>beta for Ada</p>' }])
    }

    // Kill one worker: only its socket drops.
    const [victim, ...survivors] = [...first]
    process.kill(victim!, 'SIGKILL')
    expect((await held.get(victim!)!.tab.closed).code).toBe(1006)
    await eventually('the killed worker gone', async () => (alive(victim!) ? undefined : true))
    // The survivors carry on: a session revocation through whichever worker answers reaches both their tabs.
    expect((await http(primary!.url, 'POST', '/test/revoke-session', { cookie: ada.cookie })).status).toBe(200)
    for (const pid of survivors) {
      const { tab } = held.get(pid)!
      await tab.next('signed-out', WAIT_MS)
      expect((await tab.next('principal')).user.authenticated).toBe(false)
    }

    // The client reconnects to the same address and lands on a live worker, with the current state.
    const bob = await signedInUser(primary!.url, 'Bob')
    await http(primary!.url, 'POST', '/test/grant', { body: { userId: bob.id, type: 'role', value: 'beta' } })
    const reconnected = await mountedTab(primary!.url, bob.cookie, 'bob-reconnected')
    tabs.push(reconnected.tab)
    expect(reconnected.principal.user).toEqual({ authenticated: true, id: bob.id, name: 'Bob' })
    expect(reconnected.regions.beta).toEqual({ id: 'beta', status: 'allowed', html: '<p>beta for Bob</p>' })
    expect(Number(/\d+/.exec(reconnected.regions.pid!.html ?? '')?.[0])).not.toBe(victim)

    // The primary replaced the dead worker: three distinct live workers again, one of them new.
    const replacement = await workerPids(1, new Set(first))
    expect([...replacement].every((pid) => alive(pid))).toBe(true)
    expect(primary!.output()).toMatch(new RegExp(`worker ${victim} exited \\(SIGKILL\\); starting a new one`))

    // SIGTERM to the primary stops every worker and exits cleanly.
    for (const t of tabs.splice(0)) t.close()
    await primary!.stop('SIGTERM')
    expect((await primary!.exited).code).toBe(0)
    for (const pid of [...survivors, ...replacement]) {
      await eventually(`worker ${pid} stopped`, async () => (alive(pid) ? undefined : true), 10_000)
    }
  })
})
