import type { WireAuthLogger } from '@wire-auth/core'

/**
 * What the channels log to: the whole of core's one logger subset
 * (`WireAuthLogger`; `app.log` fits).
 * Its own file, free of `ioredis`: the main entry's declarations name it, and
 * they must compile for a consumer who did not install the optional peer.
 */
export type ChannelLogger = WireAuthLogger
