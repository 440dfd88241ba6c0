import { requireOptional } from '../optional-dependency.js'
import type * as MongoStore from './mongodb-store.js'

// `mongodb` is an optional peer dependency. A static import of the store would
// fail while Node links the module graph, before any code runs, with
// ERR_MODULE_NOT_FOUND; checking first, then loading, makes it a coded error.
await requireOptional('mongodb', '@wire-auth/server/mongodb', () => import('mongodb'))
const store: typeof MongoStore = await import('./mongodb-store.js')

/**
 * The MongoDB store (also FerretDB).
 * Needs the `mongodb` package installed beside `@wire-auth/server`; without
 * it, importing `@wire-auth/server/mongodb` rejects with
 * `ERR_OPTIONAL_DEPENDENCY_MISSING`.
 */
export const MongoAuthStore: typeof MongoStore.MongoAuthStore = store.MongoAuthStore
export type MongoAuthStore = MongoStore.MongoAuthStore
