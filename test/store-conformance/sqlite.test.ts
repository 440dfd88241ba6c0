import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'vitest'
import { SqliteAuthStore } from '../../packages/server/src/lib/store/sqlite-store.js'
import { assertBuilt, expectExactAcrossProcesses } from './multi-process.js'
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
      await expectExactAcrossProcesses(store, { kind: 'sqlite', path })
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
