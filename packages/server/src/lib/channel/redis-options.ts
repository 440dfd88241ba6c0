import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { InvalidOption } from '@wire-auth/core'
import { Redis } from 'ioredis'
import { redactUrl, type ChannelLogger } from './redis-support.js'

/** Options of {@link RedisAuthChannel}. Checked by the constructor. */
export interface RedisAuthChannelOptions {
  /** `redis[s]://[[user]:password@]host[:port][/db]`. Default `redis://127.0.0.1:6379`. Not with `client`. */
  url?: string
  /**
   * A configured ioredis client to copy the connection settings from. The
   * channel opens two `duplicate()`s of it and never uses or closes it.
   */
  client?: Redis
  /** Pub/sub channel name shared by every worker. Default `wire-auth:events`. */
  channel?: string
  /** This worker's id, unique per process. Default `<hostname>-<pid>-<random>`. */
  workerId?: string
  /** pino-compatible logger (`app.log` fits). Default: warnings and errors to the console. */
  logger?: ChannelLogger
  /** Reconnect backoff: `initialMs · 2^(attempt-1)` capped at `maxMs`, with jitter. Default 100 / 5000. */
  retry?: { initialMs?: number; maxMs?: number }
  /** Time-out of one Redis command (PUBLISH, SUBSCRIBE, PING), ms. Default 2000. */
  commandTimeoutMs?: number
  /** The subscriber is PINGed this often to notice a silently dead link; 0 disables. Default 10000. */
  healthCheckMs?: number
  /** Resyncs closer together than this are merged into one. Default 1000. */
  resyncMinIntervalMs?: number
  /**
   * `'user'` (default): an event of user U is published on `<channel>:u:<U>`
   * and only workers holding sockets of U subscribe to it, so a change costs
   * one delivery per interested worker instead of one per worker. `'broadcast'`:
   * every event goes to every worker on `<channel>` (the behaviour before
   * 0.2). Every worker of a deployment must use the same routing.
   */
  routing?: 'user' | 'broadcast'
  /**
   * A Redis Cluster (Redis ≥ 7) to use with sharded pub/sub instead of one
   * Redis: `nodes` are `redis[s]://[[user]:password@]host:port` URLs of some
   * of its primaries (the rest is discovered), all with the same credentials.
   * Every channel is then a shard channel (SPUBLISH / SSUBSCRIBE): a user's
   * events travel only through the shard serving `<channel>:u:<U>`, and the
   * shared `<channel>` (events of everyone, resync notices) through one
   * shard. Not with `url` or `client`; `channel` must hold no `{` or `}` (a
   * hash tag would put every user's channel in one slot).
   */
  cluster?: { nodes: string[] }
}

/** A cluster start-up node after checking. @internal */
export interface ClusterNode {
  host: string
  port: number
}

/** Options after defaults were applied and checked. @internal */
export interface CheckedOptions {
  url: string
  redactedUrl: string
  password: string | null
  channel: string
  workerId: string
  logger: ChannelLogger
  retry: { initialMs: number; maxMs: number }
  commandTimeoutMs: number
  healthCheckMs: number
  resyncMinIntervalMs: number
  routing: 'user' | 'broadcast'
  /** The cluster's start-up nodes and their shared credentials; null for one Redis. */
  cluster: { nodes: ClusterNode[]; username: string | null; tls: boolean } | null
}

/**
 * Applies the defaults and checks every option, quoting it on failure.
 * @throws ERR_INVALID_OPTION
 * @internal
 */
