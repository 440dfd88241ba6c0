export { MongoAuthStore } from './lib/store/mongodb-store.js'
export type { MongoAuthStoreOptions } from './lib/store/mongodb-store.js'
