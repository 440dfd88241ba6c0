import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import type { AuthEvent } from '../src/lib/channel/auth-channel.js'
import type { ChannelLogger } from '../src/redis.js'

/** The shared Redis of the test machine. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A channel name no other test (file or run) uses. */
export function uniqueChannel(label: string): string {
  return `wire-auth:test:${label}:${randomBytes(6).toString('hex')}`
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error'
  obj: Record<string, unknown>
  msg: string | undefined
}

/** A logger that keeps every line, to assert on codes and on what is never logged. */
export function memoryLogger(): { logger: ChannelLogger; lines: LogLine[]; text(): string } {
  const lines: LogLine[] = []
  const at = (level: LogLine['level']) => (obj: Record<string, unknown>, msg?: string) => {
    lines.push({ level, obj, msg })
  }
  return {
    logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    lines,
    text: () => lines.map((line) => `${line.level} ${line.msg} ${JSON.stringify(line.obj)}`).join('\n'),
  }
}

/** Collects the events a channel delivers. */
export function recorder(): { events: AuthEvent[]; listener(event: AuthEvent): void } {
  const events: AuthEvent[] = []
  return { events, listener: (event) => void events.push(event) }
}

/** A plain client for publishing by hand (as a foreign or broken worker would). */
export function rawClient(url = REDIS_URL): Redis {
  return new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 })
}

/** Strips `origin` so events compare by content. */
export function withoutOrigin(event: AuthEvent): Omit<AuthEvent, 'origin'> {
  const { origin: _origin, ...rest } = event
  return rest
}
