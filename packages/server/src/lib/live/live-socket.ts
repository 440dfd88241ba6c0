import websocket from '@fastify/websocket'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { WebSocket } from 'ws'
import type { AuthContext } from '../context.js'
import { codedError, OriginNotAllowed } from '../errors.js'
import type { FragmentRegistry } from '../fragments/fragment-registry.js'
import { clientBucket } from '../local-idp/throttle.js'
import { principalOf, sessionIdOf } from '../request-state.js'
import { LiveHub } from './live-hub.js'

/**
 * Frames above this are refused by `ws` itself (close 1009, no message);
 * frames between `live.maxMessageBytes` and this get the coded error first.
 */
function hardPayloadCap(maxMessageBytes: number): number {
  return Math.max(maxMessageBytes * 2, maxMessageBytes + 4096)
}

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization
  return typeof header === 'string' && /^bearer /i.test(header) ? header.slice(7).trim() || null : null
}

/** Logs a socket error; terminates the socket unless ws is already closing it. */
function socketErrorHandler(ctx: AuthContext): (error: Error, socket: WebSocket) => void {
  return function socketError(error: Error, socket: WebSocket): void {
    // ws has already started the closing handshake for protocol errors (oversized frame, bad opcode).
    const code = (error as { code?: unknown }).code
    ctx.log.debug({ code: typeof code === 'string' ? code : undefined, errorMessage: error.message }, 'live socket error')
    if (typeof code !== 'string' || !code.startsWith('WS_ERR_')) socket.terminate()
  }
}

/**
 * Registers `@fastify/websocket` on the host's app unless it already did
 * (its `websocketServer` stays where hosts and tools look for it; a host
 * using it too registers it before wire-auth, which reuses it).
 * @returns true when wire-auth registered it (its errorHandler is ours).
 * @internal
 */
export async function registerWebsocketPlugin(app: FastifyInstance, ctx: AuthContext): Promise<boolean> {
  if (app.hasDecorator('websocketServer')) return false
  await app.register(websocket, {
    options: { maxPayload: hardPayloadCap(ctx.options.live.maxMessageBytes), perMessageDeflate: false },
    errorHandler: socketErrorHandler(ctx),
  })
  return true
}

/**
 * Mounts the live socket `GET /auth/live` (docs/protocol.md): refuses a
 * foreign or missing `Origin` with 403 before the upgrade, adopts sockets
 * into a {@link LiveHub}, which listens to the channel itself.
 * `ownPlugin`: {@link registerWebsocketPlugin}'s answer.
 * @returns The hub (socket counts, for diagnostics and tests).
 * @internal
 */
export async function registerLiveSocket(app: FastifyInstance, ctx: AuthContext, registry: FragmentRegistry, ownPlugin: boolean): Promise<LiveHub> {
  const { live } = ctx.options
  const socketError = socketErrorHandler(ctx)
  /** One listener for every socket (see releaseUpgrade). */
  function onSocketError(this: WebSocket, error: Error): void {
    socketError(error, this)
  }

  /** The upgrade's ServerResponse, from the route's onRequest hook to its wsHandler. */
  const upgradeResponses = new WeakMap<IncomingMessage, ServerResponse>()

  /**
   * @fastify/websocket keeps two things per open socket that nothing uses
   * once it is open: the upgrade's ServerResponse (never sent; it assigns it
   * to the TCP socket), and an `error` listener closing over the Fastify
   * request and reply. Together with the reply they were ~3 KiB of heap per
   * idle socket. Detach the response, and let one shared listener do what
   * the errorHandler above does. The Fastify request itself stays: it is the
   * `request` policies, `load` and `render` receive (docs/protocol.md).
   */
  function releaseUpgrade(socket: WebSocket, request: FastifyRequest): void {
    const response = upgradeResponses.get(request.raw)
    upgradeResponses.delete(request.raw)
    if (response?.socket) {
      try {
        response.detachSocket(response.socket)
      } catch {
        // Already detached or re-assigned elsewhere: leave it.
      }
    }
    // Exactly the plugin's listener (added just before wsHandler); with any other listener present, leave them all.
    const listeners = socket.listeners('error')
    if (ownPlugin && listeners.length === 1 && listeners[0] !== onSocketError) {
      socket.removeListener('error', listeners[0] as (...args: unknown[]) => void)
      socket.on('error', onSocketError)
    }
  }

  const hub = new LiveHub({
    registry,
    sessions: ctx.sessions,
    store: ctx.store,
    tokens: ctx.localIdp,
    log: ctx.log,
    limits: live,
    onFanout: ctx.metrics === null ? undefined : ctx.metrics.fanout,
    channel: ctx.channel,
  })
  // The hub subscribes itself to the channel here and leaves it on close.
  hub.start()
  app.addHook('onClose', async () => {
    hub.close()
  })

  function checkOrigin(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    // Cross-site WebSocket hijacking: browsers send cookies on any upgrade, so the Origin decides.
    if (ctx.isAllowedOrigin(request.headers.origin)) {
      // Checklist 28: over a socket cap the upgrade is refused before 101 (hub.open checks again, for races).
      const refused = request.ws ? hub.refusal(clientBucket(request.ip), principalOf(request)) : null
      if (refused !== null) {
        reply.header('cache-control', 'no-store').header('retry-after', '5')
        done(codedError(refused, 'too many open sockets'))
        return
      }
      if (request.ws) upgradeResponses.set(request.raw, reply.raw)
      done()
      return
    }
    reply.header('cache-control', 'no-store')
    done(new OriginNotAllowed())
  }

  app.route({
    method: 'GET',
    url: '/auth/live',
    config: { wireAuth: 'guarded' },
    onRequest: checkOrigin,
    // A plain GET (no upgrade) gets a coded answer rather than @fastify/websocket's empty 404.
    handler(_request, reply) {
      reply.header('upgrade', 'websocket').header('cache-control', 'no-store')
      throw codedError('ERR_UPGRADE_REQUIRED', '/auth/live is a WebSocket endpoint: open it with an upgrade request')
    },
    wsHandler(socket, request) {
      releaseUpgrade(socket, request)
      const user = principalOf(request)
      const sessionHash = sessionIdOf(request)
      hub.open(socket, request, user, sessionHash, user.isAuthenticated && sessionHash === null ? bearerToken(request) : null, clientBucket(request.ip))
    },
  })

  return hub
}
