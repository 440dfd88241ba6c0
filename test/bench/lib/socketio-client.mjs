// The load generator of the Socket.IO peer: opens socket.io-client sockets
// (WebSocket transport only, as a browser with a working socket would end
// up) and records when each render reached each socket, with the same RPC
// commands as socket-client.mjs (open, track, arrivals, received, closeAll).
import { io } from 'socket.io-client'
import { serveRequests } from './rpc.mjs'
import { now } from './stats.mjs'

const sockets = []
let tracking = false
let tracked = []
let received = 0
let unparsed = 0

function onRender(entry, text) {
  if (!tracking) return
  received++
  const at = now()
  const match = /data-v="(\d+)"/.exec(text)
  if (match === null) {
    unparsed++
    return
  }
  if (entry.log === null) {
    entry.log = []
    tracked.push(entry)
  }
  entry.log.push(Number(match[1]), at)
}

function connect(url, cookie, user) {
  return new Promise((resolve) => {
    const socket = io(url, { transports: ['websocket'], extraHeaders: { cookie }, reconnection: false, forceNew: true, timeout: 15_000 })
    const entry = { socket, user, log: null }
    socket.once('connect_error', (err) => resolve({ error: err.message }))
    // The first render is the mount's answer: the socket is ready when it arrived.
    socket.once('render', () => {
      socket.on('render', (text) => onRender(entry, text))
      resolve({ entry })
    })
  })
}

serveRequests({
  clock: () => now(),

  /** Opens `perUser` sockets for each cookie in `users`; socket of user u records as `userBase + u`. */
  async open({ url, users, perUser = 1, userBase = 0, concurrency = 100 }) {
    const jobs = []
    for (let u = 0; u < users.length; u++) for (let k = 0; k < perUser; k++) jobs.push(u)
    let next = 0
    let failed = 0
    let firstError = null
    const started = performance.now()
    const worker = async () => {
      while (next < jobs.length) {
        const u = jobs[next++]
        const result = await connect(url, users[u], userBase + u)
        if (result.error !== undefined) {
          failed++
          firstError ??= result.error
        } else sockets.push(result.entry)
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker))
    return { opened: jobs.length - failed, failed, firstError, ms: performance.now() - started, total: sockets.length }
  },

  track(on) {
    tracking = on
    if (on) {
      for (const entry of tracked) entry.log = null
      tracked = []
      unparsed = 0
    }
    return true
  },

  arrivals: () => ({ logs: tracked.map((entry) => [entry.user, Float64Array.from(entry.log)]), unparsed }),

  received: () => received,

  async closeAll() {
    for (const entry of sockets.splice(0)) entry.socket.disconnect()
    return true
  },

  async exit() {
    for (const entry of sockets.splice(0)) entry.socket.disconnect()
  },
})
