// Scenario 3: idle authenticated sockets held by one worker, and the
// worker's resident memory per socket (RSS and V8 heap after a full GC,
// before and after opening them; the clients live in another process).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SITE_ORIGIN } from '../lib/bench-app.mjs'
import { figure, report, sized } from '../lib/result.mjs'
import { startChild } from '../lib/rpc.mjs'

const lib = new URL('../lib/', import.meta.url)
const PER_USER = 10
const WARM_USERS = 10
const dir = mkdtempSync(join(tmpdir(), 'wire-auth-bench-held-'))
const RAW_SOCKETS = sized(5000, 1000)
const server = startChild(new URL('server-worker.mjs', lib), { name: 'wire-auth', execArgv: ['--expose-gc'] })
const client = startChild(new URL('socket-client.mjs', lib), { name: 'clients' })
try {
  // Peer: a bare ws server holding idle sockets (what the socket itself costs).
  const rawServer = startChild(new URL('server-worker.mjs', lib), { name: 'raw ws', execArgv: ['--expose-gc'] })
  const rawClient = startChild(new URL('socket-client.mjs', lib), { name: 'clients raw' })
  let rawPerSocket
  try {
    const { port: rawPort } = await rawServer.call('start', { mode: 'broadcast' })
    const rawOpen = (from, to) => rawClient.call('open', { url: `ws://127.0.0.1:${rawPort}/`, origin: SITE_ORIGIN, users: Array.from({ length: to - from }, (_, i) => `u=${from + i}`), group: `raw${from}`, concurrency: 100 }, 300_000)
    await rawOpen(0, 100)
    const b = await rawServer.call('mem')
    await rawOpen(100, RAW_SOCKETS)
    const a = await rawServer.call('mem')
    rawPerSocket = { rss: (a.rss - b.rss) / (a.sockets - b.sockets) / 1024, heap: (a.heapUsed - b.heapUsed) / (a.sockets - b.sockets) / 1024, sockets: a.sockets }
  } finally {
    await Promise.allSettled([rawClient.stop(), rawServer.stop(30_000)])
  }

  const { port } = await server.call('start', { mode: 'wire', sqlitePath: join(dir, 'auth.sqlite') })
  const limit = await server.call('fdLimit')
  // Every socket is a descriptor in the worker: stay below its hard limit.
  const target = Math.min(sized(19_500, 1_500), Math.floor((limit.hard - 300) / PER_USER) * PER_USER)
  const users = await server.call('seed', { count: target / PER_USER, prefix: 'held' }, 600_000)
  const url = `ws://127.0.0.1:${port}/auth/live`
  const open = (list, group) => client.call('open', { url, origin: SITE_ORIGIN, users: list.map((u) => u.cookie), perUser: PER_USER, group, concurrency: 100 }, 900_000)

  // Baseline after a few sockets, so code loaded and compiled on first use is not counted.
  const warm = await open(users.slice(0, WARM_USERS), 'warm')
  const before = await server.call('mem')
  const rest = await open(users.slice(WARM_USERS), 'idle')
  if (warm.failed + rest.failed > 0) throw new Error(`${warm.failed + rest.failed} sockets failed: ${warm.firstError ?? rest.firstError}`)
  const after = await server.call('mem')
  const added = after.sockets - before.sockets
  const perSocket = (key) => (after[key] - before[key]) / added / 1024
  const rssPerSocket = perSocket('rss')
  const extrapolated = (before.rss + 50_000 * rssPerSocket * 1024) / 1024 / 1024

  report({
    scenario: 'held',
    title: '3. Idle authenticated sockets held by one worker',
    figures: [
      figure({
        label: 'idle authenticated sockets held by one worker',
        value: after.sockets,
        unit: 'sockets',
        kind: 'rate',
        goals: [{ op: '>=', target: 50_000, text: '≥ 50,000', unmeasurable: after.sockets < 50_000 && limit.hard < 50_100 }],
        note: `the worker's open-files limit here is ${limit.hard.toLocaleString('en-US')} (hard limit; raising it needs CAP_SYS_RESOURCE), so no worker can hold 50,000 sockets on this machine; at the measured cost per socket, 50,000 would take ≈ ${extrapolated.toFixed(0)} MiB RSS`,
      }),
      figure({
        label: 'resident memory (RSS) per idle socket',
        value: rssPerSocket,
        unit: 'KiB',
        peer: { label: `bare ws server, ${rawPerSocket.sockets.toLocaleString('en-US')} idle sockets`, value: rawPerSocket.rss },
        goals: [{ op: '<=', target: 16, text: '≤ 16 KiB' }],
        note: `RSS ${(before.rss / 1048576).toFixed(0)} → ${(after.rss / 1048576).toFixed(0)} MiB for ${added.toLocaleString('en-US')} sockets`,
      }),
      figure({ label: 'V8 heap per idle socket (after full GC)', value: perSocket('heapUsed'), unit: 'KiB', peer: { label: 'bare ws server', value: rawPerSocket.heap } }),
      figure({ label: 'external + array buffers per idle socket', value: perSocket('external'), unit: 'KiB' }),
      figure({ label: 'time to open and authenticate one socket (100 in flight)', value: (rest.ms / rest.opened) * 1000, unit: 'µs', note: `${Math.round(rest.opened / (rest.ms / 1000)).toLocaleString('en-US')} sockets/s` }),
    ],
    notes: [`${users.length.toLocaleString('en-US')} users with ${PER_USER} sockets each (one session per user, as tabs of one browser), cookie-authenticated, no region mounted. Memory is read from /proc/self/status after three gc() calls, before and after opening; the client sockets are in another process.`],
  })
} finally {
  await Promise.allSettled([client.stop(), server.stop(30_000)])
  rmSync(dir, { recursive: true, force: true })
}
