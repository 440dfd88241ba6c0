import { requireOptional } from './lib/optional-dependency.js'
import type * as RedisChannel from './lib/channel/redis-channel.js'

// `ioredis` is an optional peer dependency: check it is installed before
// loading the channel, which imports it statically.
await requireOptional('ioredis', '@wire-auth/server/redis', () => import('ioredis'))
const channel: typeof RedisChannel = await import('./lib/channel/redis-channel.js')

/**
 * The Redis channel for several workers and machines. Needs the `ioredis`
 * package installed beside `@wire-auth/server`; without it, importing this
 * entry rejects with `ERR_OPTIONAL_DEPENDENCY_MISSING`.
 */
export const RedisAuthChannel: typeof RedisChannel.RedisAuthChannel = channel.RedisAuthChannel
export type RedisAuthChannel = RedisChannel.RedisAuthChannel
export type { RedisAuthChannelStats } from './lib/channel/redis-channel.js'
export type { RedisAuthChannelOptions } from './lib/channel/redis-options.js'
export type { ChannelLogger } from './lib/channel/redis-support.js'
