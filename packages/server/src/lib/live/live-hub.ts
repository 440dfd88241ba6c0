import { ANONYMOUS, createPrincipal, type ClaimsPrincipal } from '@wire-auth/core'
import type { RawData, WebSocket } from 'ws'
import type { AuthEvent } from '../channel/auth-channel.js'
import type { ResolvedSession, SessionManager, TokenVerifier } from '../context.js'
import type { FragmentRegistry } from '../fragments/fragment-registry.js'
import type { LiveOptions } from '../options.js'
import type { AuthStore, UserRecord } from '../store/auth-store.js'
import { isMessageProblem, parseClientMessage, type ClientMessage } from './client-message.js'
import { LiveConnection } from './live-connection.js'
import type { RegionRequest, RegionRequestProblem } from '../fragments/region-request.js'
import { RenderBatch, mountRegion, regionJson, type MountedRegion } from './render-batch.js'

/** pino-compatible logger subset. */
export interface LiveLogger {
  warn(obj: Record<string, unknown>, msg?: string): void
  error(obj: Record<string, unknown>, msg?: string): void
}

/** What a {@link LiveHub} needs. @internal */
export interface LiveHubDeps {
  registry: FragmentRegistry
  sessions: Pick<SessionManager, 'load'>
  store: Pick<AuthStore, 'getUser'>
  tokens: TokenVerifier | null
  log: LiveLogger
  limits: Required<LiveOptions>
  /** Clock, for expiry tests. Default `Date.now`. */
  now?: () => number
}

const kConnection = Symbol('wire-auth.live-connection')
type TaggedSocket = WebSocket & { [kConnection]?: LiveConnection }

const SIGNED_OUT = '{"t":"signed-out"}'
/** Consecutive rate-limited seconds after which a socket is closed (1008). */
const MAX_STRIKES = 3
/** Sockets re-validated per event-loop turn in a resync or sweep (each may read the store synchronously). */
const CHUNK = 100

function principalMessage(user: ClaimsPrincipal): string {
  return JSON.stringify({ t: 'principal', user: user.toSummary() })
}

function sameSummary(a: ClaimsPrincipal, b: ClaimsPrincipal): boolean {
  return a.isAuthenticated === b.isAuthenticated && a.userId === b.userId && a.name === b.name
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0)
  return data instanceof ArrayBuffer ? data.byteLength : data.length
}

function toText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  return (data instanceof ArrayBuffer ? Buffer.from(data) : data).toString('utf8')
}

/** Token expiry (`raw.exp`, seconds) as epoch ms, or infinity when the verifier gave none. */
function expiryOf(user: ClaimsPrincipal): number {
  const exp = user.raw.exp
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : Number.POSITIVE_INFINITY
}

/**
 * Every live socket of this worker: the per-user index, the message
 * protocol, live re-evaluation on channel events, and the ping sweep.
 * Independent of Fastify: `open` takes a `ws` socket and an opaque request.
 * @internal
 */
export class LiveHub {
  readonly #deps: LiveHubDeps
  readonly #all = new Set<LiveConnection>()
  readonly #byUser = new Map<string, Set<LiveConnection>>()
  readonly #now: () => number
  #timer: ReturnType<typeof setInterval> | null = null
  // One set of listeners for every socket: the socket finds its state through a symbol.
  readonly #onMessage: (this: TaggedSocket, data: RawData, isBinary: boolean) => void
  readonly #onPong: (this: TaggedSocket) => void
  readonly #onClose: (this: TaggedSocket) => void

