import type { FastifyInstance } from 'fastify'
import type { AuthContext } from './context.js'
import { codedError } from './errors.js'

/** How long the store may take to answer `ping()` before health says 503. */
const PING_TIMEOUT_MS = 2000

/** True unless the channel says it is disconnected (`RedisAuthChannel.connected`); in-process channels are always up. */
function channelUp(channel: unknown): boolean {
  const connected = (channel as { connected?: unknown }).connected
  return typeof connected !== 'boolean' || connected
}

async function storeUp(ctx: AuthContext): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      ctx.store.ping().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(resolve, PING_TIMEOUT_MS, false))),
    ])
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}

/**
 * `GET /auth/health`: 200 `{ status: "ok" }` when the store answers a ping
 * (within 2 s) and the channel is connected; else 503
 * `ERR_STORE_UNAVAILABLE` / `ERR_CHANNEL_UNAVAILABLE` with a fixed message
 * (no driver error, host or address: the route is public, for load
 * balancers and orchestrators). The cause is logged.
 * @internal
 */
export function registerHealthRoute(app: FastifyInstance, ctx: AuthContext): void {
  app.get('/auth/health', { config: { wireAuth: 'public' } }, async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    if (!(await storeUp(ctx))) throw codedError('ERR_STORE_UNAVAILABLE', 'the store is unavailable')
    if (!channelUp(ctx.channel)) throw codedError('ERR_CHANNEL_UNAVAILABLE', 'the channel is unavailable')
    return { status: 'ok' }
  })
}
