export { RedisAuthChannel } from './lib/channel/redis-entry.js'
export type { RedisAuthChannelStats } from './lib/channel/redis-channel.js'
export type { RedisAuthChannelOptions } from './lib/channel/redis-options.js'
export type { ChannelLogger } from './lib/channel/redis-support.js'
