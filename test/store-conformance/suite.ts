import { describe } from 'vitest'
import type { AuthStore } from '../../packages/server/src/lib/store/auth-store.js'
import { useStore, type StoreHarness } from './harness.js'
import { accountSuites } from './suite-account.js'
import { recordSuites } from './suite-records.js'
import { userSuites } from './suite-users.js'

export { expectCode, type StoreHarness } from './harness.js'

/**
 * Registers the one conformance suite every {@link AuthStore} must pass.
 *
 * `makeStore` is called before every test and returns a fresh, empty store
 * (not yet initialised: the suite calls `init()`), optionally `reopen` (a new
 * store on the same data, used after the first was closed) and `cleanup`
 * (closes what it opened and deletes the data).
 *
 * @example
 * ```ts
 * runStoreConformance('SqliteAuthStore', async () => {
 *   const dir = mkdtempSync(join(tmpdir(), 'wa-'))
 *   const store = new SqliteAuthStore(join(dir, 'db.sqlite'))
 *   return { store, reopen: async () => new SqliteAuthStore(join(dir, 'db.sqlite')), cleanup: async () => { … } }
 * })
 * ```
 */
export function runStoreConformance(name: string, makeStore: () => Promise<{ store: AuthStore; reopen?: () => Promise<AuthStore>; cleanup: () => Promise<void> }>): void {
  const make = makeStore as () => Promise<StoreHarness>
  describe(`${name} conformance`, () => {
    const ctx = useStore(make)
    userSuites(ctx)
    recordSuites(ctx)
    accountSuites(ctx)
  })
}
