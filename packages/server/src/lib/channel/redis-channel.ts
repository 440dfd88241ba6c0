import { WireAuthError } from '@wire-auth/core'
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import { isUserScoped, type AuthChannel, type AuthEvent, type AuthEventListener } from './auth-channel.js'
import { checkEvent, decodeMessage, encodeEvent } from './redis-message.js'
import { checkOptions, isObject, type RedisAuthChannelOptions } from './redis-options.js'
import { ChannelPublisher } from './redis-publisher.js'
import { ResyncScheduler } from './redis-resync.js'
import { ShardSubscriber } from './redis-shard-subscriber.js'
import { closeConnection, describeError, type ChannelLogger } from './redis-support.js'
import { codedError } from '../errors.js'

/** Counters of one {@link RedisAuthChannel} since it was created. */
export interface RedisAuthChannelStats {
  /** Events handed to Redis. */
  published: number
  /** Events that could not be sent to Redis (delivered on this worker only). */
  dropped: number
  /** Events from other workers delivered to the listeners. */
  received: number
  /** Malformed messages dropped. */
  malformed: number
  /** Times the `onResync` listeners were called. */
  resyncs: number
  /** Users whose channel this worker subscribes to now (routing `'user'`). */
  watchedUsers: number
}

/** What the channel uses of its subscriber: one connection, or one per cluster shard. */
interface SubscriberLink {
  readonly status: string
  subscribe(...channels: string[]): Promise<unknown>
  unsubscribe(channel: string): Promise<unknown>
  ping(): Promise<unknown>
  disconnect(reconnect?: boolean): void
  on(event: string, listener: (...args: any[]) => void): unknown
}

/** User channels per SUBSCRIBE command when (re)subscribing many at once. */
const SUBSCRIBE_CHUNK = 1000
/** `origin` of the local hint delivered once a user's channel is subscribed. */
const SUBSCRIBED_ORIGIN = 'wire-auth:subscribed'

/**
 * An {@link AuthChannel} that fans events out to every worker through Redis
 * pub/sub, over two connections (publisher and subscriber).
 *
 * - `publish` delivers to this worker's listeners synchronously, then sends
 *   the event to Redis in the background; it never waits for Redis and never
 *   queues while Redis is down (the event is counted as dropped instead).
 *   Only before the very first connect a bounded batch waits, and `close()`
 *   lets it out, so a short-lived process (the CLI) can publish and exit.
 * - Workers ignore their own messages (already delivered) and deliver every
 *   other well-formed event. The channel is not an authority (checklist 29):
 *   an event only tells a worker *whose* sockets to re-check, and the
 *   listeners re-read the store for everything they show. Nothing on the
 *   channel is trusted to order or suppress anything — in particular its
 *   `version` is never used to drop a later event (a forged huge version
 *   would otherwise hide every real change of that user).
 * - With `routing: 'user'` (the default) an event of user U travels on
 *   `<channel>:u:<U>`, to which only the workers holding sockets of U
 *   subscribe (the live hub declares them through `watchUser`): a change
 *   costs one delivery per interested worker, not one per worker. Once a
 *   user's channel is subscribed, the listeners get one local
 *   `claims-changed` hint for that user, so a change committed between a
 *   socket's first read of the store and its subscription is not missed.
 *   Resync notices always use the shared `<channel>`.
 * - Pub/sub loses what is sent during an outage, so when the subscriber is
 *   subscribed again after any connection loss every `onResync` listener is
 *   called, and a worker that dropped publishes asks the others to resync.
 *   The first successful connect is not a resync.
 *
 * @example
 * ```ts
 * import { RedisAuthChannel } from '@wire-auth/server/redis'
 * await connectAuth(app, { channel: new RedisAuthChannel({ url: process.env.REDIS_URL, logger: app.log }) })
 * ```
 * @throws ERR_INVALID_OPTION when an option is malformed.
 */
