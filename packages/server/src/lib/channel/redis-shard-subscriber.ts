import { EventEmitter } from 'node:events'
import { Redis, type Cluster, type RedisOptions } from 'ioredis'
import { SLOT_COUNT, slotOf } from './redis-slot.js'
import { closeConnection } from './redis-support.js'

/**
 * The subscriber side of `RedisAuthChannel` on a Redis Cluster with sharded
 * pub/sub (Redis ≥ 7): one connection per primary, each SSUBSCRIBEd only to
 * the channels whose slot that primary serves, so a change travels through
 * one shard instead of the whole cluster bus.
 *
 * It speaks the part of a single subscriber connection the channel uses —
 * `status`, `subscribe`, `unsubscribe`, `ping`, `disconnect` and the
 * `ready` / `close` / `error` / `message` events — so the channel's
 * resubscribe-then-resync logic stays the same: `close` when any shard
 * connection drops (messages of that shard may be lost), `ready` once every
 * shard connection is up again. A changed slot map (failover, resharding),
 * read from the publisher's {@link Cluster} on each slot refresh, rebuilds
 * the connections the same way, so the channel resubscribes and resyncs.
 * @internal
 */
export class ShardSubscriber extends EventEmitter {
  readonly #cluster: Cluster
  readonly #options: RedisOptions
  /** Primary `host:port` → its subscriber connection. */
  readonly #shards = new Map<string, Redis>()
  /** Primary `host:port` of each slot, as the connections were built for. */
  #slots: string[] = []
  #ready = false
  #closed = false

  /**
   * @param cluster The publisher's cluster client: the source of the slot map.
   * @param options Options of each shard connection (host and port are added).
   */
  constructor(cluster: Cluster, options: RedisOptions) {
    super()
    this.#cluster = cluster
    this.#options = options
    cluster.on('ready', () => this.#sync())
    cluster.on('refresh', () => this.#sync())
    if (cluster.status === 'ready') this.#sync()
  }

  /** `ready` while every shard connection is up, `end` once closed. */
  get status(): string {
    if (this.#closed) return 'end'
    return this.#ready ? 'ready' : 'connecting'
  }

  /** SSUBSCRIBEs `channels`, one command per slot, each on the shard serving it. */
  async subscribe(...channels: string[]): Promise<void> {
    const bySlot = new Map<number, string[]>()
    for (const channel of channels) {
      const slot = slotOf(channel)
      const group = bySlot.get(slot)
      if (group) group.push(channel)
      else bySlot.set(slot, [channel])
    }
    await Promise.all([...bySlot].map(([slot, group]) => this.#shardOf(slot).ssubscribe(...group).catch((err: unknown) => this.#rethrow(err))))
  }

  /** SUNSUBSCRIBEs one channel on its shard. */
  async unsubscribe(channel: string): Promise<void> {
    await this.#shardOf(slotOf(channel)).sunsubscribe(channel)
  }

  /** PINGs every shard connection. */
  async ping(): Promise<void> {
    await Promise.all([...this.#shards.values()].map((conn) => conn.ping()))
  }

  /** Drops every shard connection; with `reconnect` they connect again. */
  disconnect(reconnect = false): void {
    for (const conn of this.#shards.values()) conn.disconnect(reconnect)
  }

  /** Ends every shard connection for good. */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true
    this.#ready = false
    const shards = [...this.#shards.values()]
    this.#shards.clear()
    await Promise.all(shards.map((conn) => closeConnection(conn, timeoutMs)))
  }

  /**
   * A cluster in motion (a shard restarting, a slot moving) answers with a
   * ReplyError that heals by itself, unlike an ACL refusal: make it a plain
   * error so the channel reconnects and resubscribes, and re-read the slots.
   */
  #rethrow(err: unknown): never {
    if (err instanceof Error && err.name === 'ReplyError' && /^(CLUSTERDOWN|MOVED|ASK|TRYAGAIN)\b/.test(err.message)) {
      this.#cluster.refreshSlotsCache()
      throw new Error(`shard not ready: ${err.message}`, { cause: err })
    }
    throw err
  }

  #shardOf(slot: number): Redis {
    const conn = this.#shards.get(this.#slots[slot] ?? '')
    if (!conn || conn.status !== 'ready') throw new Error(`no connected shard for slot ${slot}`)
    return conn
  }

  /** Rebuilds the connections when the cluster's slot map differs from the one they were built for. */
  #sync(): void {
    if (this.#closed) return
    const slots = Array.from({ length: SLOT_COUNT }, (_, slot) => this.#cluster.slots[slot]?.[0] ?? '')
    if (slots.includes('')) return // not every slot is served yet
    if (this.#shards.size > 0 && sameSlots(slots, this.#slots)) return
    const changed = this.#shards.size > 0
    this.#slots = slots
    const primaries = new Set(slots)
    for (const [key, conn] of this.#shards) {
      // Even a kept primary may have gained slots: drop everything, resubscribe once ready.
      this.#shards.delete(key)
      conn.removeAllListeners()
      conn.on('error', () => {})
      conn.disconnect()
    }
    if (changed) this.#lost()
    for (const key of primaries) this.#shards.set(key, this.#connect(key))
  }

  #connect(key: string): Redis {
    const colon = key.lastIndexOf(':')
    const conn = new Redis({ ...this.#options, host: key.slice(0, colon), port: Number(key.slice(colon + 1)) })
    conn.on('ready', () => this.#update())
    conn.on('close', () => this.#lost())
    conn.on('error', (err: unknown) => {
      if (!this.#closed) this.emit('error', err)
    })
    conn.on('smessage', (channel: string, message: string) => this.emit('message', channel, message))
    return conn
  }

  #update(): void {
    if (this.#closed || this.#ready || this.#shards.size === 0) return
    for (const conn of this.#shards.values()) if (conn.status !== 'ready') return
    this.#ready = true
    this.emit('ready')
  }

  #lost(): void {
    if (this.#closed) return
    // Emitted even when not ready yet: the channel then knows it may have missed messages.
    this.#ready = false
    this.emit('close')
  }
}

function sameSlots(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((key, i) => key === b[i])
}
