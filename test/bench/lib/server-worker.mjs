// A server process driven over IPC by a scenario: the wire-auth app
// ("wire"), a raw ws echo server ("echo") or a Fastify hello world
// ("hello"). Servers run in their own process so that the load generator
// does not share their core.
import { readFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { writeHeapSnapshot } from 'node:v8'
import Fastify from 'fastify'
import { WebSocketServer } from 'ws'
import { LOREM, buildBenchApp, seedUsers } from './bench-app.mjs'
import { loopDelayCommands, serveRequests } from './rpc.mjs'
import { now, summarize } from './stats.mjs'

let app = null
let echo = null
/** The RedisAuthChannel of a 'wire' server started with channel: 'redis'. */
let redisAuthChannel = null
let reply = ''
let profiler = null
const stamps = []
/** Whether each user driven by this worker holds plan=pro now. */
const planState = new Map()
/** broadcast mode: sockets and message version per user index. */
const byUser = new Map()
const rawVersions = new Map()

function rssBytes() {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))
  return line ? Number(line.replace(/\D+/g, '')) * 1024 : process.memoryUsage().rss
}

function socketCount() {
  if (app?.websocketServer) return app.websocketServer.clients.size
  if (echo) return echo.clients.size
  return 0
}

async function settle() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.()
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

