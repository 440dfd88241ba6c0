// Scenario 11: what one claim change costs the workers as their number
// grows, with the channel's per-user routing (default) and with broadcast
// routing (every event to every worker). N workers share one SQLite file
// and Redis; each holds the sockets of its own users; changes at RATE/s
// are issued round-robin by every worker for users anywhere (most cross
// Redis). Reported: channel messages received per worker per change, and
// the CPU of all workers together per change.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SITE_ORIGIN } from '../lib/bench-app.mjs'
import { settle } from '../lib/live-measure.mjs'
import { figure, report, sized } from '../lib/result.mjs'
import { startChild } from '../lib/rpc.mjs'

const lib = new URL('../lib/', import.meta.url)
const SIZES = sized([2, 4, 8], [2, 4])
const USERS_PER_WORKER = sized(50, 10)
const PER_USER = 2
const RATE = 200
const DRIVE_MS = sized(4000, 1000)
const MOUNT = [{ id: 'plan', kind: 'region', fragment: 'plan' }]

const dir = mkdtempSync(join(tmpdir(), 'wire-auth-bench-channel-'))
const cpuMs = (before, after) => (after.user - before.user + after.system - before.system) / 1000

async function measure(n, routing) {
  const children = []
  const child = (script, name) => {
    const c = startChild(new URL(script, lib), { name })
    children.push(c)
    return c
  }
  try {
    const sqlitePath = join(dir, `${routing}-${n}.sqlite`)
    const redisChannel = `wire-auth:bench:scale:${process.pid}:${routing}:${n}:${Date.now()}`
    const workers = []
    for (let k = 0; k < n; k++) {
      const w = child('server-worker.mjs', `W${k} ${routing}`)
      w.port = (await w.call('start', { mode: 'wire', sqlitePath, channel: 'redis', redisChannel, routing })).port
      workers.push(w)
    }
    const clients = child('socket-client.mjs', 'clients')
    let users = []
    for (let k = 0; k < n; k++) {
      // Seed one worker at a time (one SQLite writer), then open that worker's sockets.
      const seeded = await workers[k].call('seed', { count: USERS_PER_WORKER, prefix: `${routing}-${n}-w${k}` }, 600_000)
      const opened = await clients.call('open', { url: `ws://127.0.0.1:${workers[k].port}/auth/live`, origin: SITE_ORIGIN, users: seeded.map((u) => u.cookie), perUser: PER_USER, userBase: users.length, group: `w${k}`, mount: MOUNT, concurrency: 50 }, 600_000)
      if (opened.failed > 0) throw new Error(`W${k}: ${opened.failed} sockets failed (${opened.firstError})`)
      users = users.concat(seeded)
    }
    await new Promise((resolve) => setTimeout(resolve, 500)) // the subscription hints settle
    // What the workers burn with no change at all over the same time (ping sweeps, checkpoints, health PINGs):
    // subtracted below, so that the figure is what a change adds.
    const idleBefore = await Promise.all(workers.map((w) => w.call('cpu')))
    await new Promise((resolve) => setTimeout(resolve, DRIVE_MS))
    const idleAfter = await Promise.all(workers.map((w) => w.call('cpu')))
    const idle = idleAfter.reduce((sum, a, k) => sum + cpuMs(idleBefore[k], a), 0)
    const statsBefore = await Promise.all(workers.map((w) => w.call('channelStats')))
    const cpuBefore = await Promise.all(workers.map((w) => w.call('cpu')))
    // Worker k issues the changes of users k, k+n, k+2n…: most of them live on another worker.
    const list = users.map((u, i) => [i, u.userId])
    await Promise.all(workers.map((w, k) => w.call('drive', { rate: RATE / n, durationMs: DRIVE_MS, users: list.filter(([i]) => i % n === k) }, DRIVE_MS + 120_000)))
    await settle([clients])
    const cpuAfter = await Promise.all(workers.map((w) => w.call('cpu')))
    const statsAfter = await Promise.all(workers.map((w) => w.call('channelStats')))
    const changes = statsAfter.reduce((sum, s, k) => sum + s.published - statsBefore[k].published, 0)
    const received = statsAfter.map((s, k) => s.received - statsBefore[k].received)
    const cpu = cpuAfter.reduce((sum, a, k) => sum + cpuMs(cpuBefore[k], a), 0)
    return {
      changes,
      receivedPerWorkerPerChange: received.reduce((a, b) => a + b, 0) / n / Math.max(1, changes),
      receivedPerChange: received.reduce((a, b) => a + b, 0) / Math.max(1, changes),
      cpuPerChange: (cpu - idle) / Math.max(1, changes),
      idleMsPerSecond: (idle / DRIVE_MS) * 1000,
      sockets: users.length * PER_USER,
    }
  } finally {
    await Promise.allSettled(children.map((c) => c.stop(30_000)))
  }
}

