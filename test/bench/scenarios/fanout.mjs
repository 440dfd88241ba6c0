// Scenario 2: live fan-out. Users have 10 sockets each; claim changes
// (alternately granting and revoking plan=pro) arrive at 1,000/s; we time
// from the moment app.auth.grantTo/revokeFrom is called until the new
// render (it carries the user row version) reached the LAST of that
// user's 10 sockets.
//   A. one worker, LocalAuthChannel, ~20,000 sockets
//   B. two workers sharing SQLite + RedisAuthChannel, 20,000 sockets; half
//      of the changes are issued on the other worker (they cross Redis)
//   C. three workers, 50,000 sockets (B plus a third worker and more users)
// Servers and clients are separate processes; clocks are aligned by IPC
// ping (offset of the fastest round trip).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SITE_ORIGIN } from '../lib/bench-app.mjs'
import { figure, report, sized } from '../lib/result.mjs'
import { clockOffset, startChild } from '../lib/rpc.mjs'
import { now, summarize } from '../lib/stats.mjs'

const lib = new URL('../lib/', import.meta.url)
const PER_USER = 10
const RATE = 1000
const DRIVE_MS = sized(6000, 1500)
// A worker process may hold at most RLIMIT_NOFILE descriptors (hard 20,000 in
// the reference container): 1,950 users x 10 sockets leaves room for the rest.
const USERS_A = sized(1950, 150)
const USERS_B_PER_WORKER = sized(1000, 100)
const USERS_C_PER_WORKER = sized(1667, 150)
const MOUNT = [
  { id: 'plan', kind: 'region', fragment: 'plan' },
  { id: 'who', kind: 'region', fragment: 'profile' },
]

const dir = mkdtempSync(join(process.env.BENCH_SQLITE_DIR ?? tmpdir(), 'wire-auth-bench-fanout-'))
const children = []
function child(script, name, execArgv = []) {
  const c = startChild(new URL(script, lib), { name, execArgv })
  children.push(c)
  return c
}

/** Times every change: [t0 on the orchestrator clock, last arrival, sockets reached, issuing worker, holding worker]. */
async function collect(workers, clients, userWorker) {
  const changes = new Map()
  for (const w of workers) {
    for (const [user, version, t0] of await w.call('takeStamps')) {
      if (version >= 0) changes.set(user * 1_048_576 + version, { t0: t0 - w.offset, issuer: w.index, holder: userWorker(user), last: 0, reached: 0 })
    }
  }
  let unparsed = 0
  for (const c of clients) {
    const { arrivals, unparsed: u } = await c.call('arrivals', null, 120_000)
    unparsed += u
    for (const [user, version, count, last] of arrivals) {
      const change = changes.get(user * 1_048_576 + version)
      if (change === undefined) continue
      change.reached += count
      change.last = Math.max(change.last, last - c.offset)
    }
  }
  const complete = [...changes.values()].filter((c) => c.reached >= PER_USER)
  return { changes: changes.size, complete, incomplete: changes.size - complete.length, unparsed }
}

async function drive(workers, clients, users, rate) {
  for (const c of clients) await c.call('track', true)
  for (const w of workers) await w.call('eldStart')
  const cpuBefore = await Promise.all(workers.map((w) => w.call('cpu')))
  // Worker k issues the changes of users k, k+n, k+2n… so each user is changed by one worker only.
  await Promise.all(
    workers.map((w, k) =>
      w.call('drive', { rate: rate / workers.length, durationMs: DRIVE_MS, users: users.map((u, i) => [i, u.userId]).filter(([i]) => i % workers.length === k) }, DRIVE_MS + 120_000),
    ),
  )
  await new Promise((resolve) => setTimeout(resolve, 500))
  const cpuAfter = await Promise.all(workers.map((w) => w.call('cpu')))
  const eld = await Promise.all(workers.map((w) => w.call('eldStop')))
  for (const c of clients) await c.call('track', false)
  const cpu = cpuAfter.reduce((sum, a, i) => sum + a.user - cpuBefore[i].user + a.system - cpuBefore[i].system, 0)
  return { eld, cpu }
}

async function align(list) {
  for (const c of list) c.offset = (await clockOffset(c, now)).offset
}