  constructor(deps: LiveHubDeps) {
    this.#deps = deps
    this.#now = deps.now ?? Date.now
    const hub = this
    this.#onMessage = function onMessage(data, isBinary) {
      const conn = this[kConnection]
      if (conn !== undefined) hub.#message(conn, data, isBinary)
    }
    this.#onPong = function onPong() {
      const conn = this[kConnection]
      if (conn !== undefined) conn.alive = true
    }
    this.#onClose = function onClose() {
      const conn = this[kConnection]
      if (conn !== undefined) hub.#remove(conn)
    }
  }

  /** Number of open sockets (all users). */
  get size(): number {
    return this.#all.size
  }

  /** Open sockets of one user. */
  socketsOf(userId: string): number {
    return this.#byUser.get(userId)?.size ?? 0
  }

  /**
   * Adopts an upgraded socket. `user` is the request's principal; with a
   * `sessionHash` it is re-read from the session, with a `token` from the
   * token and the user row. Sends the first `principal`.
   */
  open(ws: WebSocket, request: unknown, user: ClaimsPrincipal, sessionHash: string | null, token: string | null): LiveConnection {
    const conn = new LiveConnection(ws, request)
    const tagged = ws as TaggedSocket
    tagged[kConnection] = conn
    ws.on('message', this.#onMessage)
    ws.on('pong', this.#onPong)
    ws.on('close', this.#onClose)
    this.#all.add(conn)
    if (user.isAuthenticated) {
      conn.sessionHash = sessionHash
      conn.token = sessionHash === null ? token : null
      // The expiry of the session is learnt at the first sweep; a token carries its own.
      conn.checkAt = conn.token !== null ? expiryOf(user) : 0
      this.#setUser(conn, conn.sessionHash === null && conn.token === null ? ANONYMOUS : user)
    }
    conn.send(principalMessage(conn.user))
    return conn
  }

  /** Starts the ping / expiry sweep. */
  start(): void {
    if (this.#timer !== null) return
    this.#timer = setInterval(() => this.sweep(), this.#deps.limits.pingIntervalMs)
    this.#timer.unref()
  }

  /** Stops the sweep and forgets every socket (the sockets are closed by the server). */
  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    for (const conn of this.#all) conn.closed = true
    this.#all.clear()
    this.#byUser.clear()
  }

  /**
   * Applies one channel event: every socket of the user re-reads its
   * principal, re-evaluates its regions and gets only what changed.
   */
  onEvent(event: AuthEvent): void {
    if (event === null || typeof event !== 'object' || typeof event.userId !== 'string') return
    const sockets = this.#byUser.get(event.userId)
    if (sockets === undefined) return
    const onlySessions = event.type === 'sessions-revoked' && event.all !== true ? new Set(event.sessionIds ?? []) : null
    const batch = new RenderBatch(this.#deps.registry)
    for (const conn of sockets) {
      // A revoked session other than this socket's changes nothing for it (token sockets re-check anyway).
      if (onlySessions !== null && conn.sessionHash !== null && !onlySessions.has(conn.sessionHash)) continue
      this.#schedule(conn, batch)
    }
  }

  /** Re-validates every authenticated socket (after the channel lost messages). */
  resync(): void {
    this.#scheduleAll([...this.#all].filter((conn) => conn.sessionHash !== null || conn.token !== null))
  }

  /** Pings every socket, terminates those that missed the last pong, re-checks expired principals. */
  sweep(): void {
    const now = this.#now()
    const due: LiveConnection[] = []
    for (const conn of this.#all) {
      if (!conn.alive) {
        conn.ws.terminate()
        continue
      }
      conn.alive = false
      conn.ws.ping()
      if (conn.checkAt <= now) {
        conn.checkAt = Number.POSITIVE_INFINITY
        due.push(conn)
      }
    }
    if (due.length > 0) this.#scheduleAll(due)
  }

  /** Schedules re-validations in chunks, one event-loop turn each, sharing one batch. */
  #scheduleAll(sockets: LiveConnection[]): void {
    const batch = new RenderBatch(this.#deps.registry)
    const step = (from: number): void => {
      const end = Math.min(from + CHUNK, sockets.length)
      for (let i = from; i < end; i++) if (!sockets[i].closed) this.#schedule(sockets[i], batch)
      if (end < sockets.length) setImmediate(step, end)
    }
    step(0)
  }

  #remove(conn: LiveConnection): void {
    conn.closed = true
    conn.regions = null
    this.#all.delete(conn)
    this.#unindex(conn)
  }

  #unindex(conn: LiveConnection): void {
    const id = conn.user.userId
    if (id === null) return
    const set = this.#byUser.get(id)
    if (set === undefined) return
    set.delete(conn)
    if (set.size === 0) this.#byUser.delete(id)
  }

  #setUser(conn: LiveConnection, next: ClaimsPrincipal): void {
    if (conn.user.userId !== next.userId) {
      this.#unindex(conn)
      if (next.userId !== null && !conn.closed) {
        let set = this.#byUser.get(next.userId)
        if (set === undefined) this.#byUser.set(next.userId, (set = new Set()))
        set.add(conn)
      }
    }
    conn.user = next
  }

  #enqueue(conn: LiveConnection, task: () => Promise<void> | void): void {
    conn.queue = conn.queue.then(task).catch((err: unknown) => {
      this.#deps.log.error({ code: 'ERR_INTERNAL', err }, 'live socket task failed')
    })
  }

  /** Queues a re-validation; while one is queued and not started, later events only refresh its batch. */
  #schedule(conn: LiveConnection, batch: RenderBatch): void {
    const queued = conn.pending !== null
    conn.pending = batch
    if (queued) return
    this.#enqueue(conn, () => {
      const latest = conn.pending ?? batch
      conn.pending = null
      return this.#revalidate(conn, latest)
    })
  }

  /** Admits a message under `live.messagesPerSecond`; repeat offenders are closed with 1008. */
  #admit(conn: LiveConnection): boolean {
    const now = this.#now()
    if (now - conn.windowStart >= 1000) {
      if (conn.windowCount <= this.#deps.limits.messagesPerSecond) conn.strikes = 0
      conn.windowStart = now
      conn.windowCount = 0
    }
    conn.windowCount++
    if (conn.windowCount <= this.#deps.limits.messagesPerSecond) return true
    if (conn.windowCount === this.#deps.limits.messagesPerSecond + 1) {
      conn.strikes++
      if (conn.strikes >= MAX_STRIKES) conn.fail('ERR_SOCKET_RATE_LIMITED', 'too many messages; closing', 1008)
      else conn.error('ERR_SOCKET_RATE_LIMITED', `at most ${this.#deps.limits.messagesPerSecond} messages per second; message dropped`)
    }
    return false
  }

  #message(conn: LiveConnection, data: RawData, isBinary: boolean): void {
    if (conn.closed) return
    conn.alive = true
    if (!this.#admit(conn)) return
    const { limits } = this.#deps
    if (byteLength(data) > limits.maxMessageBytes) {
      conn.fail('ERR_SOCKET_MESSAGE_TOO_LARGE', `a message may hold at most ${limits.maxMessageBytes} bytes`, 1009)
      return
    }
    if (isBinary) {
      conn.error('ERR_SOCKET_MESSAGE_INVALID', 'binary messages are not accepted')
      return
    }
    const message = parseClientMessage(toText(data), limits.maxRegionsPerSocket)
    if (isMessageProblem(message)) {
      conn.error('ERR_SOCKET_MESSAGE_INVALID', message.problem)
      return
    }
    this.#dispatch(conn, message)
  }

  #dispatch(conn: LiveConnection, message: ClientMessage): void {
    switch (message.t) {
      case 'auth':
        this.#enqueue(conn, () => this.#authenticate(conn, message.token))
        return
      case 'mount':
        this.#enqueue(conn, () => this.#mount(conn, message.regions, message.invalid, message.overflow))
        return
      case 'unmount':
        this.#enqueue(conn, () => {
          for (const id of message.ids) conn.regions?.delete(id)
        })
    }
  }

  async #authenticate(conn: LiveConnection, token: string): Promise<void> {
    if (this.#deps.tokens === null) {
      conn.error('ERR_INVALID_TOKEN', 'token authentication is not enabled on this server')
      return
    }
    const batch = new RenderBatch(this.#deps.registry)
    let user: ClaimsPrincipal | null
    try {
      user = await this.#tokenPrincipal(token, batch)
    } catch (err) {
      this.#storeFault(conn, err)
      return
    }
    if (conn.closed) return
    if (user === null) {
      conn.error('ERR_INVALID_TOKEN', 'the token is invalid, expired or revoked')
      return
    }
    conn.token = token
    conn.sessionHash = null
    conn.checkAt = expiryOf(user)
    await this.#apply(conn, user, batch, true)
  }

  async #mount(conn: LiveConnection, regions: readonly RegionRequest[], invalid: readonly RegionRequestProblem[], overflow: readonly string[]): Promise<void> {
    if (conn.closed) return
    if (invalid.length > 0) {
      conn.error('ERR_SOCKET_MESSAGE_INVALID', `${invalid.length} region(s) refused: ${invalid[0].message}`, invalid[0].id)
    }
    const max = this.#deps.limits.maxRegionsPerSocket
    const mounted = (conn.regions ??= new Map())
    const fresh: MountedRegion[] = []
    let refused = 0
    let firstRefused: string | undefined
    for (const region of regions) {
      if (!mounted.has(region.id) && mounted.size >= max) {
        refused++
        firstRefused ??= region.id
        continue
      }
      const state = mountRegion(region)
      mounted.set(region.id, state)
      fresh.push(state)
    }
    for (const id of overflow) {
      refused++
      if (id !== '') firstRefused ??= id
    }
    if (refused > 0) conn.error('ERR_SOCKET_TOO_MANY_REGIONS', `${refused} region(s) not mounted: at most ${max} per socket`, firstRefused)
    await this.#render(conn, new RenderBatch(this.#deps.registry), fresh, false)
  }

  async #revalidate(conn: LiveConnection, batch: RenderBatch): Promise<void> {
    if (conn.closed) return
    let next: ClaimsPrincipal
    let checkAt: number
    try {
      if (conn.sessionHash !== null) {
        const hash = conn.sessionHash
        const resolved = await batch.once<ResolvedSession | null>(batch.sessions, hash, () => this.#deps.sessions.load(hash, this.#now()))
        next = resolved?.principal ?? ANONYMOUS
        checkAt = resolved === null ? Number.POSITIVE_INFINITY : Math.min(resolved.session.idleExpiresAt, resolved.session.absoluteExpiresAt)
      } else if (conn.token !== null) {
        const user = await this.#tokenPrincipal(conn.token, batch)
        next = user ?? ANONYMOUS
        checkAt = user === null ? Number.POSITIVE_INFINITY : expiryOf(user)
      } else {
        return
      }
    } catch (err) {
      this.#storeFault(conn, err)
      return
    }
    if (conn.closed) return
    conn.checkAt = checkAt
    if (!next.isAuthenticated) {
      conn.sessionHash = null
      conn.token = null
      conn.send(SIGNED_OUT)
    }
    await this.#apply(conn, next, batch, false)
  }

  /** Switches the socket to `next`, tells the client if its summary changed, and sends changed regions. */
  async #apply(conn: LiveConnection, next: ClaimsPrincipal, batch: RenderBatch, alwaysSendPrincipal: boolean): Promise<void> {
    const previous = conn.user
    this.#setUser(conn, next)
    if (alwaysSendPrincipal || !sameSummary(previous, next)) conn.send(principalMessage(next))
    if (conn.regions !== null && conn.regions.size > 0) await this.#render(conn, batch, [...conn.regions.values()], true)
  }

  /** Evaluates `list` (shared through `batch`) and sends one `render` (only changed results when `onlyChanged`). */
  async #render(conn: LiveConnection, batch: RenderBatch, list: MountedRegion[], onlyChanged: boolean): Promise<void> {
    if (list.length === 0) return
    const user = conn.user
    const rendered = await Promise.all(list.map((region) => batch.render(user, conn.request, region)))
    const regions = conn.regions
    if (conn.closed || regions === null) return
    const included: number[] = []
    let signature = ''
    for (let i = 0; i < list.length; i++) {
      const region = list[i]
      const result = rendered[i]
      if (regions.get(region.request.id) !== region) continue
      if (onlyChanged && region.hash === result.hash) continue
      region.hash = result.hash
      included.push(i)
      signature += `${region.request.id} ${result.hash},`
    }
    if (included.length === 0) return
    // Tabs of one user mount the same ids and get the same results: encode the message once per batch.
    let message = batch.messages.get(signature)
    if (message === undefined) {
      let out = ''
      for (const i of included) out += (out === '' ? '' : ',') + regionJson(list[i].request.id, rendered[i])
      message = Buffer.from(`{"t":"render","regions":[${out}]}`)
      batch.messages.set(signature, message)
    }
    conn.send(message)
  }

  /** The principal of a token socket: a still-valid token AND the user's current row. Null when either fails. */
  #tokenPrincipal(token: string, batch: RenderBatch): Promise<ClaimsPrincipal | null> {
    const { tokens, store } = this.#deps
    return batch.once(batch.tokens, token, async () => {
      const verified = tokens === null ? null : await tokens.verifyAccessToken(token)
      if (verified === null || !verified.isAuthenticated || verified.userId === null) return null
      const userId = verified.userId
      const row = await batch.once<UserRecord | null>(batch.users, userId, () => store.getUser(userId))
      if (row === null || row.disabled) return null
      return createPrincipal({ userId: row.id, name: row.name, claims: row.claims, raw: { ...verified.raw, userVersion: row.version } })
    })
  }

  #storeFault(conn: LiveConnection, err: unknown): void {
    const code = (err as { code?: unknown } | null)?.code === 'ERR_STORE_UNAVAILABLE' ? 'ERR_STORE_UNAVAILABLE' : 'ERR_INTERNAL'
    this.#deps.log.warn({ code, err }, 'live socket could not re-read its principal; retrying at the next sweep')
    // Retried at the next sweep; the socket keeps its state meanwhile.
    conn.checkAt = 0
    conn.error(code, 'the principal could not be re-checked; retrying')
  }
}

