import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeMongo, MONGODB_URL } from '../support/mongodb.js'
import { http, mountedTab, signedInUser, startServe, stopAll, tempDir, WAIT_MS, type ServeProcess, type Tab } from '../support/worker-processes.js'

// Three separate `wire-auth serve` processes (the BUILT server; `npm test`
// builds first) on three ports, sharing one store and the Redis channel at
// REDIS_URL (a channel name of their own), as three workers behind a load
// balancer would. Each test addresses a chosen worker directly. The store is
// one SQLite file (WAL); with MONGODB_URL set the same suite also runs on
// MongoDB (a database of its own, dropped afterwards).

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

interface StoreUnderTest {
  /** Environment selecting the store for the fixture config. */
  env(dir: string): Record<string, string>
  cleanup(): Promise<void>
}

const sqlite: StoreUnderTest = {
  env: (dir) => ({ WA_TEST_SQLITE: join(dir, 'auth.sqlite') }),
  cleanup: async () => undefined,
}

function mongodb(): StoreUnderTest {
  const dbName = `wire_auth_scale_${process.pid}_${randomBytes(4).toString('hex')}`
  return {
    env: () => {
      const url = new URL(MONGODB_URL)
      url.pathname = `/${dbName}`
      return { WA_TEST_MONGODB_URL: url.href }
    },
    async cleanup() {
      const client = new MongoClient(MONGODB_URL, { serverSelectionTimeoutMS: 5000 })
      try {
        await client.db(dbName).dropDatabase()
      } finally {
        await client.close()
      }
    },
  }
}

describe('three serve processes on one SQLite file and Redis', { timeout: 90_000 }, () => workersSuite(sqlite))
// MONGODB_URL: FerretDB under `npm test` / `.ci/run` (they start it), or any MongoDB server you name.
describeMongo('three serve processes on MongoDB and Redis', () => workersSuite(mongodb()), { timeout: 90_000 })

