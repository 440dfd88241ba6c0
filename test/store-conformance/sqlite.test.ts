import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SqliteAuthStore } from '../../packages/server/src/lib/store/sqlite-store.js'
import { claimSet } from './harness.js'
import { assertBuilt, runClaimWorkers } from './multi-process.js'
import { runStoreConformance } from './suite.js'

// A real SQLite file in a fresh temp directory per test.
runStoreConformance('SqliteAuthStore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wire-auth-conformance-'))
  const path = join(dir, 'auth.sqlite')
  const opened: SqliteAuthStore[] = [new SqliteAuthStore({ path })]
  return {
    store: opened[0]!,
    reopen: async () => {
      const store = new SqliteAuthStore(path)
      opened.push(store)
      return store
    },
    cleanup: async () => {
      for (const store of opened) await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})

describe('SqliteAuthStore shared by several processes', () => {
  it('3 processes hammering addClaim / removeClaim on one user end exactly right', async () => {
    assertBuilt('lib/store/sqlite-store.js')
    const dir = mkdtempSync(join(tmpdir(), 'wire-auth-multiprocess-'))
    const path = join(dir, 'auth.sqlite')
    const store = new SqliteAuthStore(path)
    try {
      await store.init()
      const workers = 3
      const count = 20
      const old = []
      for (let k = 0; k < workers; k++) for (let i = 0; i < count; i++) old.push({ type: 'old', value: `w${k}-o${i}` })
      const user = await store.createUser({ email: 'multi@example.test', name: 'Multi', passwordHash: null, claims: [{ type: 'keep', value: 'yes' }, ...old] })
      const session = { id: 's1', userId: user.id, name: user.name, claims: user.claims, userVersion: user.version, createdAt: 1, lastSeenAt: 1, idleExpiresAt: Date.now() + 600_000, absoluteExpiresAt: Date.now() + 600_000, ip: null, userAgent: null }
      await store.createSession(session)

      const versions = await runClaimWorkers({ store: { kind: 'sqlite', path }, userId: user.id, workers, count })

      const expected = [{ type: 'keep', value: 'yes' }]
      for (let k = 0; k < workers; k++) for (let i = 0; i < count; i++) expected.push({ type: 'new', value: `w${k}-n${i}` })
      const final = (await store.getUser(user.id))!
      expect(claimSet(final.claims)).toEqual(claimSet(expected))
      // Every one of the 120 changes bumped the version exactly once: no lost or merged writes.
      expect(final.version).toBe(user.version + workers * count * 2)
      expect(new Set(versions.flat()).size).toBe(workers * count * 2)
      const snapshot = (await store.getSession('s1'))!
      expect(snapshot.userVersion).toBe(final.version)
      expect(claimSet(snapshot.claims)).toEqual(claimSet(expected))
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