serveRequests({
  clock: () => now(),

  async start({ mode, sqlitePath, mongoUrl, channel, redisChannel, routing, live, helmet, staticReply }) {
    if (mode === 'wire') {
      let chan
      if (channel === 'redis') {
        const { RedisAuthChannel } = await import('@wire-auth/server/redis')
        const quiet = { debug() {}, info() {}, warn() {}, error: (obj, msg) => console.error('redis channel:', msg, obj?.code ?? '') }
        chan = new RedisAuthChannel({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', channel: redisChannel ?? `wire-auth:bench:${process.ppid}`, logger: quiet, routing })
        redisAuthChannel = chan
        await chan.ready()
      }
      app = await buildBenchApp({ sqlitePath, mongoUrl, channel: chan, live, helmet })
      await app.listen({ port: 0, host: '127.0.0.1', backlog: 4096 })
      return { port: app.server.address().port, pid: process.pid }
    }
    if (mode === 'hello') {
      app = Fastify({ logger: false })
      app.get('/', async () => ({ hello: 'world' }))
      await app.listen({ port: 0, host: '127.0.0.1', backlog: 4096 })
      return { port: app.server.address().port, pid: process.pid }
    }
    if (mode === 'static') {
      // Diagnostic peer: Fastify answering a fixed body with fixed headers (what the fragment endpoint sends), no work.
      app = Fastify({ logger: false })
      app.get('/', (_request, reply) => reply.headers(staticReply.headers).send(staticReply.body))
      await app.listen({ port: 0, host: '127.0.0.1', backlog: 4096 })
      return { port: app.server.address().port, pid: process.pid }
    }
    if (mode === 'broadcast') {
      // The floor of live fan-out: a bare ws server that knows each socket's
      // user (cookie "u=<index>") and pushes a render-shaped message of the
      // same size to a user's sockets. No auth, no store, no policy.
      echo = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, backlog: 4096 })
      await new Promise((resolve) => echo.once('listening', resolve))
      echo.on('connection', (ws, request) => {
        const user = Number(/(?:^|;\s*)u=(\d+)/.exec(request.headers.cookie ?? '')?.[1] ?? -1)
        let list = byUser.get(user)
        if (list === undefined) byUser.set(user, (list = []))
        list.push(ws)
        ws.on('message', () => ws.send('{"t":"render","regions":[]}'))
        ws.send('{"t":"principal","user":{"authenticated":true,"id":"raw","name":"raw"}}')
      })
      return { port: echo.address().port, pid: process.pid }
    }
    if (mode === 'echo') {
      echo = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, backlog: 4096 })
      await new Promise((resolve) => echo.once('listening', resolve))
      echo.on('connection', (ws) => {
        ws.on('message', () => ws.send(reply))
      })
      return { port: echo.address().port, pid: process.pid }
    }
    throw new Error(`unknown mode ${mode}`)
  },

  /** The echo server answers every message with a text frame of `bytes` bytes. */
  echoReply({ bytes }) {
    reply = 'x'.repeat(bytes)
    return bytes
  },

  async seed({ count, prefix, claims }) {
    return seedUsers(app.authStore, { count, prefix, claims })
  },

  /**
   * Claim changes at `rate` per second for `durationMs`: `users` ([index,
   * userId] pairs) are taken in turn and alternately granted and revoked
   * `plan=pro`. Each change is stamped just before `app.auth.grantTo` /
   * `revokeFrom` is called; stamps carry the caller's user index.
   */
  async drive({ rate, durationMs, users }) {
    // Another worker may have toggled a user before: read the current state first,
    // so that every change really changes the row (a no-op grant bumps no version).
    for (const [, userId] of users) {
      if (planState.has(userId)) continue
      const row = await app.authStore.getUser(userId)
      planState.set(userId, row?.claims.some((c) => c.type === 'plan' && c.value === 'pro') === true)
    }
    const pending = []
    const startAt = performance.now()
    const deadline = startAt + durationMs
    const total = Math.floor((rate * durationMs) / 1000)
    let fired = 0
    let backlogMax = 0
    await new Promise((resolve) => {
      const tick = () => {
        const t = performance.now()
        const due = Math.min(total, Math.floor(((t - startAt) * rate) / 1000))
        backlogMax = Math.max(backlogMax, due - fired)
        while (fired < due) {
          const [index, userId] = users[fired % users.length]
          const granted = planState.get(userId) === true
          planState.set(userId, !granted)
          const t0 = now()
          const change = granted ? app.auth.revokeFrom(userId, 'plan', 'pro') : app.auth.grantTo(userId, 'plan', 'pro')
          pending.push(change.then((user) => stamps.push([index, user.version, t0, now()]), () => stamps.push([index, -1, t0, now()])))
          fired++
        }
        if (fired >= total || t >= deadline + 5000) resolve()
        else setTimeout(tick, 1)
      }
      tick()
    })
    await Promise.all(pending)
    return { fired, backlogMax, ms: performance.now() - startAt }
  },

  /** The raw peer of drive(): same rate, a same-size message per change to each socket of the user. */
  async driveRaw({ rate, durationMs, users }) {
    const startAt = performance.now()
    const total = Math.floor((rate * durationMs) / 1000)
    let fired = 0
    const body = JSON.stringify(`Pro plan: <p>${LOREM.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')}</p></section>`)
    await new Promise((resolve) => {
      const tick = () => {
        const t = performance.now()
        const due = Math.min(total, Math.floor(((t - startAt) * rate) / 1000))
        while (fired < due) {
          const index = users[fired % users.length]
          const version = (rawVersions.get(index) ?? 1) + 1
          rawVersions.set(index, version)
          const t0 = now()
          const text = `{"t":"render","regions":[{"id":"plan","status":"allowed","html":"<section class=\\"plan\\" data-v=\\"${version}\\">${body.slice(1)}}]}`
          for (const ws of byUser.get(index) ?? []) ws.send(text)
          stamps.push([index, version, t0, now()])
          fired++
        }
        if (fired >= total || t >= startAt + durationMs + 5000) resolve()
        else setTimeout(tick, 1)
      }
      tick()
    })
    return { fired, ms: performance.now() - startAt }
  },

  /** Stamps recorded by drive() since the last call: [userIndex, version, t0, tReturned]. */
  takeStamps() {
    return stamps.splice(0, stamps.length)
  },

  ...loopDelayCommands(),

  cpu: () => process.cpuUsage(),

  /** Counters of the Redis channel (published, received, watchedUsers, …), or null. */
  channelStats: () => redisAuthChannel?.stats() ?? null,

  /** Starts the V8 CPU profiler (to profile one phase, e.g. a drive). */
  async profileStart() {
    profiler = new Session()
    profiler.connect()
    const post = (method, params) => new Promise((resolve, reject) => profiler.post(method, params, (err, result) => (err ? reject(err) : resolve(result))))
    await post('Profiler.enable')
    await post('Profiler.setSamplingInterval', { interval: 200 })
    await post('Profiler.start')
    // BENCH_HEAP_SAMPLING=1: also sample allocations (collected ones included), written beside the CPU profile.
    if (process.env.BENCH_HEAP_SAMPLING) await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
    return true
  },

  /** Stops the profiler and writes the profile to `path` (read it with test/bench/profile-summary.mjs). */
  async profileStop({ path }) {
    const { profile } = await new Promise((resolve, reject) => profiler.post('Profiler.stop', (err, result) => (err ? reject(err) : resolve(result))))
    if (process.env.BENCH_HEAP_SAMPLING) {
      const heap = await new Promise((resolve, reject) => profiler.post('HeapProfiler.stopSampling', (err, result) => (err ? reject(err) : resolve(result))))
      writeFileSync(path.replace(/\.cpuprofile$/, '') + '.heapprofile', JSON.stringify(heap.profile))
    }
    profiler.disconnect()
    profiler = null
    writeFileSync(path, JSON.stringify(profile))
    return path
  },

  /** Memory after a full collection (needs --expose-gc). */
  async mem() {
    await settle()
    const m = process.memoryUsage()
    return { rss: rssBytes(), heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, sockets: socketCount() }
  },

  sockets: () => socketCount(),

  /**
   * Diagnostics (not used by the scenarios): objects on the heap by
   * constructor name, { name: [count, selfBytes] }, from a heap snapshot.
   */
  async heapByConstructor() {
    await settle()
    const file = writeHeapSnapshot()
    const snap = JSON.parse(readFileSync(file, 'utf8'))
    const { node_fields: fields, node_types: [types] } = snap.snapshot.meta
    const width = fields.length
    const typeAt = fields.indexOf('type')
    const nameAt = fields.indexOf('name')
    const sizeAt = fields.indexOf('self_size')
    const out = {}
    for (let i = 0; i < snap.nodes.length; i += width) {
      const type = types[snap.nodes[i + typeAt]]
      const name = type === 'object' || type === 'closure' ? snap.strings[snap.nodes[i + nameAt]] : `(${type})`
      const entry = (out[name] ??= [0, 0])
      entry[0]++
      entry[1] += snap.nodes[i + sizeAt]
    }
    return out
  },

  /** This process's open-files limit (soft, hard) from /proc/self/limits. */
  fdLimit() {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))
    const [soft, hard] = (line ?? '').split(/\s{2,}/).slice(1, 3).map(Number)
    return { soft, hard }
  },

  summarize: (values) => summarize(values),

  async exit() {
    await app?.close()
    echo?.close()
  },
})
