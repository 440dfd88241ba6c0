import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { http, signedInUser, stopAll, Tab, tempDir, type ServeProcess, startServers } from '../support/worker-processes.js'

// app.auth.refresh across workers: two `wire-auth serve` processes (the BUILT
// server) share one SQLite file, a data file the CanReadDoc policy reads, and
// the real Redis at REDIS_URL on a channel of their own. A document's access
// list changes on worker 2; the tabs on worker 1 follow, without any claim or
// session event.

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const MOUNT = {
  t: 'mount',
  regions: [
    { id: 'd1', fragment: 'doc', params: { docId: 'd1' } },
    { id: 'd2', fragment: 'doc', params: { docId: 'd2' } },
  ],
}

describe('app.auth.refresh across two workers through Redis', { timeout: 90_000 }, () => {
  let dir: ReturnType<typeof tempDir>
  const workers: ServeProcess[] = []
  const tabs: Tab[] = []

  beforeAll(async () => {
    dir = tempDir()
    const env = {
      WA_TEST_SQLITE: join(dir.dir, 'auth.sqlite'),
      WA_TEST_DOC_ACCESS: join(dir.dir, 'doc-access.json'),
      WA_TEST_REDIS_URL: REDIS_URL,
      WA_TEST_REDIS_CHANNEL: `wire-auth:test:refresh:${randomBytes(6).toString('hex')}`,
    }
    await startServers(workers, env)
  }, 60_000)

  afterAll(async () => {
    for (const tab of tabs.splice(0)) tab.close()
    await stopAll(workers)
    dir?.cleanup()
  })

  async function open(worker: ServeProcess, cookie: string | undefined, label: string) {
    const tab = await Tab.open(worker.url, cookie, label)
    tabs.push(tab)
    await tab.next('principal')
    tab.send(MOUNT)
    return { tab, first: await tab.render() }
  }

  it('a change of access made on worker 2 reaches the matching regions of tabs on worker 1, and only those', async () => {
    const [one, two] = workers as [ServeProcess, ServeProcess]
    const ada = await signedInUser(one.url, 'Ada')
    const bob = await signedInUser(one.url, 'Bob')
    const adaTab = await open(one, ada.cookie, 'ada@1')
    const bobTab = await open(one, bob.cookie, 'bob@1')
    for (const { first } of [adaTab, bobTab]) expect(first.map((r) => [r.id, r.status])).toEqual([['d1', 'denied'], ['d2', 'denied']])

    expect((await http(two.url, 'POST', '/test/doc-access', { body: { docId: 'd1', readers: [ada.id] } })).status).toBe(200)
    expect(await adaTab.tab.render(10_000)).toEqual([{ id: 'd1', status: 'allowed', html: '<p>doc d1</p>' }])

    // Everyone may read d2 now: both tabs get d2 and nothing else.
    expect((await http(two.url, 'POST', '/test/doc-access', { body: { docId: 'd2', readers: ['*'] } })).status).toBe(200)
    expect(await adaTab.tab.render(10_000)).toEqual([{ id: 'd2', status: 'allowed', html: '<p>doc d2</p>' }])
    expect(await bobTab.tab.render(10_000)).toEqual([{ id: 'd2', status: 'allowed', html: '<p>doc d2</p>' }])
    // Bob's d1 did not change, so he got nothing for the first change.
    expect(bobTab.tab.unread().filter((m) => m.t === 'render')).toEqual([])

    // Taken away again on worker 2: Ada's tab on worker 1 loses it live.
    expect((await http(two.url, 'POST', '/test/doc-access', { body: { docId: 'd1', readers: [] } })).status).toBe(200)
    expect(await adaTab.tab.render(10_000)).toEqual([{ id: 'd1', status: 'denied', html: '', code: 'ERR_DENIED' }])
  })
})