export class RedisAuthChannel implements AuthChannel {
  /** Id carried as `origin` by this worker's events. */
  readonly workerId: string
  /** The Redis pub/sub channel name. */
  readonly channelName: string
  readonly #publisher: ChannelPublisher
  readonly #sub: SubscriberLink
  readonly #closeSubscriber: (timeoutMs: number) => Promise<void>
  readonly #log: ChannelLogger
  readonly #secret: string | null
  readonly #listeners = new Set<AuthEventListener>()
  readonly #resync: ResyncScheduler
  readonly #readyWaiters: Array<{ resolve(): void; reject(err: Error): void }> = []
  readonly #retry: { initialMs: number; maxMs: number }
  readonly #commandTimeoutMs: number
  readonly #stats: Omit<RedisAuthChannelStats, 'watchedUsers'> = { published: 0, dropped: 0, received: 0, malformed: 0, resyncs: 0 }
  readonly #routing: 'user' | 'broadcast'
  /** `<channel>:u:` — the prefix of per-user channels. */
  readonly #userPrefix: string
  /** Users with sockets on this worker (routing `'user'`). */
  readonly #watched = new Set<string>()
  #closed = false
  #closing: Promise<void> | null = null
  /** The subscription is confirmed on the current subscriber connection. */
  #subscribed = false
  /** The subscriber may have missed messages since it last subscribed. */
  #missed = false
  #readyGeneration = 0
  #outage = false
  #healthTimer: NodeJS.Timeout | null = null
  #pinging = false
  #malformedLoggedAt = Number.NEGATIVE_INFINITY
  #malformedSuppressed = 0