export function checkOptions(options: RedisAuthChannelOptions): CheckedOptions {
  if (!isObject(options)) throw new InvalidOption('RedisAuthChannel options must be an object')
  const { url, client, channel = 'wire-auth:events', logger, retry = {} } = options
  if (url !== undefined && client !== undefined) throw new InvalidOption('"options.url" and "options.client" are mutually exclusive')
  if (client !== undefined && !(client instanceof Redis)) throw new InvalidOption('"options.client" must be an ioredis Redis instance')
  const cluster = clusterOf(options)
  if (cluster) {
    if (typeof channel === 'string' && /[{}]/.test(channel)) {
      throw new InvalidOption('"options.channel" must not contain "{" or "}" with "options.cluster": a hash tag would put every user channel in one slot')
    }
  }
  const target = cluster?.first ?? url ?? 'redis://127.0.0.1:6379'
  const parsed = typeof target === 'string' && URL.canParse(target) ? new URL(target) : null
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')) {
    // The value may hold a password: never quote it.
    throw new InvalidOption('"options.url" must be a redis:// or rediss:// URL')
  }
  if (typeof channel !== 'string' || channel.length === 0 || channel.length > 256) {
    throw new InvalidOption('"options.channel" must be a non-empty string of at most 256 characters')
  }
  const workerId = options.workerId ?? `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`
  if (typeof workerId !== 'string' || workerId.length === 0 || workerId.length > 128) {
    throw new InvalidOption('"options.workerId" must be a non-empty string of at most 128 characters')
  }
  if (logger !== undefined && (!isObject(logger) || typeof logger.warn !== 'function' || typeof logger.error !== 'function' || typeof logger.info !== 'function')) {
    throw new InvalidOption('"options.logger" must have info, warn and error methods')
  }
  if (!isObject(retry)) throw new InvalidOption('"options.retry" must be an object')
  const initialMs = int(retry.initialMs, 'retry.initialMs', 100, 1)
  const maxMs = int(retry.maxMs, 'retry.maxMs', 5000, initialMs)
  return {
    url: target,
    redactedUrl: redactUrl(target),
    password: passwordOf(parsed),
    channel,
    workerId,
    logger: logger ?? consoleLogger,
    retry: { initialMs, maxMs },
    commandTimeoutMs: int(options.commandTimeoutMs, 'commandTimeoutMs', 2000, 1),
    healthCheckMs: int(options.healthCheckMs, 'healthCheckMs', 10_000, 0),
    resyncMinIntervalMs: int(options.resyncMinIntervalMs, 'resyncMinIntervalMs', 1000, 0),
    routing: routingOf(options.routing),
    cluster: cluster && { nodes: cluster.nodes, username: parsed.username ? decodeURIComponent(parsed.username) : null, tls: parsed.protocol === 'rediss:' },
  }
}

/** Checks `options.cluster`: its node URLs, and that they share one scheme and one set of credentials. */
function clusterOf(options: RedisAuthChannelOptions): { first: string; nodes: ClusterNode[] } | null {
  const { cluster } = options
  if (cluster === undefined) return null
  if (options.url !== undefined || options.client !== undefined) {
    throw new InvalidOption('"options.cluster" excludes "options.url" and "options.client"')
  }
  if (!isObject(cluster) || !Array.isArray(cluster.nodes) || cluster.nodes.length === 0 || cluster.nodes.length > 64) {
    throw new InvalidOption('"options.cluster.nodes" must be an array of 1 to 64 redis:// URLs')
  }
  const nodes: ClusterNode[] = []
  let first: URL | null = null
  for (const [i, node] of cluster.nodes.entries()) {
    const parsed = typeof node === 'string' && URL.canParse(node) ? new URL(node) : null
    // The value may hold a password: never quote it.
    if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || !parsed.hostname || !parsed.port) {
      throw new InvalidOption(`"options.cluster.nodes[${i}]" must be a redis:// or rediss:// URL with a host and a port`)
    }
    if (parsed.pathname !== '' && parsed.pathname !== '/' && parsed.pathname !== '/0') {
      throw new InvalidOption(`"options.cluster.nodes[${i}]" must not select a database (a cluster has only database 0)`)
    }
    first ??= parsed
    if (parsed.protocol !== first.protocol || parsed.username !== first.username || parsed.password !== first.password) {
      throw new InvalidOption(`"options.cluster.nodes[${i}]" must use the same scheme and credentials as "options.cluster.nodes[0]"`)
    }
    nodes.push({ host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port) })
  }
  return { first: (first as URL).toString(), nodes }
}

function routingOf(value: unknown): 'user' | 'broadcast' {
  if (value === undefined) return 'user'
  if (value === 'user' || value === 'broadcast') return value
  throw new InvalidOption('"options.routing" must be "user" or "broadcast"')
}

/** True for any non-null object. @internal */
export function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null
}

function passwordOf(url: URL): string | null {
  if (!url.password) return null
  try {
    return decodeURIComponent(url.password)
  } catch {
    return url.password
  }
}

function int(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidOption(`"options.${name}" must be an integer ≥ ${min}`)
  }
  return value
}

const consoleLogger: ChannelLogger = {
  info() {},
  warn(obj, msg) {
    console.warn(msg ?? 'wire-auth: Redis channel warning', obj)
  },
  error(obj, msg) {
    console.error(msg ?? 'wire-auth: Redis channel error', obj)
  },
}
