import { requireOptional } from '../optional-dependency.js'
import type * as RedisChannel from './redis-channel.js'

// `ioredis` is an optional peer dependency. A static import of the channel
// would fail while Node links the module graph, before any code runs, with
// ERR_MODULE_NOT_FOUND; checking first, then loading, makes it a coded error.
await requireOptional('ioredis', '@wire-auth/server/redis', () => import('ioredis'))
const channel: typeof RedisChannel = await import('./redis-channel.js')

/**
 * The Redis channel for several workers and machines. Needs the `ioredis` package
 * installed beside `@wire-auth/server`; without it, importing
 * `@wire-auth/server/redis` rejects with `ERR_OPTIONAL_DEPENDENCY_MISSING`.
 */
export const RedisAuthChannel: typeof RedisChannel.RedisAuthChannel = channel.RedisAuthChannel
export type RedisAuthChannel = RedisChannel.RedisAuthChannel
