import type { FastifyRequest } from 'fastify'

/** Methods that change state: a browser sends them cross-site with cookies. @internal */
export const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** Reads the origin a browser request came from: Origin, else Referer's origin. @internal */
export function requestOrigin(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin
  if (typeof origin === 'string') return origin
  const referer = request.headers.referer
  if (typeof referer === 'string') {
    try {
      return new URL(referer).origin
    } catch {
      return 'null'
    }
  }
  return undefined
}

/**
 * Why a state-changing request must not act on a browser's credentials
 * (CSRF), or null when it may: a safe method, an allowed origin, or a
 * non-browser client (no Origin, Referer or `Sec-Fetch-Site: cross-site`).
 * @internal
 */
export function foreignUnsafeRequest(request: FastifyRequest, isAllowedOrigin: (origin: string | undefined) => boolean): string | null {
  if (!UNSAFE_METHODS.has(request.method)) return null
  const origin = requestOrigin(request)
  if (origin !== undefined) return isAllowedOrigin(origin) ? null : `origin ${JSON.stringify(origin).slice(0, 200)} is not allowed`
  if (request.headers['sec-fetch-site'] === 'cross-site') return 'cross-site request without an allowed origin'
  return null
}
