import { ERROR_TABLE, errorBody, isWireAuthError, type WireAuthError, type WireAuthErrorCode } from '@wire-auth/core'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/**
 * The wire-auth code of a Fastify error (or a plugin's) that carries only a
 * status: the inverse of core's ERROR_TABLE for these statuses, shared by
 * every error handler. @internal
 */
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

/** The HTTP status of a wire-auth error: its code's in the table (the error's own for a code the table lacks). @internal */
export function statusOf(error: WireAuthError): number {
  return Object.hasOwn(ERROR_TABLE, error.code) ? ERROR_TABLE[error.code].status : error.statusCode
}

/** The error body of `code`; without a message, the table's (the only one a 5xx gives). */
function body(code: WireAuthErrorCode, message: string = ERROR_TABLE[code].message) {
  return errorBody(code, message)
}

/**
 * wire-auth's error handler: every error becomes its HTTP status and
 * `{ error: { code, message } }`, the status decided by code in core's
 * `ERROR_TABLE`. Unexpected errors answer 500 `ERR_INTERNAL` without any
 * detail, and every coded 5xx answers the table's message for its code:
 * stack traces, store classes, operations and driver codes stay in the log.
 * wire-auth sets it on its own routes only; a host opts its routes in with
 * `setErrorHandler`.
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
    // By code, from the table: also right for an error a host built with `new WireAuthError(code, message)`.
    const status = statusOf(error)
    if (status >= 500) {
      // The thrown message may name the store class, the operation and the driver's
      // code (useful in the log, revealing to a client): a 5xx says only the table's (F13).
      request.log.error({ code: error.code, err: error.cause ?? error }, error.message)
      return reply.code(status).send(body(error.code))
    }
    return reply.code(status).send(body(error.code, error.message))
  }
  const fastifyError = error as FastifyError & { error?: { code?: string } }
  if (fastifyError.validation) {
    return reply.code(ERROR_TABLE.ERR_VALIDATION.status).send(body('ERR_VALIDATION', `${fastifyError.validationContext ?? 'request'} ${fastifyError.message.replace(/^[a-z]+\//, '')}`.slice(0, 300)))
  }
  const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500
  if (status === 429) return reply.code(429).send(body('ERR_RATE_LIMITED'))
  if (status >= 400 && status < 500) {
    // A status no code stands for (a 405 of a plugin…) keeps its status, under the generic request code.
    const code = BY_STATUS[status] ?? 'ERR_VALIDATION'
    // Fastify's own 4xx messages (bad JSON, body too large, media type) hold no secrets.
    return reply.code(status).send(body(code, fastifyError.message.slice(0, 300)))
  }
  request.log.error({ err: error }, 'unexpected error')
  return reply.code(500).send(body('ERR_INTERNAL'))
}

/** Sets {@link wireAuthErrorHandler} on `app` (wire-auth's scope). @internal */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler(wireAuthErrorHandler)
}
