export { MongoAuthStore } from './lib/store/mongodb-entry.js'
export type { MongoAuthStoreOptions } from './lib/store/mongodb-store.js'
