import { InvalidOption } from '@wire-auth/core'
import type { AuthChannel } from './channel/auth-channel.js'
import type { ChannelLogger } from './channel/channel-logger.js'
import { LocalAuthChannel } from './channel/local-channel.js'
import type { AuthStore } from './store/auth-store.js'
import { SqliteAuthStore } from './store/sqlite-store.js'
import type { ServerConfig } from './standalone.js'

// The store and channel of a server config, apart from createServer so that
// the CLI's user, keys and audit commands open them without loading Fastify
// and the plugin (a command starts in a third of the time).

/**
 * The config's store: `store`, else MongoDB at `mongoUrl`, else SQLite at
 * `sqlitePath` (default `wire-auth.sqlite`). The drivers load only when used.
 * @internal
 */
export async function storeFor(config: ServerConfig): Promise<AuthStore> {
  if (config.store !== undefined) return config.store
  if (config.mongoUrl !== undefined) {
    const { MongoAuthStore } = await import('../mongodb.js')
    return new MongoAuthStore(config.mongoUrl)
  }
  return new SqliteAuthStore(config.sqlitePath ?? 'wire-auth.sqlite')
}

/**
 * The config's channel: `channel`, else Redis at `redisUrl` or the Redis
 * Cluster of `redisClusterNodes`, else in-process.
 * @throws ERR_INVALID_OPTION when both `redisUrl` and `redisClusterNodes` are set.
 * @internal
 */
export async function channelFor(config: ServerConfig, logger?: ChannelLogger): Promise<AuthChannel> {
  if (config.channel !== undefined) return config.channel
  if (config.redisClusterNodes !== undefined) {
    if (config.redisUrl !== undefined) throw new InvalidOption('"redisUrl" and "redisClusterNodes" are mutually exclusive')
    const { RedisAuthChannel } = await import('../redis.js')
    return new RedisAuthChannel({ cluster: { nodes: config.redisClusterNodes }, channel: config.redisChannel, logger })
  }
  if (config.redisUrl !== undefined) {
    const { RedisAuthChannel } = await import('../redis.js')
    return new RedisAuthChannel({ url: config.redisUrl, channel: config.redisChannel, logger })
  }
  return new LocalAuthChannel()
}
