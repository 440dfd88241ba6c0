import type { Cluster, Redis } from 'ioredis'

import type { ChannelLogger } from './channel-logger.js'

export type { ChannelLogger } from './channel-logger.js'

/**
 * `url` with its password replaced by `***`, safe to log. A value that is
 * not a URL is not echoed at all.
 * @internal
 */
export function redactUrl(url: string): string {
  if (!URL.canParse(url)) return '<invalid url>'
  const parsed = new URL(url)
  if (parsed.password) parsed.password = '***'
  return parsed.toString()
}

/**
 * A loggable summary of an error (name, code, message), with `secret`
 * scrubbed from the message. Never the raw error: driver errors can carry
 * the connection options.
 * @internal
 */
export function describeError(err: unknown, secret: string | null): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: scrub(String(err), secret) }
  const code = (err as { code?: unknown }).code
  return { name: err.name, ...(typeof code === 'string' ? { code } : {}), message: scrub(err.message, secret) }
}

function scrub(text: string, secret: string | null): string {
  return secret ? text.split(secret).join('***') : text
}

/**
 * Ends one connection for good: QUIT when it is up (the server then closes
 * it, after the pending replies), else a hard disconnect, which also
 * cancels a pending reconnect. Resolves once no socket is left, or after
 * `timeoutMs` (then the socket is dropped).
 * @internal
 */
export async function closeConnection(conn: Redis | Cluster, timeoutMs: number): Promise<void> {
  if (conn.status === 'end') return
  let ended = false
  const end = new Promise<void>((resolve) =>
    conn.once('end', () => {
      ended = true
      resolve()
    }),
  )
  if (conn.status === 'ready') {
    conn.quit().catch(noop)
  } else {
    conn.disconnect()
    // While waiting to reconnect there is no socket: disconnect() only
    // cancelled the timer and no 'end' will come.
    if (!LIVE_SOCKET.has(conn.status)) return
  }
  await withTimeout(end, timeoutMs)
  if (!ended) conn.disconnect()
}

const LIVE_SOCKET: ReadonlySet<string> = new Set(['connecting', 'connect', 'ready', 'close'])

async function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
  })
  try {
    await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

function noop(): void {}
