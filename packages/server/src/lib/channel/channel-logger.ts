/**
 * pino-compatible logger subset (`app.log` fits), taken by the channels.
 * Its own file, free of `ioredis`: the main entry's declarations name it, and
 * they must compile for a consumer who did not install the optional peer.
 */
export interface ChannelLogger {
  debug?(obj: Record<string, unknown>, msg?: string): void
  info(obj: Record<string, unknown>, msg?: string): void
  warn(obj: Record<string, unknown>, msg?: string): void
  error(obj: Record<string, unknown>, msg?: string): void
}
