import { ANONYMOUS, isMessageProblem, parseClientMessage, type ClaimsPrincipal, type ClientMessage, type RegionRequest, type RegionRequestProblem, type ServerMessage, type WireAuthLogger } from '@wire-auth/core'
import type { RawData, WebSocket } from 'ws'
import { ALL_USERS, type AuthChannel, type AuthEvent } from '../channel/auth-channel.js'
import type { FragmentRegistry } from '../fragments/fragment-registry.js'
import type { TokenVerifier } from '../local-idp/local-idp.js'
import type { LiveOptions } from '../options.js'
import type { SessionManager } from '../sessions.js'
import type { AuthStore } from '../store/auth-store.js'
import { frameBytes, frameText } from './socket-frame.js'
import { LiveConnection } from './live-connection.js'
import { expiryOf, reloadPrincipal, tokenPrincipal, type PrincipalSources } from './principal-reload.js'
import { mountRegions, sendRegions, unmountRegions, withdrawRegions, type MountRules } from './region-sync.js'
import type { MountedRegion } from './cache-keys.js'
import { RenderBatch } from './render-batch.js'

/** What the hub logs to: part of core's one logger subset. */
export type LiveLogger = Pick<WireAuthLogger, 'warn' | 'error'>

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
  /**
   * The channel the hub listens to from {@link LiveHub.start} to
   * {@link LiveHub.close}: its events and resyncs, and (when it routes per
   * user) told when the first socket of a user opens here and when the last
   * one closes. Without it the hub only serves its sockets.
   */
  channel?: Pick<AuthChannel, 'subscribe' | 'onResync' | 'watchUser' | 'unwatchUser'>
  /** Told, per socket, how long after a channel event arrived it was re-validated (metrics' fan-out latency). */
  onFanout?: (seconds: number) => void
}

const kConnection = Symbol('wire-auth.live-connection')
type TaggedSocket = WebSocket & { [kConnection]?: LiveConnection }

const SIGNED_OUT = JSON.stringify({ t: 'signed-out' } satisfies ServerMessage)
/** Sockets re-validated per event-loop turn in a resync or sweep (each may read the store synchronously). */
const CHUNK = 100
/** Sockets pinged per event-loop turn in a sweep. */
const SWEEP_CHUNK = 256

function principalMessage(user: ClaimsPrincipal): string {
  return JSON.stringify({ t: 'principal', user: user.toSummary() } satisfies ServerMessage)
}

function refusalMessage(code: 'ERR_SOCKET_TOO_MANY_PER_ADDRESS' | 'ERR_SOCKET_TOO_MANY_PER_USER', limits: Required<LiveOptions>): string {
  return code === 'ERR_SOCKET_TOO_MANY_PER_ADDRESS'
    ? `at most ${limits.maxSocketsPerAddress} sockets per client address`
    : `at most ${limits.maxSocketsPerUser} sockets per user`
}

