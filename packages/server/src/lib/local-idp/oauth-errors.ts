import { ERROR_TABLE, isWireAuthError, type WireAuthErrorCode } from '@wire-auth/core'
import type { FastifyError, FastifyInstance } from 'fastify'
import { BY_STATUS, statusOf } from '../error-handler.js'

/** The OAuth 2 `error` value of each wire-auth code; anything else is `invalid_request`. */
const OAUTH_ERROR: Partial<Record<WireAuthErrorCode, string>> = {
  ERR_INVALID_GRANT: 'invalid_grant',
  ERR_USER_DISABLED: 'invalid_grant',
  ERR_UNSUPPORTED_GRANT_TYPE: 'unsupported_grant_type',
  ERR_INVALID_CLIENT: 'invalid_client',
  ERR_RATE_LIMITED: 'temporarily_unavailable',
  ERR_STORE_UNAVAILABLE: 'temporarily_unavailable',
  ERR_INTERNAL: 'server_error',
}

/** An OAuth 2 error body: RFC 6749 §5.2 members plus wire-auth's `code`. */
export interface OAuthErrorBody {
  error: string
  error_description: string
  code: WireAuthErrorCode
}

/** The RFC 6749 §5.2 body of a wire-auth code and message. @internal */
export function oauthErrorBody(code: WireAuthErrorCode, message: string): OAuthErrorBody {
  return { error: OAUTH_ERROR[code] ?? 'invalid_request', error_description: message.slice(0, 300), code }
}

/**
 * Error handler of the token, revocation and introspection routes: the status
 * of the main handler, the body of RFC 6749 §5.2 / RFC 7009 §2.2.1 / RFC 7662
 * §2.3 (`error`, `error_description`) with wire-auth's `code` as an extra
 * member. Internal failures answer `server_error` without detail.
 * `authenticatesClients: false` (the authorization endpoint) answers an
 * unknown client with 400 rather than the table's 401.
 * @internal
 */
export function installOAuthErrorHandler(scope: FastifyInstance, options: { authenticatesClients?: boolean } = {}): void {
  const authenticatesClients = options.authenticatesClients ?? true
  scope.setErrorHandler(function oauthErrorHandler(error: FastifyError | Error, request, reply) {
    if (isWireAuthError(error)) {
      const tableStatus = statusOf(error)
      if (tableStatus >= 500) request.log.error({ code: error.code, err: error.cause ?? error }, error.message)
      // As the main handler: a 5xx says only the table's message, the thrown one stays in the log (F13).
      const message = tableStatus >= 500 ? ERROR_TABLE[error.code].message : error.message
      // ERR_INVALID_CLIENT is 401, client authentication failed (RFC 6749 §5.2); the authorization
      // endpoint authenticates no client and shows the error to the user agent (§4.1.2.1): a plain 400.
      const status = error.code === 'ERR_INVALID_CLIENT' && !authenticatesClients ? ERROR_TABLE.ERR_VALIDATION.status : tableStatus
      return reply.code(status).send(oauthErrorBody(error.code, message))
    }
    const fastifyError = error as FastifyError
    if (fastifyError.validation) {
      return reply.code(ERROR_TABLE.ERR_VALIDATION.status).send(oauthErrorBody('ERR_VALIDATION', `${fastifyError.validationContext ?? 'request'} ${fastifyError.message.replace(/^[a-z]+\//, '')}`))
    }
    const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500
    if (status === 429) return reply.code(429).send(oauthErrorBody('ERR_RATE_LIMITED', ERROR_TABLE.ERR_RATE_LIMITED.message))
    if (status >= 400 && status < 500) return reply.code(status).send(oauthErrorBody(BY_STATUS[status] ?? 'ERR_VALIDATION', fastifyError.message))
    request.log.error({ err: error }, 'unexpected error')
    return reply.code(500).send(oauthErrorBody('ERR_INTERNAL', ERROR_TABLE.ERR_INTERNAL.message))
  })
}
