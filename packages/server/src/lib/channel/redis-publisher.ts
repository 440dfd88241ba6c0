import type { Cluster, Redis } from 'ioredis'
import { encodeResync } from './redis-message.js'
import { closeConnection, describeError, type ChannelLogger } from './redis-support.js'

/** Events kept while the very first connection is being made. @internal */
export const MAX_PENDING = 1000

/** What the publisher reports to its channel. @internal */
export interface PublisherCounters {
  published: number
  dropped: number
}

/**
 * The publishing side of `RedisAuthChannel`: one connection with no offline
 * queue, so a send never waits for a dead Redis.
 *
 * - Before the very first connect (a short-lived CLI process publishes right
 *   after start-up), up to {@link MAX_PENDING} payloads wait and are sent on
 *   `ready`; `close()` waits for that flush (bounded). Any connection error
 *   first turns them into drops: from then on nothing is ever queued.
 * - A dropped send is counted and remembered: once Redis answers again the
 *   publisher broadcasts one `resync` notice, so workers whose own link
 *   never dropped (they got no outage to notice) re-validate too.
 * @internal
 */
export class ChannelPublisher {
  readonly #conn: Redis | Cluster
  /** SPUBLISH (a Redis Cluster's sharded pub/sub) instead of PUBLISH. */
  readonly #sharded: boolean
  readonly #channel: string
  readonly #workerId: string
  readonly #log: ChannelLogger
  readonly #secret: string | null
  readonly #counters: PublisherCounters
  /** [payload, channel] pairs waiting for the first connect; null once connected or failed. */
  #pending: Array<[string, string]> | null = []
  #peersNeedResync = false
  #noticeInFlight = false
  #droppedSinceNotice = 0
  #closed = false
  readonly #commandTimeoutMs: number

  constructor(
    conn: Redis | Cluster,
    options: { channel: string; workerId: string; log: ChannelLogger; secret: string | null; counters: PublisherCounters; commandTimeoutMs?: number; sharded?: boolean },
  ) {
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 2000
    this.#conn = conn
    this.#sharded = options.sharded ?? false
    this.#channel = options.channel
    this.#workerId = options.workerId
    this.#log = options.log
    this.#secret = options.secret
    this.#counters = options.counters
    conn.on('ready', () => {
      const pending = this.#pending ?? []
      this.#pending = null
      for (const [payload, channel] of pending) this.send(payload, channel)
      if (this.#peersNeedResync) this.#sendNotice()
    })
    conn.on('error', () => this.#failPending())
    conn.on('close', () => this.#failPending())
  }

  /** True while the connection is up. */
  get ready(): boolean {
    return this.#conn.status === 'ready'
  }

  /** Sends one payload (to `channel`, default the shared one) in the background; never throws, never blocks. */
  send(payload: string, channel: string = this.#channel): void {
    if (this.#pending !== null) {
      if (this.#pending.length < MAX_PENDING) this.#pending.push([payload, channel])
      else this.#dropped(new Error('too many events before the first connect'))
      return
    }
    const sentAt = performance.now()
    this.#publish(channel, payload).then(
      () => {
        this.#counters.published++
        if (this.#peersNeedResync) this.#sendNotice()
      },
      (err: unknown) => this.#dropped(err, performance.now() - sentAt),
    )
  }

  /**
   * Waits (at most `timeoutMs`) for the first connect when events are still
   * pending, then quits. Idempotent through the owning channel.
   */
  async close(timeoutMs: number): Promise<void> {
    if (this.#pending !== null && this.#pending.length > 0) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer)
          this.#conn.off('ready', done)
          this.#conn.off('end', done)
          resolve()
        }
        const timer = setTimeout(done, timeoutMs)
        this.#conn.once('ready', done)
        this.#conn.once('end', done)
      })
    }
    this.#closed = true
    this.#failPending()
    await closeConnection(this.#conn, timeoutMs)
  }

  #publish(channel: string, payload: string): Promise<unknown> {
    return this.#sharded ? this.#conn.spublish(channel, payload) : this.#conn.publish(channel, payload)
  }

  #failPending(): void {
    const pending = this.#pending
    if (pending === null) return
    this.#pending = null
    for (let i = 0; i < pending.length; i++) this.#dropped(new Error('Redis was not reachable'))
  }

  #dropped(err: unknown, elapsedMs = 0): void {
    this.#counters.dropped++
    this.#peersNeedResync = true
    if (this.#closed) return
    const level = this.#droppedSinceNotice++ === 0 ? 'warn' : 'debug'
    this.#log[level]?.(
      { code: 'ERR_CHANNEL_UNAVAILABLE', err: describeError(err, this.#secret) },
      'wire-auth: auth event delivered on this worker only; the others will resync',
    )
    // Connected yet failing (a time-out on a half-dead link): reconnect. A
    // server's refusal (ReplyError, e.g. an ACL) would not heal that way.
    // A time-out whose timer itself fired far too late says this worker's event
    // loop was blocked, not that the link is dead: reconnecting then would only
    // add load (the subscriber's health check still catches a dead link).
    const loopWasLate = err instanceof Error && /timed out/i.test(err.message) && elapsedMs > this.#commandTimeoutMs * 1.5
    if (this.#conn.status === 'ready' && !loopWasLate && !(err instanceof Error && err.name === 'ReplyError')) this.#conn.disconnect(true)
  }

  #sendNotice(): void {
    if (this.#noticeInFlight || this.#closed) return
    this.#noticeInFlight = true
    this.#peersNeedResync = false
    this.#publish(this.#channel, encodeResync(this.#workerId)).then(
      () => {
        this.#noticeInFlight = false
        this.#log.info({ dropped: this.#droppedSinceNotice }, 'wire-auth: asked the other workers to resync')
        this.#droppedSinceNotice = 0
      },
      () => {
        this.#noticeInFlight = false
        this.#peersNeedResync = true
      },
    )
  }
}
