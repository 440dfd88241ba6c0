import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'

/** What {@link corsHook} needs. @internal */
export interface CorsDeps {
  isAllowedOrigin(origin: string | undefined): boolean
}

const METHODS = 'GET, POST, DELETE'
const HEADERS = 'content-type, authorization'
const MAX_AGE = '600'

/** Appends `value` to the Vary header unless it is there already (or `*`). */
function addVary(reply: FastifyReply, value: string): void {
  const current = reply.getHeader('vary')
  if (current === undefined) {
    reply.header('vary', value)
    return
  }
  const list = String(current)
  if (list.trim() === '*' || list.split(',').some((part) => part.trim().toLowerCase() === value.toLowerCase())) return
  reply.header('vary', `${list}, ${value}`)
}

/**
 * Credentialed CORS for wire-auth's own routes, limited to the backend's
 * origin and `allowedOrigins`, answering their preflights (204).
 *
 * Not @fastify/cors, on purpose: it decorates every request
 * (`corsPreflightEnabled`) and adds a catch-all `OPTIONS *` route, so a host
 * that registers it too — before or after wire-auth, for its own partner
 * origins — collided (`FST_ERR_DEC_ALREADY_PRESENT`, duplicate route), and
 * its catch-all answered the host's preflights with wire-auth's origins.
 * Here the hook runs only in wire-auth's scope and each of wire-auth's URLs
 * gets its own OPTIONS route. It also takes back an
 * `Access-Control-Allow-Origin` a host's global CORS hook set for an origin
 * wire-auth does not allow: the host's partners never read wire-auth's
 * credentialed answers.
 * @internal
 */
export function corsHook(deps: CorsDeps): onRequestHookHandler {
  return function wireAuthCors(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) {
    const origin = request.headers.origin
    addVary(reply, 'Origin')
    if (!deps.isAllowedOrigin(origin)) {
      reply.removeHeader('access-control-allow-origin')
      reply.removeHeader('access-control-allow-credentials')
      done()
      return
    }
    reply.header('access-control-allow-origin', origin).header('access-control-allow-credentials', 'true')
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      reply
        .code(204)
        .header('access-control-allow-methods', METHODS)
        .header('access-control-allow-headers', HEADERS)
        .header('access-control-max-age', MAX_AGE)
        .header('content-length', '0')
        .send()
      return
    }
    done()
  }
}
