// A load-generator process holding many live sockets (ws clients), driven
// over IPC: opens authenticated sockets (optionally from several 127.0.0.x
// source addresses), mounts regions, times mount round trips, and records
// when each claim change reached each socket.
import WebSocket from 'ws'
import { serveRequests } from './rpc.mjs'
import { now } from './stats.mjs'

const kEntry = Symbol('bench.entry')
/** Sockets by group name: 'idle', 'measure', 'fanout'. */
const groups = new Map()
let tracking = false
/** Sockets that logged versions while tracking. */
let tracked = []
let unparsed = 0
/** Messages logged while tracking (to tell when traffic has settled). */
let received = 0

const V_MARK = Buffer.from('data-v=')

/** Shared listener of every open socket (no closure per socket). */
function onMessage(data) {
  const entry = this[kEntry]
  if (entry.waiter !== null) {
    const waiter = entry.waiter
    entry.waiter = null
    waiter(data)
    return
  }
  if (!tracking || entry.user < 0) return
  received++
  const at = now()
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data)
  let i = buf.indexOf(V_MARK)
  if (i < 0) {
    unparsed++
    return
  }
  i += V_MARK.length
  while (i < buf.length && (buf[i] === 0x5c || buf[i] === 0x22)) i++ // \ and "
  let version = 0
  let digits = 0
  while (i < buf.length && buf[i] >= 0x30 && buf[i] <= 0x39) {
    version = version * 10 + (buf[i] - 0x30)
    i++
    digits++
  }
  if (digits === 0) {
    unparsed++
    return
  }
  // Per socket: the versions it was shown, in order. A change counts as
  // delivered once the socket shows that version or a later one (the hub
  // may coalesce changes of one user that queue up).
  if (entry.log === null) {
    entry.log = []
    tracked.push(entry)
  }
  entry.log.push(version, at)
}

function nextMessage(entry, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      entry.waiter = null
      reject(new Error('no message within the time-out'))
    }, timeoutMs)
    entry.waiter = (data) => {
      clearTimeout(timer)
      resolve(String(data))
    }
  })
}

function connect({ url, origin, cookie, localAddress }) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { origin, headers: { cookie }, localAddress, perMessageDeflate: false, handshakeTimeout: 15_000 })
    const entry = { ws, user: -1, waiter: null, log: null }
    ws[kEntry] = entry
    ws.on('message', onMessage)
    let settled = false
    const done = (value) => {
      if (!settled) {
        settled = true
        resolve(value)
      }
    }
    ws.once('unexpected-response', (_req, res) => {
      done({ error: `HTTP ${res.statusCode}` })
      ws.terminate()
    })
    ws.once('error', (err) => done({ error: err.code ?? err.message }))
    ws.once('close', () => done({ error: 'closed' }))
    // The first message of every socket is its principal.
    entry.waiter = (data) => {
      const text = String(data)
      if (!text.includes('"authenticated":true')) done({ error: `not authenticated: ${text.slice(0, 120)}` })
      else done({ entry })
    }
  })
}

