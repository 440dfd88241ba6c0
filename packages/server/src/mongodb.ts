import { requireOptional } from './lib/optional-dependency.js'
import type * as MongoStore from './lib/store/mongodb-store.js'

// `mongodb` is an optional peer dependency: check it is installed before
// loading the store, which imports it statically.
await requireOptional('mongodb', '@wire-auth/server/mongodb', () => import('mongodb'))
const store: typeof MongoStore = await import('./lib/store/mongodb-store.js')

/**
 * The MongoDB store (also FerretDB). Needs the `mongodb` package installed
 * beside `@wire-auth/server`; without it, importing this entry rejects with
 * `ERR_OPTIONAL_DEPENDENCY_MISSING`.
 */
export const MongoAuthStore: typeof MongoStore.MongoAuthStore = store.MongoAuthStore
export type MongoAuthStore = MongoStore.MongoAuthStore
export type { MongoAuthStoreOptions } from './lib/store/mongodb-store.js'