/** Seeds users through `worker`, opens PER_USER sockets each from `client` to `port`. */
async function populate(worker, client, port, count, prefix, userBase) {
  const users = await worker.call('seed', { count, prefix }, 600_000)
  const opened = await client.call('open', { url: `ws://127.0.0.1:${port}/auth/live`, origin: SITE_ORIGIN, users: users.map((u) => u.cookie), perUser: PER_USER, userBase, group: prefix, mount: MOUNT, concurrency: 100 }, 600_000)
  if (opened.failed > 0) throw new Error(`${prefix}: ${opened.failed} sockets failed (${opened.firstError})`)
  return { users, opened }
}

const figures = []
const notes = []
const latencyGoals = {
  p50: [{ op: '<=', target: 2, text: '≤ 2 ms' }],
  p99: [{ op: '<=', target: 10, text: '≤ 10 ms' }],
}
function addLatency(label, stats, extra = {}) {
  figures.push(figure({ label: `${label} p50`, value: stats.p50, unit: 'ms', goals: extra.noGoals ? [] : latencyGoals.p50, note: `${stats.n.toLocaleString('en-US')} changes` }))
  figures.push(figure({ label: `${label} p99`, value: stats.p99, unit: 'ms', goals: extra.noGoals ? [] : latencyGoals.p99, note: `max ${stats.max.toFixed(1)} ms` }))
}
const latencies = (list) => summarize(list.map((c) => c.last - c.t0))