function sameSummary(a: ClaimsPrincipal, b: ClaimsPrincipal): boolean {
  return a.isAuthenticated === b.isAuthenticated && a.userId === b.userId && a.name === b.name
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
  /** Open sockets per client address bucket (IPv4, IPv6 /64). */
  readonly #byAddress = new Map<string, number>()
  readonly #now: () => number
  readonly #sources: PrincipalSources
  #timer: ReturnType<typeof setInterval> | null = null
  /** Ends the channel subscriptions taken in {@link start}. */
  #unlink: (() => void) | null = null
  // One set of listeners for every socket: the socket finds its state through a symbol.
  readonly #onMessage: (this: TaggedSocket, data: RawData, isBinary: boolean) => void
  readonly #onPong: (this: TaggedSocket) => void
  readonly #onClose: (this: TaggedSocket) => void

  constructor(deps: LiveHubDeps) {
    this.#deps = deps
    this.#now = deps.now ?? Date.now
    this.#sources = {
      sessions: deps.sessions,
      store: deps.store,
      tokens: deps.tokens,
      now: this.#now,
    }
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

  /** Regions mounted on the open sockets (counted when asked: for metrics scrapes). */
  regionCount(): number {
    let count = 0
    for (const conn of this.#all) count += conn.regions?.size ?? 0
    return count
  }

  /** Open sockets of one user. */
  socketsOf(userId: string): number {
    return this.#byUser.get(userId)?.size ?? 0
  }

  /** Open sockets of one client address bucket. */
  socketsFrom(address: string): number {
    return this.#byAddress.get(address) ?? 0
  }

  /**
   * Whether one more socket from `address` for `user` fits the caps
   * (`live.maxSocketsPerAddress`, `live.maxSocketsPerUser`): null when it
   * does, else the refusal's code. Checked before the upgrade (to refuse
   * cheaply with 429) and again when the socket is adopted.
   */
  refusal(address: string, user: ClaimsPrincipal): 'ERR_SOCKET_TOO_MANY_PER_ADDRESS' | 'ERR_SOCKET_TOO_MANY_PER_USER' | null {
    const { maxSocketsPerAddress, maxSocketsPerUser } = this.#deps.limits
    if (this.socketsFrom(address) >= maxSocketsPerAddress) return 'ERR_SOCKET_TOO_MANY_PER_ADDRESS'
    if (user.userId !== null && this.socketsOf(user.userId) >= maxSocketsPerUser) return 'ERR_SOCKET_TOO_MANY_PER_USER'
    return null
  }

  /**
   * Adopts an upgraded socket. `user` is the request's principal; with a
   * `sessionHash` it is re-read from the session, with a `token` from the
   * token and the user row. Sends the first `principal`. `address` is the
   * client's address bucket (see `clientBucket`): over a socket cap the
   * socket gets the coded error and is closed (1008) at once.
   */
  open(ws: WebSocket, request: unknown, user: ClaimsPrincipal, sessionHash: string | null, token: string | null, address = ''): LiveConnection {
    const conn = new LiveConnection(ws, request, address)
    const refused = this.refusal(address, user.isAuthenticated ? user : ANONYMOUS)
    if (refused !== null) {
      conn.fail(refused, refusalMessage(refused, this.#deps.limits), 1008)
      conn.closed = true
      return conn
    }
    const tagged = ws as TaggedSocket
    tagged[kConnection] = conn
    ws.on('message', this.#onMessage)
    ws.on('pong', this.#onPong)
    ws.on('close', this.#onClose)
    this.#all.add(conn)
    this.#byAddress.set(address, this.socketsFrom(address) + 1)
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

  /** Subscribes to the channel's events and resyncs, and starts the ping / expiry sweep. */
  start(): void {
    const { channel } = this.#deps
    if (channel !== undefined && this.#unlink === null) {
      const unsubscribe = channel.subscribe((event) => this.onEvent(event))
      const unsubscribeResync = channel.onResync(() => this.resync())
      this.#unlink = () => {
        unsubscribe()
        unsubscribeResync()
      }
    }
    if (this.#timer !== null) return
    this.#timer = setInterval(() => this.sweep(), this.#deps.limits.pingIntervalMs)
    this.#timer.unref()
  }

  /** Leaves the channel, stops the sweep and forgets every socket (the sockets are closed by the server). */
  close(): void {
    this.#unlink?.()
    this.#unlink = null
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    for (const conn of this.#all) conn.closed = true
    this.#all.clear()
    for (const id of this.#byUser.keys()) this.#deps.channel?.unwatchUser?.(id)
    this.#byUser.clear()
    this.#byAddress.clear()
  }

  /**
   * Applies one channel event: every socket of the user re-reads its
   * principal, re-evaluates its regions and gets only what changed.
   */
  onEvent(event: AuthEvent): void {
    if (event === null || typeof event !== 'object' || typeof event.userId !== 'string') return
    if (event.type === 'data-changed') {
      this.#refresh(event)
      return
    }
    const sockets = this.#byUser.get(event.userId)
    if (sockets === undefined) return
    const onlySessions = event.type === 'sessions-revoked' && event.all !== true ? new Set(event.sessionIds ?? []) : null
    const batch = new RenderBatch(this.#deps.registry)
    const started = this.#deps.onFanout === undefined ? undefined : performance.now()
    for (const conn of sockets) {
      // A revoked session other than this socket's changes nothing for it (token sockets re-check anyway).
      if (onlySessions !== null && conn.sessionHash !== null && !onlySessions.has(conn.sessionHash)) continue
      this.#schedule(conn, batch, started)
    }
  }

  /**
   * A `data-changed` event: each concerned socket re-evaluates only its
   * mounted regions that match the event's filters, for its current
   * principal (not re-read: nothing about it changed), and gets the ones
   * whose result changed. Sockets whose principal could not be re-checked
   * stay withdrawn. One batch for the event: equal (principal, region) pairs
   * render once.
   */
  #refresh(event: AuthEvent): void {
    const sockets = event.userId === ALL_USERS ? this.#all : this.#byUser.get(event.userId)
    if (sockets === undefined || sockets.size === 0) return
    const { registry } = this.#deps
    const filter = event.params === undefined ? null : Object.entries(event.params).map(([key, value]) => [key, JSON.stringify(value)] as const)
    const matches = (region: MountedRegion): boolean => {
      const request = region.request
      if (event.fragment !== undefined && request.fragment !== event.fragment) return false
      if (event.policy !== undefined && request.policy !== event.policy && registry.policyOf(request.fragment) !== event.policy) return false
      if (filter !== null) {
        const params = registry.pinnedParamsOf(request.fragment) ?? request.params
        if (params === undefined) return false
        for (const [key, json] of filter) if (!Object.hasOwn(params, key) || JSON.stringify(params[key]) !== json) return false
      }
      return true
    }
    const batch = new RenderBatch(registry)
    const list = [...sockets]
    const step = (from: number): void => {
      const end = Math.min(from + CHUNK, list.length)
      for (let i = from; i < end; i++) {
        const conn = list[i]
        if (conn.closed || conn.regions === null || conn.faulted !== null) continue
        const due: MountedRegion[] = []
        for (const region of conn.regions.values()) if (matches(region)) due.push(region)
        if (due.length > 0) this.#enqueue(conn, () => (conn.faulted === null ? sendRegions(conn, batch, due, true) : undefined))
      }
      if (end < list.length) setImmediate(step, end)
    }
    step(0)
  }

  /** Re-validates every authenticated socket (after the channel lost messages). */
  resync(): void {
    this.#scheduleAll([...this.#all].filter((conn) => conn.sessionHash !== null || conn.token !== null))
  }

  /**
   * Pings every socket, terminates those that missed the last pong, re-checks
   * expired principals. A ping is a socket write: the sweep goes through
   * {@link SWEEP_CHUNK} sockets per event-loop turn, so 10,000 sockets never
   * hold the loop for the ~100 ms their pings take together.
   */
  sweep(): void {
    const now = this.#now()
    const sockets = [...this.#all]
    const due: LiveConnection[] = []
    const step = (from: number): void => {
      const end = Math.min(from + SWEEP_CHUNK, sockets.length)
      for (let i = from; i < end; i++) {
        const conn = sockets[i]
        if (conn.closed) continue
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
      if (end < sockets.length) setImmediate(step, end)
      else if (due.length > 0) this.#scheduleAll(due)
    }
    step(0)
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
    conn.paramsBytes = 0
    if (!this.#all.delete(conn)) return
    const left = this.socketsFrom(conn.address) - 1
    if (left > 0) this.#byAddress.set(conn.address, left)
    else this.#byAddress.delete(conn.address)
    this.#unindex(conn)
  }

  #unindex(conn: LiveConnection): void {
    const id = conn.user.userId
    if (id === null) return
    const set = this.#byUser.get(id)
    if (set === undefined) return
    set.delete(conn)
    if (set.size === 0) {
      this.#byUser.delete(id)
      this.#deps.channel?.unwatchUser?.(id)
    }
  }

  #setUser(conn: LiveConnection, next: ClaimsPrincipal): void {
    if (conn.user.userId !== next.userId) {
      this.#unindex(conn)
      if (next.userId !== null && !conn.closed) {
        let set = this.#byUser.get(next.userId)
        if (set === undefined) {
          this.#byUser.set(next.userId, (set = new Set()))
          this.#deps.channel?.watchUser?.(next.userId)
        }
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
  #schedule(conn: LiveConnection, batch: RenderBatch, started?: number): void {
    const queued = conn.pending !== null
    conn.pending = batch
    if (queued) return
    this.#enqueue(conn, () => {
      const latest = conn.pending ?? batch
      conn.pending = null
      const onFanout = this.#deps.onFanout
      const done = this.#revalidate(conn, latest)
      return started === undefined || onFanout === undefined ? done : done.then(() => onFanout((performance.now() - started) / 1000))
    })
  }

  /** Admits a message under `live.messagesPerSecond`; repeat offenders are closed with 1008. */
  #admit(conn: LiveConnection): boolean {
    const perSecond = this.#deps.limits.messagesPerSecond
    const verdict = conn.admit(perSecond, this.#now())
    if (verdict === 'warn') conn.error('ERR_SOCKET_RATE_LIMITED', `at most ${perSecond} messages per second; message dropped`)
    else if (verdict === 'close') conn.fail('ERR_SOCKET_RATE_LIMITED', 'too many messages; closing', 1008)
    return verdict === 'ok'
  }

  #message(conn: LiveConnection, data: RawData, isBinary: boolean): void {
    if (conn.closed) return
    conn.alive = true
    if (!this.#admit(conn)) return
    const { limits } = this.#deps
    if (frameBytes(data) > limits.maxMessageBytes) {
      conn.fail('ERR_SOCKET_MESSAGE_TOO_LARGE', `a message may hold at most ${limits.maxMessageBytes} bytes`, 1009)
      return
    }
    if (isBinary) {
      conn.error('ERR_SOCKET_MESSAGE_INVALID', 'binary messages are not accepted')
      return
    }
    const message = parseClientMessage(frameText(data), limits.maxRegionsPerSocket)
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
        this.#enqueue(conn, () => unmountRegions(conn, message.ids))
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
      user = await tokenPrincipal(this.#sources, token, batch)
    } catch (err) {
      this.#storeFault(conn, err)
      return
    }
    if (conn.closed) return
    if (user === null) {
      conn.error('ERR_INVALID_TOKEN', 'the token is invalid, expired or revoked')
      return
    }
    // The per-user cap holds for sockets that become a user's after opening too.
    if (user.userId !== conn.user.userId && user.userId !== null && this.socketsOf(user.userId) >= this.#deps.limits.maxSocketsPerUser) {
      conn.fail('ERR_SOCKET_TOO_MANY_PER_USER', refusalMessage('ERR_SOCKET_TOO_MANY_PER_USER', this.#deps.limits), 1008)
      return
    }
    conn.token = token
    conn.sessionHash = null
    conn.checkAt = expiryOf(user)
    conn.faulted = null
    await this.#apply(conn, user, batch, true)
  }

  async #mount(conn: LiveConnection, regions: readonly RegionRequest[], invalid: readonly RegionRequestProblem[], overflow: readonly string[]): Promise<void> {
    if (conn.closed) return
    const { fresh, transient } = mountRegions(conn, regions, invalid, overflow, this.#mountRules(conn))
    const batch = new RenderBatch(this.#deps.registry)
    // The principal could not be re-checked: nothing is evaluated for it until it is.
    // (Unknown fragments are answered all the same: no principal is needed to refuse them.)
    if (conn.faulted !== null) {
      withdrawRegions(conn, fresh, conn.faulted)
      await sendRegions(conn, batch, [], false, transient)
    } else await sendRegions(conn, batch, fresh, false, transient)
  }

  #mountRules(conn: LiveConnection): MountRules {
    const { registry, limits } = this.#deps
    return {
      maxRegions: limits.maxRegionsPerSocket,
      maxParamsBytes: limits.maxParamsBytesPerSocket,
      isKnown: (fragment) => registry.has(fragment),
      charge: () => registry.renders.take(conn.address, 1) === 1,
    }
  }

  async #revalidate(conn: LiveConnection, batch: RenderBatch): Promise<void> {
    if (conn.closed) return
    let next: Awaited<ReturnType<typeof reloadPrincipal>>
    try {
      next = await reloadPrincipal(this.#sources, conn, batch)
    } catch (err) {
      this.#storeFault(conn, err)
      return
    }
    // Every withdrawn region differs from its real result, so #apply restores them all.
    conn.faulted = null
    if (next === null || conn.closed) return
    conn.checkAt = next.checkAt
    if (!next.user.isAuthenticated) {
      conn.sessionHash = null
      conn.token = null
      conn.send(SIGNED_OUT)
    }
    await this.#apply(conn, next.user, batch, false)
  }

  /** Switches the socket to `next`, tells the client if its summary changed, and sends changed regions. */
  async #apply(conn: LiveConnection, next: ClaimsPrincipal, batch: RenderBatch, alwaysSendPrincipal: boolean): Promise<void> {
    const previous = conn.user
    this.#setUser(conn, next)
    if (alwaysSendPrincipal || !sameSummary(previous, next)) conn.send(principalMessage(next))
    if (conn.regions !== null && conn.regions.size > 0) await sendRegions(conn, batch, [...conn.regions.values()], true)
  }

  #storeFault(conn: LiveConnection, err: unknown): void {
    const code = (err as { code?: unknown } | null)?.code === 'ERR_STORE_UNAVAILABLE' ? 'ERR_STORE_UNAVAILABLE' : 'ERR_INTERNAL'
    this.#deps.log.warn({ code, err }, 'live socket could not re-read its principal; its regions are withdrawn until the next sweep or event')
    // Fail closed (checklist 25): the socket stays open, but what it shows
    // can no longer be vouched for, so every region is withdrawn until a
    // re-check succeeds — at the next sweep or the next event of its user.
    conn.checkAt = 0
    conn.error(code, 'the principal could not be re-checked; retrying')
    // An anonymous socket whose `auth` failed stays anonymous: that needs no store.
    if (conn.sessionHash === null && conn.token === null) return
    conn.faulted = code
    if (conn.regions !== null) withdrawRegions(conn, [...conn.regions.values()], code)
  }
}

