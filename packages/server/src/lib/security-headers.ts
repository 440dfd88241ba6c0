import type { ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import helmet, { type HelmetOptions } from 'helmet'

/** A header helmet sets (value) or removes (null). @internal */
export type HeaderChange = readonly [name: string, value: string | string[] | null]

/**
 * Runs helmet once against a recording response and returns the headers it
 * sets. Our configuration is static (no per-request nonces), so the result is
 * the same for every request: applying it is a loop of `setHeader` instead of
 * rebuilding helmet (and re-parsing the CSP) on each request, which is what
 * `@fastify/helmet` does.
 * @internal
 */
export function staticSecurityHeaders(options: Readonly<HelmetOptions>): HeaderChange[] {
  const changes = new Map<string, string | string[] | null>()
  const recorder = {
    setHeader(name: string, value: string | string[]) {
      changes.set(name.toLowerCase(), value)
      return recorder
    },
    removeHeader(name: string) {
      changes.set(name.toLowerCase(), null)
    },
    getHeader: () => undefined,
  }
  let failure: unknown
  helmet(options)({} as never, recorder as unknown as ServerResponse, (err?: unknown) => {
    failure = err
  })
  if (failure !== undefined) throw failure
  return [...changes]
}

/** Applies {@link staticSecurityHeaders} output to a response. @internal */
export function applySecurityHeaders(res: ServerResponse, changes: readonly HeaderChange[]): void {
  for (const [name, value] of changes) {
    if (value === null) res.removeHeader(name)
    else res.setHeader(name, value)
  }
}

/**
 * wire-auth's own header policy, as helmet options: helmet's defaults plus a
 * strict CSP (`script-src 'self'`, no inline script) that lets
 * `allowedOrigins` connect and frame, and a cross-origin resource policy so
 * those origins can load the bundle and fragments. Use it with
 * `@fastify/helmet` or {@link securityHeaders} to give a host route the
 * headers wire-auth's routes get.
 *
 * @example
 * ```ts
 * await app.register(helmet, { global: false })
 * app.get('/account', { helmet: wireAuthHelmetOptions(['https://www.example.com']) }, handler)
 * ```
 */
export function wireAuthHelmetOptions(allowedOrigins: readonly string[] = []): HelmetOptions {
  return {
    // The bundle and fragments are meant to be embedded by allowed origins.
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        connectSrc: ["'self'", ...allowedOrigins],
        imgSrc: ["'self'", 'data:'],
        styleSrc: ["'self'", "'unsafe-inline'"],
        frameAncestors: ["'self'", ...allowedOrigins],
        formAction: ["'self'"],
      },
    },
  }
}

/**
 * An `onRequest` hook setting helmet's headers (default: the
 * {@link wireAuthHelmetOptions} preset), computed once. wire-auth sets them on
 * its own routes only; a host opts a route or a scope in with this hook.
 *
 * @example
 * ```ts
 * app.get('/admin', { onRequest: securityHeaders() }, handler)           // one route
 * app.register(async (scope) => { scope.addHook('onRequest', securityHeaders()) })  // a scope
 * ```
 * @throws Whatever helmet throws for invalid options (at the call, not per request).
 */
export function securityHeaders(options: Readonly<HelmetOptions> = wireAuthHelmetOptions()): onRequestHookHandler {
  const headers = staticSecurityHeaders(options)
  return function wireAuthSecurityHeaders(_request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) {
    applySecurityHeaders(reply.raw, headers)
    done()
  }
}