try {
  // ---- A: one worker, LocalAuthChannel
  {
    const worker = child('server-worker.mjs', 'wire-auth A')
    const clientProcs = [child('socket-client.mjs', 'clients A1'), child('socket-client.mjs', 'clients A2')]
    const { port } = await worker.call('start', { mode: 'wire', sqlitePath: join(dir, 'a.sqlite') })
    worker.index = 0
    const half = Math.ceil(USERS_A / 2)
    const started = performance.now()
    const parts = await Promise.all([populate(worker, clientProcs[0], port, half, 'a1', 0), populate(worker, clientProcs[1], port, USERS_A - half, 'a2', half)])
    const openSeconds = (performance.now() - started) / 1000
    const users = [...parts[0].users, ...parts[1].users]
    const sockets = await worker.call('sockets')
    await align([worker, ...clientProcs])
    const { eld, cpu } = await drive([worker], clientProcs, users, RATE)
    const result = await collect([worker], clientProcs, () => 0)
    addLatency(`A. 1 worker, LocalAuthChannel, ${sockets.toLocaleString('en-US')} sockets: change → last of 10 sockets`, latencies(result.complete))
    figures.push(figure({ label: 'A. server CPU per claim change (write + audit + re-render + 10 sends)', value: cpu / 1000 / Math.max(1, result.changes), unit: 'ms', note: `event-loop delay p99 ${eld[0].p99.toFixed(1)} ms, max ${eld[0].max.toFixed(0)} ms` }))
    notes.push(`A: ${users.length} users × ${PER_USER} sockets = ${sockets.toLocaleString('en-US')} sockets opened and mounted in ${openSeconds.toFixed(0)} s; ${result.changes} changes issued at ${RATE}/s for ${DRIVE_MS / 1000} s, ${result.incomplete} did not reach all 10 sockets.`)
    await Promise.allSettled(clientProcs.map((c) => c.stop()))
    await worker.stop(30_000)
  }

  // ---- B: two workers over Redis, then C: three workers, 50,000 sockets
  {
    const redisChannel = `wire-auth:bench:${process.pid}:${Date.now()}`
    const sqlitePath = join(dir, 'shared.sqlite')
    const workers = []
    const clientProcs = []
    const userWorker = []
    let users = []
    const addWorker = async (index) => {
      const w = child('server-worker.mjs', `wire-auth W${index}`)
      const { port } = await w.call('start', { mode: 'wire', sqlitePath, channel: 'redis', redisChannel })
      w.index = index
      w.port = port
      workers.push(w)
      clientProcs.push(child('socket-client.mjs', `clients W${index}`))
    }
    /** Grows worker k's population to `perWorker` users. */
    const grow = async (perWorker) => {
      // Seed sequentially (one SQLite writer at a time), open in parallel.
      const plans = []
      for (let k = 0; k < workers.length; k++) {
        const have = userWorker.filter((x) => x === k).length
        const count = perWorker - have
        if (count <= 0) continue
        const seeded = await workers[k].call('seed', { count, prefix: `w${k}-${have}` }, 600_000)
        const base = users.length
        users = users.concat(seeded)
        for (let i = 0; i < count; i++) userWorker.push(k)
        plans.push({ k, seeded, base })
      }
      const started = performance.now()
      await Promise.all(
        plans.map(async ({ k, seeded, base }) => {
          const opened = await clientProcs[k].call('open', { url: `ws://127.0.0.1:${workers[k].port}/auth/live`, origin: SITE_ORIGIN, users: seeded.map((u) => u.cookie), perUser: PER_USER, userBase: base, group: `g${base}`, mount: MOUNT, concurrency: 100 }, 600_000)
          if (opened.failed > 0) throw new Error(`W${k}: ${opened.failed} sockets failed (${opened.firstError})`)
        }),
      )
      return (performance.now() - started) / 1000
    }
    const measure = async (label, goals) => {
      await align([...workers, ...clientProcs])
      const counts = await Promise.all(workers.map((w) => w.call('sockets')))
      const total = counts.reduce((a, b) => a + b, 0)
      const { eld, cpu } = await drive(workers, clientProcs, users, RATE)
      const result = await collect(workers, clientProcs, (user) => userWorker[user])
      const same = result.complete.filter((c) => c.issuer === c.holder)
      const cross = result.complete.filter((c) => c.issuer !== c.holder)
      return { total, counts, eld, cpu, result, same: latencies(same), cross: latencies(cross), all: latencies(result.complete) }
    }

    await addWorker(0)
    await addWorker(1)
    const openB = await grow(USERS_B_PER_WORKER)
    const b = await measure('B')
    const bLabel = `B. 2 workers + Redis, ${b.total.toLocaleString('en-US')} sockets`
    figures.push(figure({ label: `${bLabel}: change issued on the same worker, p99`, value: b.same.p99, unit: 'ms', goals: latencyGoals.p99, note: `p50 ${b.same.p50.toFixed(2)} ms, ${b.same.n} changes` }))
    figures.push(
      figure({
        label: `${bLabel}: change issued on the other worker (through Redis), p99`,
        value: b.cross.p99,
        unit: 'ms',
        peer: { label: 'same-worker p99, same run', value: b.same.p99 },
        note: `p50 ${b.cross.p50.toFixed(2)} ms, ${b.cross.n} changes`,
      }),
    )
    figures.push(figure({ label: 'B. added by Redis at p99 (other-worker p99 − same-worker p99)', value: b.cross.p99 - b.same.p99, unit: 'ms', goals: [{ op: '<=', target: 2, text: '≤ 2 ms' }], note: `at p50: ${(b.cross.p50 - b.same.p50).toFixed(2)} ms` }))
    notes.push(`B: ${b.counts.map((n) => n.toLocaleString('en-US')).join(' + ')} sockets on 2 workers (opened and mounted in ${openB.toFixed(0)} s) sharing one SQLite file and Redis; each worker issued ${RATE / 2}/s, half to users whose sockets are on the other worker. ${b.result.incomplete} of ${b.result.changes} changes did not reach all 10 sockets. Event-loop delay p99 per worker: ${b.eld.map((e) => e.p99.toFixed(1)).join(', ')} ms.`)

    await addWorker(2)
    const openC = await grow(USERS_C_PER_WORKER)
    const c = await measure('C')
    addLatency(`C. 3 workers + Redis, ${c.total.toLocaleString('en-US')} sockets: change → last of 10 sockets`, c.all)
    notes.push(`C: ${c.counts.map((n) => n.toLocaleString('en-US')).join(' + ')} sockets on 3 workers (the new ones opened and mounted in ${openC.toFixed(0)} s), ${RATE}/s in total; same-worker p99 ${c.same.p99.toFixed(1)} ms, other-worker p99 ${c.cross.p99.toFixed(1)} ms; ${c.result.incomplete} of ${c.result.changes} changes did not reach all 10 sockets. Event-loop delay p99 per worker: ${c.eld.map((e) => e.p99.toFixed(1)).join(', ')} ms.`)
  }

  notes.push('Every socket mounts two regions: "plan" (changes with every claim change: it shows the user row version) and "profile" (unchanged, so not re-sent). Render once per (principal, region) per event is the hub\'s RenderBatch; the 10 sockets of a user share one session.')
  notes.push('Sockets connect from 127.0.0.1 without binding a source address: connect() picks ephemeral ports per destination, and each worker is its own destination, so no worker needs more than 28,000 ports.')
  report({ scenario: 'fanout', title: '2. Live fan-out of claim changes (10 sockets per user, 1,000 changes/s)', figures, notes })
} finally {
  await Promise.allSettled(children.map((c) => c.stop(30_000)))
  rmSync(dir, { recursive: true, force: true })
}
