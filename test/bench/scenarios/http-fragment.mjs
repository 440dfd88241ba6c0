// Scenario 4: GET /auth/fragments/card (session cookie -> principal ->
// policy -> ~1 KB render) against a Fastify hello-world route, both
// measured with autocannon in this run, and the same endpoint on
// MongoAuthStore (FerretDB started here, or BENCH_MONGODB_URL) beside the
// SQLite file. Each server runs in its own process; autocannon runs here.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { figure, report, sized } from '../lib/result.mjs'
import { startChild } from '../lib/rpc.mjs'
import { startBenchMongo } from '../lib/mongo.mjs'

const worker = new URL('../lib/server-worker.mjs', import.meta.url)
const SECONDS = sized(5, 1)
const ROUNDS = sized(2, 1)
const CONNECTIONS = 16

const dir = mkdtempSync(join(tmpdir(), 'wire-auth-bench-http-'))
const hello = startChild(worker, { name: 'hello' })
const wire = startChild(worker, { name: 'wire-auth' })
// Diagnostic: the same app with helmet: false (what the security headers cost per request).
const bare = startChild(worker, { name: 'wire-auth-no-helmet' })
// Diagnostic: Fastify sending the fragment endpoint's exact body and headers, without any work.
const same = startChild(worker, { name: 'same-bytes' })
const mongoWire = startChild(worker, { name: 'wire-auth-mongodb' })
let mongo = null
try {
  mongo = await startBenchMongo()
  const { port: helloPort } = await hello.call('start', { mode: 'hello' })
  const { port: wirePort } = await wire.call('start', { mode: 'wire', sqlitePath: join(dir, 'auth.sqlite') })
  const { port: barePort } = await bare.call('start', { mode: 'wire', sqlitePath: join(dir, 'bare.sqlite'), helmet: false })
  const [{ cookie }] = await wire.call('seed', { count: 1, prefix: 'http' })
  const [{ cookie: bareCookie }] = await bare.call('seed', { count: 1, prefix: 'http' })
  const { port: mongoPort } = await mongoWire.call('start', { mode: 'wire', mongoUrl: mongo.url(`wire_auth_bench_http_${process.pid}`) })
  const [{ cookie: mongoCookie }] = await mongoWire.call('seed', { count: 1, prefix: 'http' })
  const targets = {
    hello: { url: `http://127.0.0.1:${helloPort}/`, headers: {} },
    wire: { url: `http://127.0.0.1:${wirePort}/auth/fragments/card?params=${encodeURIComponent('{"item":7}')}`, headers: { cookie } },
    bare: { url: `http://127.0.0.1:${barePort}/auth/fragments/card?params=${encodeURIComponent('{"item":7}')}`, headers: { cookie: bareCookie } },
    mongo: { url: `http://127.0.0.1:${mongoPort}/auth/fragments/card?params=${encodeURIComponent('{"item":7}')}`, headers: { cookie: mongoCookie } },
  }

  // The endpoint must really answer the fragment before anything is timed.
  const check = await fetch(targets.wire.url, { headers: targets.wire.headers })
  const body = await check.text()
  if (check.status !== 200 || !body.includes('data-item="7"')) throw new Error(`fragment endpoint answered ${check.status}: ${body.slice(0, 200)}`)
  const mongoCheck = await fetch(targets.mongo.url, { headers: targets.mongo.headers })
  const mongoBody = await mongoCheck.text()
  if (mongoCheck.status !== 200 || mongoBody !== body) throw new Error(`fragment endpoint on MongoDB answered ${mongoCheck.status}: ${mongoBody.slice(0, 200)}`)
  const bodyBytes = Buffer.byteLength(body)
  // Diagnostic peer: the same body and headers from a route that does nothing else.
  const sent = Object.fromEntries([...check.headers].filter(([name]) => !['date', 'content-length', 'connection', 'keep-alive', 'transfer-encoding'].includes(name)))
  const { port: staticPort } = await same.call('start', { mode: 'static', staticReply: { body, headers: sent } })
  targets.same = { url: `http://127.0.0.1:${staticPort}/`, headers: {} }

  const servers = { hello, wire, bare, same, mongo: mongoWire }
  // Also the server's own CPU time per request: robust when the load generator, not the server, is the limit.
  const run = async (name, duration) => {
    const before = await servers[name].call('cpu')
    const dbBefore = mongo.cpuMs()
    const r = await autocannon({ url: targets[name].url, headers: targets[name].headers, connections: CONNECTIONS, pipelining: 1, duration })
    const after = await servers[name].call('cpu')
    const dbAfter = mongo.cpuMs()
    r.cpuPerRequest = (after.user - before.user + after.system - before.system) / Math.max(1, r.requests.total)
    // The database server's CPU per request (µs), FerretDB only: it shares the machine.
    r.dbCpuPerRequest = dbBefore === null || dbAfter === null ? null : ((dbAfter - dbBefore) * 1000) / Math.max(1, r.requests.total)
    return r
  }
  await run('hello', 1)
  await run('wire', 1)
  await run('mongo', 1)
  const results = { hello: [], wire: [], mongo: [] }
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 === 0 ? ['hello', 'wire', 'mongo'] : ['mongo', 'wire', 'hello']) {
      const r = await run(name, SECONDS)
      if (r.non2xx > 0 || r.errors > 0) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`)
      results[name].push(r)
    }
  }
  const mean = (list, pick) => list.reduce((sum, r) => sum + pick(r), 0) / list.length
  const helloRate = mean(results.hello, (r) => r.requests.average)
  const wireRate = mean(results.wire, (r) => r.requests.average)
  const mongoRate = mean(results.mongo, (r) => r.requests.average)
  const mongoDbCpu = results.mongo.every((r) => r.dbCpuPerRequest !== null) ? mean(results.mongo, (r) => r.dbCpuPerRequest) : null
  const lat = (list, key) => mean(list, (r) => r.latency[key])
  await run('bare', 1)
  const bareRun = await run('bare', SECONDS)
  await run('same', 1)
  const sameRun = await run('same', SECONDS)

  report({
    scenario: 'http',
    title: '4. HTTP fragment endpoint vs Fastify hello world (autocannon)',
    figures: [
      figure({ label: 'Fastify hello world (peer), req/s', value: helloRate, unit: 'req/s', kind: 'rate', note: `latency p50 ${lat(results.hello, 'p50')} ms, p99 ${lat(results.hello, 'p99')} ms` }),
      figure({
        label: `GET /auth/fragments/card (cookie → session → policy → ${bodyBytes} B render), req/s`,
        value: wireRate,
        unit: 'req/s',
        kind: 'rate',
        peer: { label: 'Fastify hello world, same run', value: helloRate },
        goals: [{ on: 'ratio', op: '>=', target: 0.7, text: '≥ 0.7× hello world' }],
        note: `latency p50 ${lat(results.wire, 'p50')} ms, p99 ${lat(results.wire, 'p99')} ms`,
      }),
      figure({
        label: `the same endpoint on MongoAuthStore (${mongo.label}), req/s`,
        value: mongoRate,
        unit: 'req/s',
        kind: 'rate',
        peer: { label: 'the endpoint on SQLite, same run', value: wireRate },
        note: `latency p50 ${lat(results.mongo, 'p50')} ms, p99 ${lat(results.mongo, 'p99')} ms; wire-auth CPU ${mean(results.mongo, (r) => r.cpuPerRequest).toFixed(0)} µs per request${mongoDbCpu === null ? '' : `, FerretDB CPU ${mongoDbCpu.toFixed(0)} µs per request`}`,
      }),
      figure({
        label: 'diagnostic: the same endpoint with helmet: false, req/s',
        value: bareRun.requests.average,
        unit: 'req/s',
        kind: 'rate',
        peer: { label: 'Fastify hello world, same run', value: helloRate },
        note: `server CPU ${bareRun.cpuPerRequest.toFixed(0)} µs per request`,
      }),
      figure({
        label: `diagnostic: Fastify sending the same ${bodyBytes} B body and ${Object.keys(sent).length} headers, no work, req/s`,
        value: sameRun.requests.average,
        unit: 'req/s',
        kind: 'rate',
        peer: { label: 'Fastify hello world, same run', value: helloRate },
        note: `server CPU ${sameRun.cpuPerRequest.toFixed(0)} µs per request: the response alone`,
      }),
      figure({
        label: 'server CPU time per request (fragment endpoint)',
        value: mean(results.wire, (r) => r.cpuPerRequest),
        unit: 'µs',
        peer: { label: 'hello world server CPU per request', value: mean(results.hello, (r) => r.cpuPerRequest) },
        note: `the CPU-bound ceiling of one core is ${Math.round(1e6 / mean(results.wire, (r) => r.cpuPerRequest)).toLocaleString('en-US')} req/s (hello world ${Math.round(1e6 / mean(results.hello, (r) => r.cpuPerRequest)).toLocaleString('en-US')})`,
      }),
    ],
    notes: [
      `autocannon: ${CONNECTIONS} connections, no pipelining, ${ROUNDS} × ${SECONDS} s per target alternating (after 1 s warm-up each); the figure is the mean.`,
      'The wire-auth server is the plugin with its defaults (helmet headers, CORS, rate-limit plugin, session rolling renewal) on a SQLite file.',
      `MongoDB: the same server on MongoAuthStore against ${mongo.label}, measured in the same rounds. Per request it reads the session and its user by _id (the user document, then a probe for a newer version: three point reads, each a loopback round trip to the database process), where SQLite reads one row in process. FerretDB runs on the same 2 cores as the server and autocannon, so its CPU is taken from them.`,
    ],
  })
} finally {
  await Promise.allSettled([hello.stop(), wire.stop(), bare.stop(), same.stop(), mongoWire.stop()])
  await mongo?.stop()
  rmSync(dir, { recursive: true, force: true })
}