function workersSuite(store: StoreUnderTest): void {
  {
    let dir: ReturnType<typeof tempDir>
    const workers: ServeProcess[] = []
    const tabs: Tab[] = []

    async function tab(worker: ServeProcess, cookie: string | undefined, label: string) {
      const opened = await mountedTab(worker.url, cookie, label)
      tabs.push(opened.tab)
      return opened
    }

    beforeAll(async () => {
      dir = tempDir()
      const env = {
        ...store.env(dir.dir),
        WA_TEST_REDIS_URL: REDIS_URL,
        WA_TEST_REDIS_CHANNEL: `wire-auth:test:scale:${randomBytes(6).toString('hex')}`,
      }
      // Started together, as a deployment's workers are: they race to create the schema and the secrets.
      const started = await Promise.allSettled([1, 2, 3].map(() => startServe(env)))
      for (const result of started) if (result.status === 'fulfilled') workers.push(result.value)
      const failed = started.find((result) => result.status === 'rejected')
      if (failed) throw (failed as PromiseRejectedResult).reason
    }, 60_000)

    afterAll(async () => {
      for (const t of tabs.splice(0)) t.close()
      await stopAll(workers)
      await store.cleanup()
      dir?.cleanup()
    })

    it('are three distinct processes, and a session made on worker 1 is valid on workers 2 and 3', async () => {
      const pids = await Promise.all(workers.map(async (w) => (await http(w.url, 'GET', '/test/worker')).json.pid))
      expect(new Set(pids).size).toBe(3)
      const ada = await signedInUser(workers[0]!.url, 'Ada')
      for (const worker of workers) {
        const me = await http(worker.url, 'GET', '/auth/me', { cookie: ada.cookie })
        expect(me.json).toEqual({ authenticated: true, id: ada.id, name: 'Ada' })
      }
    })

    it('a grant through worker 1 updates the user’s sockets on workers 2 and 3 (and only that user’s)', async () => {
      const ada = await signedInUser(workers[0]!.url, 'Ada')
      const bob = await signedInUser(workers[1]!.url, 'Bob')
      const adaTabs = await Promise.all(workers.map((w, i) => tab(w, ada.cookie, `ada@w${i + 1}`)))
      const bobTab = await tab(workers[1]!, bob.cookie, 'bob@w2')
      for (const opened of adaTabs) {
        expect(opened.principal.user).toEqual({ authenticated: true, id: ada.id, name: 'Ada' })
        expect(opened.regions.beta).toMatchObject({ status: 'denied', code: 'ERR_DENIED' })
        expect(opened.regions.acct).toEqual({ id: 'acct', status: 'allowed', html: '<p>Ada</p>' })
      }
      // Each tab is held by the worker it connected to.
      const pids = adaTabs.map((opened) => opened.regions.pid!.html)
      expect(new Set(pids).size).toBe(3)

      const granted = await http(workers[0]!.url, 'POST', '/test/grant', { body: { userId: ada.id, type: 'role', value: 'beta' } })
      expect(granted.status).toBe(200)

      for (const opened of adaTabs) {
        // Only the region whose output changed is sent.
        expect(await opened.tab.render(WAIT_MS)).toEqual([{ id: 'beta', status: 'allowed', html: '<p>beta for Ada</p>' }])
      }
      // The grant persisted: a guarded host route on worker 3 now allows Ada, Bob stays denied.
      expect((await http(workers[2]!.url, 'GET', '/test/beta-api', { cookie: ada.cookie })).json).toEqual({ hello: 'Ada' })
      const denied = await http(workers[2]!.url, 'GET', '/test/beta-api', { cookie: bob.cookie })
      expect(denied.status).toBe(403)
      expect(denied.json.error.code).toBe('ERR_FORBIDDEN')
      // Bob's socket on worker 2 got nothing from Ada's grant: a later mount is the next message.
      bobTab.tab.send({ t: 'mount', regions: [{ id: 'probe', fragment: 'worker' }] })
      expect((await bobTab.tab.render()).map((r) => r.id)).toEqual(['probe'])
      expect(bobTab.tab.unread()).toEqual([])
    })

    it('revoking the session on worker 3 turns the user’s sockets anonymous on every worker', async () => {
      const ada = await signedInUser(workers[0]!.url, 'Ada')
      const adaTabs = await Promise.all(workers.map((w, i) => tab(w, ada.cookie, `ada@w${i + 1}`)))
      for (const opened of adaTabs) expect(opened.principal.user.authenticated).toBe(true)

      const revoked = await http(workers[2]!.url, 'POST', '/test/revoke-session', { cookie: ada.cookie })
      expect(revoked.status).toBe(200)

      for (const opened of adaTabs) {
        await opened.tab.next('signed-out', WAIT_MS)
        expect((await opened.tab.next('principal')).user).toEqual({ authenticated: false, id: null, name: null })
        expect(await opened.tab.render()).toEqual([
          { id: 'beta', status: 'denied', html: '', code: 'ERR_UNAUTHENTICATED' },
          { id: 'acct', status: 'denied', html: '', code: 'ERR_UNAUTHENTICATED' },
        ])
      }
      for (const worker of workers) {
        expect((await http(worker.url, 'GET', '/auth/me', { cookie: ada.cookie })).json).toEqual({ authenticated: false, id: null, name: null })
      }
      // A new socket with the revoked cookie is anonymous too.
      expect((await tab(workers[1]!, ada.cookie, 'ada@w2-again')).principal.user.authenticated).toBe(false)
    })

    // Last: it kills worker 2.
    it('a killed worker leaves the others serving; its tab reconnects to a live worker and is current', async () => {
      const ada = await signedInUser(workers[0]!.url, 'Ada')
      const [t1, t2, t3] = await Promise.all(workers.map((w, i) => tab(w, ada.cookie, `ada@w${i + 1}`)))

      workers[1]!.child.kill('SIGKILL')
      expect((await workers[1]!.exited).signal).toBe('SIGKILL')
      expect((await t2!.tab.closed).code).toBe(1006)

      // The others noticed nothing: a grant through worker 3 reaches worker 1's tab.
      expect((await http(workers[2]!.url, 'POST', '/test/grant', { body: { userId: ada.id, type: 'role', value: 'beta' } })).status).toBe(200)
      for (const opened of [t1!, t3!]) {
        expect(await opened.tab.render(WAIT_MS)).toEqual([{ id: 'beta', status: 'allowed', html: '<p>beta for Ada</p>' }])
      }
      // The client of the dead worker reconnects (the load balancer sends it to worker 3) and re-mounts:
      // same session, the grant made while it was away already applies.
      const again = await tab(workers[2]!, ada.cookie, 'ada@w3-reconnected')
      expect(again.principal.user).toEqual({ authenticated: true, id: ada.id, name: 'Ada' })
      expect(again.regions.beta).toEqual({ id: 'beta', status: 'allowed', html: '<p>beta for Ada</p>' })
      expect((await http(workers[0]!.url, 'GET', '/auth/me', { cookie: ada.cookie })).json.authenticated).toBe(true)
    })
  }
}
