// Scenario 10: live updates against the do-it-yourself peer users would
// write instead: a Socket.IO server that, per change, updates the user row
// in SQLite, renders the ~1 KB region once and emits it to the user's room.
// wire-auth does more per change (the store write with its audit record,
// the session snapshots, policy evaluation of every mounted region, a diff
// so that only changed regions travel). Both in one process, 2,000 sockets
// (200 users × 10), 200 changes/s; timed from the change until the last of
// the user's 10 sockets showed it; CPU per change and idle CPU with every
// socket mounted from the server's own cpuUsage.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SITE_ORIGIN } from '../lib/bench-app.mjs'
import { align, collect, settle } from '../lib/live-measure.mjs'
import { figure, report, sized } from '../lib/result.mjs'
import { startChild } from '../lib/rpc.mjs'
import { summarize } from '../lib/stats.mjs'

const lib = new URL('../lib/', import.meta.url)
const PER_USER = 10
const USERS = sized(200, 40)
const RATE = 200
const DRIVE_MS = sized(6000, 1500)
// Idle CPU is measured over 30 s (wire-auth pings every 30 s, Socket.IO every 25 s), after 31 s in which
// wire-auth's first sweep learnt every session's expiry (one store read per socket, once).
const IDLE_MS = sized(30_000, 1000)
const IDLE_SETTLE_MS = sized(31_000, 500)
const MOUNT = [
  { id: 'plan', kind: 'region', fragment: 'plan' },
  { id: 'who', kind: 'region', fragment: 'profile' },
]

const dir = mkdtempSync(join(tmpdir(), 'wire-auth-bench-peers-live-'))
const children = []
const child = (script, name) => {
  const c = startChild(new URL(script, lib), { name })
  children.push(c)
  return c
}
const cpuMs = (before, after) => (after.user - before.user + after.system - before.system) / 1000

/** Opens and mounts the sockets, measures idle CPU, then drives RATE changes/s. */
async function measure({ server, client, users, open }) {
  const opened = await client.call('open', open, 600_000)
  if (opened.failed > 0) throw new Error(`${server.name}: ${opened.failed} sockets failed (${opened.firstError})`)
  const sockets = await server.call('sockets')
  await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS))
  const idleBefore = await server.call('cpu')
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
  const idle = (cpuMs(idleBefore, await server.call('cpu')) / IDLE_MS) * 1000
  server.index = 0
  await align([server, client])
  await client.call('track', true)
  await server.call('eldStart')
  const before = await server.call('cpu')
  await server.call('drive', { rate: RATE, durationMs: DRIVE_MS, users: users.map((u, i) => [i, u.userId]) }, DRIVE_MS + 120_000)
  await settle([client])
  const after = await server.call('cpu')
  const eld = await server.call('eldStop')
  await client.call('track', false)
  const result = await collect([server], [client], () => 0, PER_USER)
  const stats = summarize(result.complete.map((c) => c.last - c.t0))
  return { sockets, idle, stats, eld, cpuPerChange: cpuMs(before, after) / Math.max(1, result.changes), incomplete: result.incomplete, changes: result.changes }
}

try {
  const wireServer = child('server-worker.mjs', 'wire-auth')
  const wireClient = child('socket-client.mjs', 'clients wire-auth')
  const { port: wirePort } = await wireServer.call('start', { mode: 'wire', sqlitePath: join(dir, 'wire.sqlite') })
  const wireUsers = await wireServer.call('seed', { count: USERS, prefix: 'live' }, 600_000)
  const wire = await measure({
    server: wireServer,
    client: wireClient,
    users: wireUsers,
    open: { url: `ws://127.0.0.1:${wirePort}/auth/live`, origin: SITE_ORIGIN, users: wireUsers.map((u) => u.cookie), perUser: PER_USER, group: 'live', mount: MOUNT, concurrency: 50 },
  })
  await wireClient.stop()
  await wireServer.stop(30_000)

  const peerServer = child('peer-worker.mjs', 'socket.io')
  const peerClient = child('socketio-client.mjs', 'clients socket.io')
  const { port: peerPort } = await peerServer.call('start', { stack: 'socketio', sqlitePath: join(dir, 'peer.sqlite') })
  const peerUsers = await peerServer.call('seed', { count: USERS, prefix: 'live' })
  const peer = await measure({
    server: peerServer,
    client: peerClient,
    users: peerUsers,
    open: { url: `http://127.0.0.1:${peerPort}`, users: peerUsers.map((u) => u.cookie), perUser: PER_USER, concurrency: 50 },
  })

  const sockets = `${wire.sockets.toLocaleString('en-US')} sockets`
  report({
    scenario: 'peers-live',
    title: '10. Live updates: wire-auth against a do-it-yourself Socket.IO server',
    figures: [
      figure({
        label: `CPU per change, ${sockets}, ${RATE}/s (wire-auth: store write + audit + sessions + policies + diff + 10 sends)`,
        value: wire.cpuPerChange,
        unit: 'ms',
        peer: { label: 'Socket.IO: row update + render + emit to the room', value: peer.cpuPerChange },
        goals: [{ on: 'ratio', op: '<=', target: 1, text: '≤ 1× the Socket.IO server' }],
      }),
      figure({
        label: `change → last of 10 sockets p99, ${sockets}, ${RATE}/s`,
        value: wire.stats.p99,
        unit: 'ms',
        peer: { label: 'Socket.IO p99, same run', value: peer.stats.p99 },
        goals: [{ on: 'ratio', op: '<=', target: 1, text: 'no worse than the Socket.IO server' }],
        note: `p50 ${wire.stats.p50.toFixed(2)} vs ${peer.stats.p50.toFixed(2)} ms; ${wire.changes} and ${peer.changes} changes, ${wire.incomplete} and ${peer.incomplete} incomplete`,
      }),
      figure({
        label: `idle CPU with ${sockets} mounted (ms of CPU per second)`,
        value: wire.idle,
        unit: 'ms/s',
        peer: { label: 'Socket.IO idle, same sockets', value: peer.idle },
        goals: [{ on: 'ratio', op: '<=', target: 1, text: 'no more than the Socket.IO server' }],
        note: `${peer.sockets.toLocaleString('en-US')} Socket.IO sockets; over ${IDLE_MS / 1000} s`,
      }),
      figure({ label: 'event-loop delay p99 during the drive', value: wire.eld.p99, unit: 'ms', peer: { label: 'Socket.IO', value: peer.eld.p99 } }),
    ],
    notes: [
      `${USERS} users × ${PER_USER} sockets on one process each, ${RATE} changes/s for ${DRIVE_MS / 1000} s alternately granting and revoking plan=pro; the Socket.IO peer uses its WebSocket transport only and reads the session row in its handshake.`,
      'wire-auth mounts two regions per socket ("plan" changes with every change, "profile" does not and is not re-sent); the peer has one render per user and no policy.',
    ],
  })
} finally {
  await Promise.allSettled(children.map((c) => c.stop(30_000)))
  rmSync(dir, { recursive: true, force: true })
}