serveRequests({
  clock: () => now(),

  /**
   * Opens `users.length × perUser` sockets in group `group`. `users` holds
   * cookies; socket i of user u records arrivals as user `userBase + u`.
   * `mount` (a list of region requests) is sent once per socket and its
   * render awaited.
   */
  async open({ url, origin, users, perUser = 1, userBase = 0, group, localAddresses = null, perAddress = 20_000, concurrency = 200, mount = null }) {
    const list = groups.get(group) ?? []
    groups.set(group, list)
    const jobs = []
    for (let u = 0; u < users.length; u++) for (let k = 0; k < perUser; k++) jobs.push(u)
    const started = performance.now()
    let next = 0
    let failed = 0
    let firstError = null
    const mountText = mount === null ? null : JSON.stringify({ t: 'mount', regions: mount })
    const worker = async () => {
      while (next < jobs.length) {
        const index = next++
        const u = jobs[index]
        // Without localAddress, connect() picks the port per destination (fast); with one, bind()
        // searches a free port per source address, which gets slow as thousands are in use.
        const localAddress = localAddresses === null ? undefined : localAddresses[Math.min(localAddresses.length - 1, Math.floor((list.length + index) / perAddress))]
        const result = await connect({ url, origin, cookie: users[u], localAddress })
        if (result.error !== undefined) {
          failed++
          firstError ??= result.error
          continue
        }
        const entry = result.entry
        if (mountText !== null) {
          const reply = nextMessage(entry, 60_000)
          entry.ws.send(mountText)
          try {
            const text = await reply
            if (!text.startsWith('{"t":"render"')) throw new Error(text.slice(0, 120))
          } catch (err) {
            failed++
            firstError ??= `mount: ${err.message}`
            entry.ws.terminate()
            continue
          }
        }
        entry.user = userBase + u
        list.push(entry)
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker))
    return { opened: jobs.length - failed, failed, firstError, ms: performance.now() - started, total: list.length }
  },

  /**
   * `n` sequential mount round trips over the sockets of `group`, in turn
   * (so that no socket exceeds the server's per-socket message rate).
   * Each re-mount of the same ids is answered by one full `render`.
   */
  async mountRoundTrips({ group, n, regions, timeLimitMs = 60_000 }) {
    const list = groups.get(group) ?? []
    if (list.length === 0) throw new Error(`no sockets in ${group}`)
    const text = JSON.stringify({ t: 'mount', regions })
    const samples = []
    let replyBytes = 0
    const deadline = performance.now() + timeLimitMs
    for (let i = 0; i < n && performance.now() < deadline; i++) {
      const entry = list[i % list.length]
      const reply = nextMessage(entry)
      const start = performance.now()
      entry.ws.send(text)
      const answer = await reply
      samples.push(performance.now() - start)
      if (!answer.startsWith('{"t":"render"')) throw new Error(`unexpected answer ${answer.slice(0, 160)}`)
      replyBytes = Buffer.byteLength(answer)
    }
    return { samples, requestBytes: Buffer.byteLength(text), replyBytes }
  },

  /** `n` sequential round trips of `requestBytes` against a raw ws echo server. */
  async echoRoundTrips({ url, n, requestBytes, sockets = 1, timeLimitMs = 60_000 }) {
    const conns = []
    for (let i = 0; i < sockets; i++) {
      const ws = new WebSocket(url, { perMessageDeflate: false })
      const entry = { ws, user: -1, waiter: null, log: null }
      ws[kEntry] = entry
      ws.on('message', onMessage)
      await new Promise((resolve, reject) => {
        ws.once('open', resolve)
        ws.once('error', reject)
      })
      conns.push(entry)
    }
    const payload = 'm'.repeat(requestBytes)
    const samples = []
    let replyBytes = 0
    const deadline = performance.now() + timeLimitMs
    for (let i = 0; i < n && performance.now() < deadline; i++) {
      const entry = conns[i % conns.length]
      const reply = nextMessage(entry)
      const start = performance.now()
      entry.ws.send(payload)
      const answer = await reply
      samples.push(performance.now() - start)
      replyBytes = Buffer.byteLength(answer)
    }
    for (const c of conns) c.ws.terminate()
    return { samples, requestBytes, replyBytes }
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

  /** What each socket showed while tracking: [[userIndex, [version, at, version, at, …]], …]. */
  arrivals() {
    return { logs: tracked.map((entry) => [entry.user, Float64Array.from(entry.log)]), unparsed }
  },

  received: () => received,

  count() {
    let open = 0
    let total = 0
    for (const list of groups.values()) {
      total += list.length
      for (const e of list) if (e.ws.readyState === WebSocket.OPEN) open++
    }
    return { open, total }
  },

  memory: () => process.memoryUsage(),

  async closeAll() {
    for (const list of groups.values()) for (const e of list) e.ws.terminate()
    groups.clear()
    return true
  },
})
