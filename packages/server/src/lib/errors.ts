import { ERROR_TABLE, WireAuthError, type WireAuthErrorCode } from '@wire-auth/core'

/**
 * The server's one way to build a coded error, as fastify's `createError`:
 * the code decides the status and the default message through core's
 * `ERROR_TABLE`; the throw site names the code and may say more, never a
 * status. The error handler answers `{ error: { code, message } }`.
 *
 * @example
 * ```ts
 * throw codedError('ERR_VALIDATION', '"name" must be a string')   // 400
 * throw codedError('ERR_MAIL_UNAVAILABLE', undefined, { cause })    // 503, the table's message
 * ```
 * @internal
 */
export function codedError(code: WireAuthErrorCode, message?: string, options?: { cause?: unknown }): WireAuthError {
  return new WireAuthError(code, message ?? ERROR_TABLE[code].message, { ...options, statusCode: ERROR_TABLE[code].status })
}

/** The options of a server error class, with its code's status from the table. */
function tabled(code: WireAuthErrorCode, options: { cause?: unknown } | undefined) {
  return { ...options, statusCode: ERROR_TABLE[code].status }
}

/** The request needs a signed-in user. Code `ERR_UNAUTHENTICATED` (401). */
export class Unauthenticated extends WireAuthError {
  constructor(message?: string, options?: { cause?: unknown }) {
    super('ERR_UNAUTHENTICATED', message ?? ERROR_TABLE.ERR_UNAUTHENTICATED.message, tabled('ERR_UNAUTHENTICATED', options))
  }
}

/** The signed-in user is not allowed. Code `ERR_FORBIDDEN` (403). */
export class Forbidden extends WireAuthError {
  constructor(message?: string, options?: { cause?: unknown }) {
    super('ERR_FORBIDDEN', message ?? ERROR_TABLE.ERR_FORBIDDEN.message, tabled('ERR_FORBIDDEN', options))
  }
}

/** The store cannot be reached or failed. Code `ERR_STORE_UNAVAILABLE` (503). */
export class StoreUnavailable extends WireAuthError {
  constructor(message?: string, options?: { cause?: unknown }) {
    super('ERR_STORE_UNAVAILABLE', message ?? ERROR_TABLE.ERR_STORE_UNAVAILABLE.message, tabled('ERR_STORE_UNAVAILABLE', options))
  }
}

/** No user with that id. Code `ERR_USER_NOT_FOUND` (404). */
export class UserNotFound extends WireAuthError {
  constructor(message?: string, options?: { cause?: unknown }) {
    super('ERR_USER_NOT_FOUND', message ?? ERROR_TABLE.ERR_USER_NOT_FOUND.message, tabled('ERR_USER_NOT_FOUND', options))
  }
}

/**
 * The account is disabled: signing in, issuing tokens, an OIDC login, or a
 * session the store refuses to create for it. Code `ERR_USER_DISABLED` (403).
 */
export class UserDisabled extends WireAuthError {
  constructor(message?: string, options?: { cause?: unknown }) {
    super('ERR_USER_DISABLED', message ?? ERROR_TABLE.ERR_USER_DISABLED.message, tabled('ERR_USER_DISABLED', options))
  }
}

/** A claim type or value is malformed. Code `ERR_INVALID_CLAIM` (400). */
export class InvalidClaim extends WireAuthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_INVALID_CLAIM', message ?? ERROR_TABLE.ERR_INVALID_CLAIM.message, tabled('ERR_INVALID_CLAIM', options))
  }
}

/** A state-changing request came from a foreign origin. Code `ERR_ORIGIN_NOT_ALLOWED` (403). */
export class OriginNotAllowed extends WireAuthError {
  constructor(message?: string, options?: { cause?: unknown }) {
    super('ERR_ORIGIN_NOT_ALLOWED', message ?? ERROR_TABLE.ERR_ORIGIN_NOT_ALLOWED.message, tabled('ERR_ORIGIN_NOT_ALLOWED', options))
  }
}

/**
 * A name wire-auth decorates (`request.user`, `app.auth`, …) is already taken
 * by another plugin, or wire-auth is registered twice. The message names the
 * `options.decorators` key to set. Code `ERR_DECORATOR_COLLISION` (500), at boot.
 */
export class DecoratorCollision extends WireAuthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_DECORATOR_COLLISION', message ?? ERROR_TABLE.ERR_DECORATOR_COLLISION.message, tabled('ERR_DECORATOR_COLLISION', options))
  }
}