const figures = []
const notes = []
try {
  const results = {}
  for (const n of SIZES) {
    for (const routing of ['user', 'broadcast']) {
      results[`${routing}${n}`] = await measure(n, routing)
      console.error(`bench channel: ${n} workers, ${routing}: ${JSON.stringify(results[`${routing}${n}`])}`)
    }
  }
  for (const n of SIZES) {
    const user = results[`user${n}`]
    const broadcast = results[`broadcast${n}`]
    figures.push(
      figure({
        label: `${n} workers: channel messages received per change, all workers together (per-user routing)`,
        value: user.receivedPerChange,
        unit: 'msgs',
        peer: { label: 'broadcast routing', value: broadcast.receivedPerChange },
        goals: [{ op: '<=', target: 1, text: '≤ 1 per change, whatever the workers' }],
        note: `per worker: ${user.receivedPerWorkerPerChange.toFixed(3)} vs ${broadcast.receivedPerWorkerPerChange.toFixed(3)}; ${user.changes} changes, ${user.sockets} sockets`,
      }),
    )
    figures.push(
      figure({
        label: `${n} workers: CPU all workers add per change (per-user routing)`,
        value: user.cpuPerChange,
        unit: 'ms',
        peer: { label: 'broadcast routing', value: broadcast.cpuPerChange },
        note: `idle CPU of the ${n} workers without changes: ${user.idleMsPerSecond.toFixed(1)} ms/s (subtracted)`,
      }),
    )
  }
  const first = results[`user${SIZES[0]}`].cpuPerChange
  const last = results[`user${SIZES.at(-1)}`].cpuPerChange
  figures.push(
    figure({
      label: `CPU per change at ${SIZES.at(-1)} workers vs ${SIZES[0]} (per-user routing)`,
      value: last,
      unit: 'ms',
      peer: { label: `${SIZES[0]} workers`, value: first },
      goals: [{ on: 'ratio', op: '<=', target: 1.5, text: '≤ 1.5× (does not grow with the workers)' }],
    }),
  )
  notes.push(`${USERS_PER_WORKER} users × ${PER_USER} sockets per worker (one region each), ${RATE} changes/s in total for ${DRIVE_MS / 1000} s, issued round-robin by every worker for users held anywhere; one shared SQLite file, one Redis. All processes share the machine's 2 cores, so at 8 workers every figure includes scheduling between them.`)
  notes.push('CPU per change is the CPU of every worker during the drive minus what the same workers used over the same time with no change (measured just before), divided by the changes.')
  notes.push('Broadcast routing delivers each change to every other worker (n − 1 messages), each of which looks the user up in its hub and finds no socket; per-user routing delivers it to the worker that holds the sockets (1 message; 0 when the issuing worker holds them itself).')
  report({ scenario: 'channel', title: '11. Channel cost as workers are added (Redis, per-user vs broadcast routing)', figures, notes })
} finally {
  rmSync(dir, { recursive: true, force: true })
}
