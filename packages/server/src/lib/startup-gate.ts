import { STATUS_CODES, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { ERROR_TABLE, errorBody } from '@wire-auth/core'

/** What {@link startupGate} returns. */
export interface StartupGate {
  /**
   * Fastify's `serverFactory` option: hands the gated server to Fastify,
   * which answers requests only once {@link StartupGate.open} was called.
   */
  serverFactory(handler: RequestListener): Server
  /** Lets requests through to Fastify. Call it after `await app.ready()`. */
  open(): void
  /** True once {@link StartupGate.open} was called. */
  readonly isOpen: boolean
}

// Outside Fastify (no error handler runs here): the same body and status, from the one table.
const NOT_READY = JSON.stringify(errorBody('ERR_NOT_READY', ERROR_TABLE.ERR_NOT_READY.message))
const NOT_READY_STATUS = ERROR_TABLE.ERR_NOT_READY.status

/**
 * For a server that listens before its Fastify app is ready (to learn its
 * port first, as the demo does with `PORT=0`): until {@link StartupGate.open},
 * every request answers 503 `ERR_NOT_READY` with `Retry-After: 1`, and every
 * WebSocket upgrade is refused the same way, instead of reaching a Fastify
 * whose routes are not ready (a request in that window crashed the process
 * with a TypeError in Fastify's hooks). A load balancer or a tab left open
 * cannot take a starting process down.
 *
 * @example
 * ```ts
 * const server = http.createServer()
 * await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))   // port known from here
 * const gate = startupGate(server)
 * const app = Fastify({ serverFactory: gate.serverFactory })
 * await connectAuth(app, { publicUrl: `http://localhost:${(server.address() as AddressInfo).port}` })
 * await app.ready()
 * gate.open()
 * ```
 */
export function startupGate(server: Server): StartupGate {
  let open = false
  let handler: RequestListener | null = null

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (open && handler !== null) {
      handler(request, response)
      return
    }
    response.writeHead(NOT_READY_STATUS, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(NOT_READY) })
    response.end(NOT_READY)
  })

  // Upgrade listeners (@fastify/websocket's) run only once the gate is open;
  // until then this one refuses the upgrade. Listeners added through the
  // server are wrapped, so none of them sees an upgrade before the app is ready.
  const addListener = server.addListener.bind(server)
  const prependListener = server.prependListener.bind(server)
  const wrap = (event: string | symbol, listener: (...args: unknown[]) => void): ((...args: unknown[]) => void) => {
    if (event !== 'upgrade') return listener
    const gated = (...args: unknown[]) => {
      if (open) listener(...args)
    }
    // Lets removeListener(event, listener) find the wrapper (as `once` does).
    ;(gated as { listener?: unknown }).listener = listener
    return gated
  }
  server.on = server.addListener = ((event: string | symbol, listener: (...args: unknown[]) => void) => addListener(event, wrap(event, listener))) as Server['on']
  server.prependListener = ((event: string | symbol, listener: (...args: unknown[]) => void) => prependListener(event, wrap(event, listener))) as Server['prependListener']
  addListener('upgrade', (_request: IncomingMessage, socket: Duplex) => {
    if (open) return
    socket.end(`HTTP/1.1 ${NOT_READY_STATUS} ${STATUS_CODES[NOT_READY_STATUS]}\r\ncontent-type: application/json; charset=utf-8\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(NOT_READY)}\r\n\r\n${NOT_READY}`)
  })

  return {
    serverFactory(fastifyHandler: RequestListener): Server {
      handler = fastifyHandler
      return server
    },
    open() {
      open = true
    },
    get isOpen() {
      return open
    },
  }
}
