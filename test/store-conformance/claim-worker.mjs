// Child process of the multi-process conformance tests. Node 20 cannot run
// TypeScript, so this imports the BUILT stores from packages/server/dist
// (`npm test` builds first). Usage: node claim-worker.mjs '<json config>'
//   { kind: 'sqlite', path } | { kind: 'mongodb', url, dbName }
//   + { userId, worker, count }
// Prints "ready", waits for "go" on stdin, then runs `count` addClaim
// ('new', 'w<worker>-n<i>') and `count` removeClaim('old', 'w<worker>-o<i>')
// calls concurrently and prints one JSON line { versions }.
import { createInterface } from 'node:readline'

const config = JSON.parse(process.argv[2] ?? '{}')
const dist = new URL('../../packages/server/dist/', import.meta.url)

async function openStore() {
  if (config.kind === 'sqlite') {
    const { SqliteAuthStore } = await import(new URL('lib/store/sqlite-store.js', dist).href)
    return new SqliteAuthStore({ path: config.path, busyTimeoutMs: 20_000 })
  }
  if (config.kind === 'mongodb') {
    const { MongoAuthStore } = await import(new URL('mongodb.js', dist).href)
    return new MongoAuthStore({ url: config.url, dbName: config.dbName })
  }
  throw new Error(`unknown store kind ${config.kind}`)
}

const store = await openStore()
await store.init()
const lines = createInterface({ input: process.stdin })
process.stdout.write('ready\n')
for await (const line of lines) if (line.trim() === 'go') break
lines.close()

const ops = []
for (let i = 0; i < config.count; i++) {
  ops.push(store.addClaim(config.userId, { type: 'new', value: `w${config.worker}-n${i}` }))
  ops.push(store.removeClaim(config.userId, 'old', `w${config.worker}-o${i}`))
}
const changes = await Promise.all(ops)
await store.close()
process.stdout.write(`${JSON.stringify({ versions: changes.map((change) => change.user.version) })}\n`)
