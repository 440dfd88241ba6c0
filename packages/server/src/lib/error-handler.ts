import { isWireAuthError, type WireAuthErrorCode } from '@wire-auth/core'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** The wire-auth code of a Fastify error that carries only a 4xx/5xx status (one table for every error handler). @internal */
export const BY_STATUS: Readonly<Record<number, WireAuthErrorCode>> = {
  400: 'ERR_VALIDATION',
  401: 'ERR_UNAUTHENTICATED',
  403: 'ERR_FORBIDDEN',
  404: 'ERR_NOT_FOUND',
  413: 'ERR_BODY_TOO_LARGE',
  415: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  429: 'ERR_RATE_LIMITED',
  503: 'ERR_STORE_UNAVAILABLE',
}

/**
 * What a 5xx answer says, per code. The error's own message names the store
 * class, the internal operation and the driver's code (useful in the log,
 * useless and revealing to a client): it is logged, never sent (F13).
 */
const SERVER_FAULT_MESSAGES: Partial<Record<WireAuthErrorCode, string>> = {
  ERR_STORE_UNAVAILABLE: 'the auth store is unavailable; retry later',
  ERR_CHANNEL_UNAVAILABLE: 'the auth channel is unavailable; retry later',
  ERR_PROVIDER_UNAVAILABLE: 'the identity provider is unavailable; retry later',
  ERR_BUNDLE_NOT_BUILT: 'the elements bundle is not built',
}

/** Body of an error answer: `{ error: { code, message } }`. */
function body(code: string, message: string) {
  return { error: { code, message } }
}

/**
 * wire-auth's error handler: every error becomes its HTTP status and
 * `{ error: { code, message } }`. Unexpected errors answer 500
 * `ERR_INTERNAL` without any detail, and every coded 5xx answers a fixed
 * message per code: stack traces, store classes, operations and driver codes
 * stay in the log. wire-auth sets it on its own routes only; a host opts its routes
 * in with `setErrorHandler`.
 *
 * @example
 * ```ts
 * app.register(async (api) => {
 *   api.setErrorHandler(wireAuthErrorHandler)
 *   api.get('/api/admin', { preHandler: app.requirePolicy('AdminOnly') }, handler)
 * })
 * ```
 */
export function wireAuthErrorHandler(this: unknown, error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isWireAuthError(error)) {
    if (error.statusCode >= 500) {
      request.log.error({ code: error.code, err: error.cause ?? error }, error.message)
      return reply.code(error.statusCode).send(body(error.code, SERVER_FAULT_MESSAGES[error.code] ?? 'internal error'))
    }
    return reply.code(error.statusCode).send(error.toJSON())
  }
  const fastifyError = error as FastifyError & { error?: { code?: string } }
  if (fastifyError.validation) {
    return reply.code(400).send(body('ERR_VALIDATION', `${fastifyError.validationContext ?? 'request'} ${fastifyError.message.replace(/^[a-z]+\//, '')}`.slice(0, 300)))
  }
  const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500
  if (status === 429) return reply.code(429).send(body('ERR_RATE_LIMITED', 'too many requests'))
  if (status >= 400 && status < 500) {
    const code = BY_STATUS[status] ?? 'ERR_VALIDATION'
    // Fastify's own 4xx messages (bad JSON, body too large, media type) hold no secrets.
    return reply.code(status).send(body(code, fastifyError.message.slice(0, 300)))
  }
  request.log.error({ err: error }, 'unexpected error')
  return reply.code(500).send(body('ERR_INTERNAL', 'internal error'))
}

/** Sets {@link wireAuthErrorHandler} on `app` (wire-auth's scope). @internal */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler(wireAuthErrorHandler)
}
