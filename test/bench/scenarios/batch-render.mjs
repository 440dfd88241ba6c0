// Scenario 1: one batch of 20 regions (claim policy + async function policy
// + ~1 KB fragment each) over the live socket, round trip, while 10,000
// other authenticated sockets are open and idle; against a raw ws echo of
// the same byte counts in the same run. Server, echo server and clients
// are three processes.
//
// BENCH_PHASE_PROF=<file.cpuprofile> profiles the server during the measured
// round trips only (not the seeding and socket opening that dominate a
// whole-process BENCH_CPU_PROF profile); read it with profile-summary.mjs.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SITE_ORIGIN } from '../lib/bench-app.mjs'
import { figure, report, sized } from '../lib/result.mjs'
import { startChild } from '../lib/rpc.mjs'
import { summarize } from '../lib/stats.mjs'

const lib = new URL('../lib/', import.meta.url)
const IDLE_USERS = sized(1000, 100)
const IDLE_PER_USER = 10
const MEASURE_SOCKETS = 100
const ROUND_TRIPS = sized(4000, 400)
const BLOCKS = 4
const regions = Array.from({ length: 20 }, (_, i) => ({ id: `r${i}`, kind: 'region', fragment: 'card', policy: 'ItemReader', params: { item: i } }))

const dir = mkdtempSync(join(tmpdir(), 'wire-auth-bench-batch-'))
const server = startChild(new URL('server-worker.mjs', lib), { name: 'wire-auth', execArgv: ['--expose-gc'] })
const echo = startChild(new URL('server-worker.mjs', lib), { name: 'echo' })
const client = startChild(new URL('socket-client.mjs', lib), { name: 'clients' })
try {
  const { port } = await server.call('start', { mode: 'wire', sqlitePath: join(dir, 'auth.sqlite') })
  const { port: echoPort } = await echo.call('start', { mode: 'echo' })
  const url = `ws://127.0.0.1:${port}/auth/live`
  const idleUsers = await server.call('seed', { count: IDLE_USERS, prefix: 'idle' }, 300_000)
  const measureUsers = await server.call('seed', { count: MEASURE_SOCKETS, prefix: 'measure' })

  const idle = await client.call('open', { url, origin: SITE_ORIGIN, users: idleUsers.map((u) => u.cookie), perUser: IDLE_PER_USER, group: 'idle' }, 300_000)
  if (idle.failed > 0) throw new Error(`${idle.failed} idle sockets failed: ${idle.firstError}`)
  const measure = await client.call('open', { url, origin: SITE_ORIGIN, users: measureUsers.map((u) => u.cookie), group: 'measure', mount: regions })
  if (measure.failed > 0) throw new Error(`${measure.failed} measuring sockets failed: ${measure.firstError}`)

  // Warm-up, then learn the byte counts the echo must reproduce.
  const warm = await client.call('mountRoundTrips', { group: 'measure', n: sized(400, 100), regions })
  await echo.call('echoReply', { bytes: warm.replyBytes })
  await client.call('echoRoundTrips', { url: `ws://127.0.0.1:${echoPort}`, n: 200, requestBytes: warm.requestBytes })

  const wireSamples = []
  const echoSamples = []
  let cpu = 0
  const phaseProfile = process.env.BENCH_PHASE_PROF
  for (let b = 0; b < BLOCKS; b++) {
    // The profiler costs CPU too: with it on, the CPU figure is not comparable.
    if (phaseProfile && b === 0) await server.call('profileStart')
    const before = await server.call('cpu')
    const w = await client.call('mountRoundTrips', { group: 'measure', n: ROUND_TRIPS / BLOCKS, regions })
    const after = await server.call('cpu')
    cpu += after.user - before.user + after.system - before.system
    if (phaseProfile && b === BLOCKS - 1) await server.call('profileStop', { path: phaseProfile })
    wireSamples.push(...w.samples)
    const e = await client.call('echoRoundTrips', { url: `ws://127.0.0.1:${echoPort}`, n: ROUND_TRIPS / BLOCKS, requestBytes: warm.requestBytes })
    echoSamples.push(...e.samples)
  }
  const openDuring = await server.call('sockets')
  const w = summarize(wireSamples)
  const e = summarize(echoSamples)
  const bytes = `${warm.requestBytes} B up, ${warm.replyBytes} B down`

  report({
    scenario: 'batch',
    title: '1. Batch render over the live socket (20 regions) with 10,000 idle sockets',
    figures: [
      figure({ label: `raw ws echo round trip p50 (peer, ${bytes})`, value: e.p50, unit: 'ms' }),
      figure({ label: 'raw ws echo round trip p99 (peer)', value: e.p99, unit: 'ms' }),
      figure({
        label: 'mount of 20 regions → render, round trip p50',
        value: w.p50,
        unit: 'ms',
        peer: { label: 'raw ws echo p50, same bytes, same run', value: e.p50 },
        goals: [
          { op: '<=', target: 1, text: '≤ 1 ms' },
          { on: 'ratio', op: '<=', target: 1.5, text: '≤ 1.5× echo' },
        ],
      }),
      figure({
        label: 'mount of 20 regions → render, round trip p99',
        value: w.p99,
        unit: 'ms',
        peer: { label: 'raw ws echo p99, same bytes, same run', value: e.p99 },
        goals: [{ op: '<=', target: 3, text: '≤ 3 ms' }],
      }),
      figure({ label: 'server CPU time per batch of 20 regions', value: cpu / 1000 / wireSamples.length, unit: 'ms', note: `${((cpu / wireSamples.length) / 20).toFixed(0)} µs per region` }),
    ],
    notes: [
      `${openDuring.toLocaleString('en-US')} sockets open on the server during the measurement (${idle.opened.toLocaleString('en-US')} idle, ${IDLE_PER_USER} per user, + ${MEASURE_SOCKETS} measuring); idle sockets opened in ${(idle.ms / 1000).toFixed(1)} s.`,
      `${wireSamples.length} sequential round trips, in ${BLOCKS} blocks alternating with the echo; each batch re-mounts the same 20 region ids on one of ${MEASURE_SOCKETS} sockets in turn (each stays under live.messagesPerSecond).`,
      'Each region: fragment "card" guarded by the claim policy Member, plus the element policy ItemReader (async function on params); ~1 KB of escaped HTML.',
    ],
  })
} finally {
  await Promise.allSettled([client.stop(), echo.stop(), server.stop(15_000)])
  rmSync(dir, { recursive: true, force: true })
}