  constructor(options: RedisAuthChannelOptions = {}) {
    const o = checkOptions(options)
    this.channelName = o.channel
    this.workerId = o.workerId
    this.#routing = o.routing
    this.#userPrefix = `${o.channel}:u:`
    this.#log = o.logger
    this.#retry = o.retry
    this.#commandTimeoutMs = o.commandTimeoutMs

    const common: RedisOptions = {
      lazyConnect: false,
      // Never queue while disconnected: a publish fails fast and is counted.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      commandTimeout: this.#commandTimeoutMs,
      // We only disconnect() to abort. ioredis arms this timer even for an
      // already closed socket (while waiting to reconnect), where it would
      // hold the process open after close(); 0 lets it fire at once.
      disconnectTimeout: 0,
      retryStrategy: (times) => this.#retryDelay(times),
    }
    // Named so that CLIENT LIST tells which worker holds which connection.
    const name = `wire-auth:${this.workerId.replace(/[^\w.:-]/g, '_')}`
    // Resubscribing ourselves on `ready` orders "subscribed" before "resync".
    const subOptions: RedisOptions = { ...common, autoResubscribe: false, connectionName: `${name}:sub` }
    const pubOptions: RedisOptions = { ...common, connectionName: `${name}:pub` }
    let pub: Redis | Cluster
    if (o.cluster) {
      this.#secret = o.password
      const auth: RedisOptions = {
        ...(o.cluster.username === null ? {} : { username: o.cluster.username }),
        ...(o.password === null ? {} : { password: o.password }),
        ...(o.cluster.tls ? { tls: {} } : {}),
      }
      // The cluster manages its node connections: no retry, lazy connect and its own close.
      const { retryStrategy: _r, lazyConnect: _l, disconnectTimeout: _d, ...nodeOptions } = pubOptions
      pub = new Cluster(o.cluster.nodes, {
        enableOfflineQueue: false,
        clusterRetryStrategy: (times) => this.#retryDelay(times),
        // Slot moves (failover, resharding) are noticed within this time even without a MOVED reply.
        slotsRefreshInterval: 5000,
        redisOptions: { ...nodeOptions, ...auth },
      })
      const shards = new ShardSubscriber(pub, { ...subOptions, ...auth })
      this.#sub = shards
      this.#closeSubscriber = (timeoutMs) => shards.close(timeoutMs)
    } else {
      let sub: Redis
      if (options.client) {
        this.#secret = typeof options.client.options.password === 'string' ? options.client.options.password : null
        pub = options.client.duplicate(pubOptions)
        sub = options.client.duplicate(subOptions)
      } else {
        this.#secret = o.password
        pub = new Redis(o.url, pubOptions)
        sub = pub.duplicate(subOptions)
      }
      this.#sub = sub
      this.#closeSubscriber = (timeoutMs) => closeConnection(sub, timeoutMs)
    }

    this.#sub.on('ready', () => void this.#onSubscriberReady())
    this.#sub.on('close', () => this.#onConnectionLost('subscriber'))
    this.#sub.on('error', (err: unknown) => this.#onConnectionError('subscriber', err))
    this.#sub.on('message', (channel: string, message: string) => {
      if (channel === this.channelName) this.#onMessage(message, null)
      else if (channel.startsWith(this.#userPrefix)) this.#onMessage(message, channel.slice(this.#userPrefix.length))
    })
    this.#resync = new ResyncScheduler({
      minIntervalMs: o.resyncMinIntervalMs,
      log: this.#log,
      secret: this.#secret,
      workerId: this.workerId,
      counters: this.#stats,
    })
    this.#publisher = new ChannelPublisher(pub, {
      channel: this.channelName,
      workerId: this.workerId,
      log: this.#log,
      secret: this.#secret,
      counters: this.#stats,
      commandTimeoutMs: this.#commandTimeoutMs,
      sharded: o.cluster !== null,
    })
    pub.on('ready', () => this.#wakeReadyWaiters())
    pub.on('close', () => this.#onConnectionLost('publisher'))
    pub.on('error', (err: unknown) => this.#onConnectionError('publisher', err))

    if (o.healthCheckMs > 0) {
      this.#healthTimer = setInterval(() => this.#checkHealth(), o.healthCheckMs)
      this.#healthTimer.unref()
    }
    this.#log.debug?.({ url: o.redactedUrl, cluster: o.cluster !== null, channel: this.channelName, workerId: this.workerId }, 'wire-auth: Redis channel connecting')
  }

  /**
   * Delivers `event` to this worker's listeners at once (synchronously),
   * then sends it to the other workers through Redis without waiting.
   * @throws ERR_CHANNEL_MESSAGE_INVALID (rejected promise, 500: a fault of the publisher, not of a client) when `event` is malformed.
   */
  publish(event: AuthEvent): Promise<void> {
    if (this.#closed) return Promise.resolve()
    const checked = checkEvent(isObject(event) ? { ...event, origin: this.workerId } : event)
    if (!checked.ok) {
      return Promise.reject(codedError('ERR_CHANNEL_MESSAGE_INVALID', `invalid auth event: ${checked.reason}`))
    }
    this.#deliver(checked.event)
    const target = this.#routing === 'user' && isUserScoped(checked.event) ? this.#userPrefix + checked.event.userId : this.channelName
    this.#publisher.send(encodeEvent(checked.event), target)
    return Promise.resolve()
  }

  /**
   * Subscribes this worker to the events of `userId` (routing `'user'`;
   * a no-op with `'broadcast'`). Idempotent; the live hub calls it when the
   * first socket of the user opens here.
   */
  watchUser(userId: string): void {
    if (this.#routing !== 'user' || this.#closed || this.#watched.has(userId)) return
    this.#watched.add(userId)
    if (this.#subscribed) void this.#subscribeUsers([userId], true, this.#readyGeneration)
  }

  /** Stops receiving the events of `userId` (the last socket of the user closed here). */
  unwatchUser(userId: string): void {
    if (!this.#watched.delete(userId) || this.#closed) return
    // A failed UNSUBSCRIBE only leaves a subscription whose events are extra hints.
    if (this.#subscribed && this.#sub.status === 'ready') this.#sub.unsubscribe(this.#userPrefix + userId).catch(() => {})
  }

  subscribe(listener: AuthEventListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  onResync(listener: () => void): () => void {
    return this.#resync.add(listener)
  }

  /**
   * Resolves once both connections are up and the subscription is
   * confirmed (at once if they are). Optional: publishing works before, but
   * reaches only this worker until then.
   * @throws ERR_CHANNEL_UNAVAILABLE (rejected promise) when closed first.
   */
  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError())
    if (this.connected) return Promise.resolve()
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }))
  }

  /** True while the publisher is connected and the subscriber subscribed. */
  get connected(): boolean {
    return !this.#closed && this.#subscribed && this.#publisher.ready
  }

  /** A snapshot of the counters. */
  stats(): RedisAuthChannelStats {
    return { ...this.#stats, watchedUsers: this.#watched.size }
  }

  /** Quits both connections and stops reconnecting. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  async #shutdown(): Promise<void> {
    this.#closed = true
    this.#subscribed = false
    if (this.#healthTimer) clearInterval(this.#healthTimer)
    this.#resync.close()
    this.#listeners.clear()
    this.#watched.clear()
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(closedError())
    await Promise.all([this.#publisher.close(this.#commandTimeoutMs), this.#closeSubscriber(this.#commandTimeoutMs)])
    this.#log.debug?.({ channel: this.channelName, workerId: this.workerId }, 'wire-auth: Redis channel closed')
  }

  /**
   * Delivers to every listener. Unauthenticated pub/sub cannot vouch for an
   * event's `version`, so events are not de-duplicated by it: a duplicate or
   * late event costs one store re-read (the hub coalesces re-checks queued for
   * a socket), while trusting the number let one forged message suppress
   * every later real change of that user.
   */
  #deliver(event: AuthEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event)
      } catch (err) {
        this.#log.error({ code: 'ERR_INTERNAL', err: describeError(err, this.#secret) }, 'wire-auth: auth event listener threw')
      }
    }
  }

  /** `user`: the user of the per-user channel it came on, null for the shared channel. */
  #onMessage(raw: string, user: string | null): void {
    if (this.#closed) return
    let message = decodeMessage(raw)
    if (user !== null && message.kind !== 'invalid' && (message.kind !== 'event' || message.event.userId !== user)) {
      message = { kind: 'invalid', reason: 'a per-user channel carried another user or a resync' }
    }
    if (message.kind === 'invalid') {
      this.#stats.malformed++
      this.#logMalformed(message.reason, typeof raw === 'string' ? raw.length : -1)
      return
    }
    if (message.origin === this.workerId) return
    if (message.kind === 'resync') {
      this.#resync.request('peer-request')
      return
    }
    this.#stats.received++
    this.#deliver(message.event)
  }

  async #onSubscriberReady(): Promise<void> {
    const generation = ++this.#readyGeneration
    try {
      await this.#sub.subscribe(this.channelName)
    } catch (err) {
      if (this.#closed || generation !== this.#readyGeneration) return
      this.#missed = true
      this.#log.error(
        { code: 'ERR_CHANNEL_UNAVAILABLE', channel: this.channelName, err: describeError(err, this.#secret) },
        'wire-auth: Redis SUBSCRIBE failed',
      )
      // A server's refusal (ACL) will not heal by reconnecting; a time-out may.
      if (!isReplyError(err) && this.#sub.status === 'ready') this.#sub.disconnect(true)
      return
    }
    if (this.#closed || generation !== this.#readyGeneration) return
    // From here on watchUser subscribes by itself; the users watched so far are subscribed below.
    this.#subscribed = true
    if (this.#watched.size > 0 && !(await this.#subscribeUsers([...this.#watched], !this.#missed, generation))) return
    this.#wakeReadyWaiters()
    if (this.#outage) {
      this.#outage = false
      this.#log.info({ channel: this.channelName }, 'wire-auth: Redis reachable again')
    }
    if (this.#missed) {
      this.#missed = false
      this.#resync.request('reconnected')
    }
  }

  /**
   * SUBSCRIBEs the channels of `users` in chunks. With `hint`, delivers one
   * local `claims-changed` per user once its channel is subscribed (after an
   * outage the resync covers every socket instead). On failure the
   * subscriber reconnects, which resubscribes everything and resyncs.
   */
  async #subscribeUsers(users: string[], hint: boolean, generation: number): Promise<boolean> {
    for (let i = 0; i < users.length; i += SUBSCRIBE_CHUNK) {
      const chunk = users.slice(i, i + SUBSCRIBE_CHUNK)
      try {
        await this.#sub.subscribe(...chunk.map((user) => this.#userPrefix + user))
      } catch (err) {
        if (this.#closed || generation !== this.#readyGeneration) return false
        this.#missed = true
        this.#log.error({ code: 'ERR_CHANNEL_UNAVAILABLE', channel: this.channelName, err: describeError(err, this.#secret) }, 'wire-auth: Redis SUBSCRIBE of user channels failed')
        if (this.#sub.status === 'ready') this.#sub.disconnect(true)
        return false
      }
      if (this.#closed || generation !== this.#readyGeneration) return false
      if (hint) {
        for (const user of chunk) {
          if (this.#watched.has(user)) this.#deliver(Object.freeze({ type: 'claims-changed', userId: user, version: 0, origin: SUBSCRIBED_ORIGIN }))
        }
      }
    }
    return true
  }

  #wakeReadyWaiters(): void {
    if (this.connected) for (const waiter of this.#readyWaiters.splice(0)) waiter.resolve()
  }

  #onConnectionLost(role: 'publisher' | 'subscriber'): void {
    if (this.#closed) return
    if (role === 'subscriber') {
      this.#subscribed = false
      this.#missed = true
    }
    if (!this.#outage) {
      this.#outage = true
      this.#log.warn(
        { code: 'ERR_CHANNEL_UNAVAILABLE', role },
        'wire-auth: Redis connection lost; events reach this worker only until it is back',
      )
    }
  }

  #onConnectionError(role: 'publisher' | 'subscriber', err: unknown): void {
    if (this.#closed) return
    // An error before the first subscription means Redis was down at boot:
    // sockets opened meanwhile may have missed events, so resync then too.
    if (role === 'subscriber' && !this.#subscribed) this.#missed = true
    const level = this.#outage ? 'debug' : 'warn'
    this.#outage = true
    this.#log[level]?.({ code: 'ERR_CHANNEL_UNAVAILABLE', role, err: describeError(err, this.#secret) }, 'wire-auth: Redis connection error')
  }

  #checkHealth(): void {
    if (this.#closed || this.#pinging || !this.#subscribed || this.#sub.status !== 'ready') return
    this.#pinging = true
    this.#sub.ping().then(
      () => {
        this.#pinging = false
      },
      (err: unknown) => {
        this.#pinging = false
        if (this.#closed || this.#sub.status !== 'ready') return
        this.#log.warn({ code: 'ERR_CHANNEL_UNAVAILABLE', err: describeError(err, this.#secret) }, 'wire-auth: Redis subscriber unresponsive; reconnecting')
        this.#sub.disconnect(true)
      },
    )
  }

  #logMalformed(reason: string, length: number): void {
    const now = performance.now()
    if (now - this.#malformedLoggedAt < 10_000) {
      this.#malformedSuppressed++
      return
    }
    this.#log.warn(
      { code: 'ERR_CHANNEL_MESSAGE_INVALID', reason, length, suppressed: this.#malformedSuppressed },
      'wire-auth: malformed Redis channel message dropped',
    )
    this.#malformedLoggedAt = now
    this.#malformedSuppressed = 0
  }

  #retryDelay(times: number): number | null {
    if (this.#closed) return null
    const { initialMs, maxMs } = this.#retry
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(times - 1, 30))
    return Math.round(base / 2 + (Math.random() * base) / 2)
  }
}

function isReplyError(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError'
}

function closedError(): WireAuthError {
  return codedError('ERR_CHANNEL_UNAVAILABLE', 'the Redis channel is closed')
}
