import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, extraPids, http, mountedTab, signedInUser, startServe, stopAll, tempDir, WAIT_MS, type ServeProcess, type Tab } from '../support/worker-processes.js'

// `wire-auth serve --workers 2` with no Redis configured: the workers of one
// machine still share claim changes, relayed by the primary over the cluster's
// IPC channel. (Regression: each worker used to keep its events to itself, so
// a grant reached only the tabs held by the worker that made it.)

let dir: ReturnType<typeof tempDir>
let primary: ServeProcess | undefined
const tabs: Tab[] = []

beforeAll(async () => {
  dir = tempDir()
  primary = await startServe({ WA_TEST_SQLITE: join(dir.dir, 'auth.sqlite') }, { workers: 2 })
}, 60_000)

afterAll(async () => {
  for (const t of tabs.splice(0)) t.close()
  await stopAll([primary])
  dir?.cleanup()
})

describe('wire-auth serve --workers 2 without Redis', { timeout: 90_000 }, () => {
  it('a grant and a session revocation made on one worker reach the tabs on the other', async () => {
    const ada = await signedInUser(primary!.url, 'Ada')
    // Fresh connections alternate between the workers: open tabs until both hold one.
    const byPid = await eventually('a tab on each worker', async () => {
      const opened = await mountedTab(primary!.url, ada.cookie)
      tabs.push(opened.tab)
      const pids = new Map<string, Tab>()
      for (const t of tabs) {
        const render = t.messages.find((m) => m.t === 'render')
        const pid = (render?.regions as { id: string; html: string }[] | undefined)?.find((r) => r.id === 'pid')?.html
        if (pid !== undefined && !pids.has(pid)) pids.set(pid, t)
      }
      return pids.size === 2 ? pids : undefined
    })
    for (const pid of byPid.keys()) extraPids.add(Number(/\d+/.exec(pid)?.[0]))

    // Whichever worker answers the grant, the other worker's tab needs the relay.
    expect((await http(primary!.url, 'POST', '/test/grant', { body: { userId: ada.id, type: 'role', value: 'beta' } })).status).toBe(200)
    for (const t of byPid.values()) {
      expect(await t.render(WAIT_MS)).toEqual([{ id: 'beta', status: 'allowed', html: '<p>beta for Ada</p>' }])
    }
    expect((await http(primary!.url, 'POST', '/test/revoke-session', { cookie: ada.cookie })).status).toBe(200)
    for (const t of byPid.values()) {
      await t.next('signed-out', WAIT_MS)
      expect((await t.next('principal')).user.authenticated).toBe(false)
    }
  })
})
