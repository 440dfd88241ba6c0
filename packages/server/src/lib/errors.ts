import { ERROR_TABLE, WireAuthError, type WireAuthErrorCode, type WireAuthErrorOptions } from '@wire-auth/core'

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
  return new WireAuthError(...fromTable(code, message, options))
}

/**
 * The arguments of `WireAuthError`'s constructor for `code`: the table's
 * message unless one is given, and the table's status. Every server error
 * class passes them to `super`.
 * @internal
 */
export function fromTable(code: WireAuthErrorCode, message?: string, options?: { cause?: unknown }): [WireAuthErrorCode, string, WireAuthErrorOptions] {
  return [code, message ?? ERROR_TABLE[code].message, { ...options, statusCode: ERROR_TABLE[code].status }]
}

/** The request needs a signed-in user. Code `ERR_UNAUTHENTICATED`. */
export class Unauthenticated extends WireAuthError {
  constructor(message?: string, options?: { cause?: unknown }) {
    super(...fromTable('ERR_UNAUTHENTICATED', message, options))
  }
}

/** The signed-in user is not allowed. Code `ERR_FORBIDDEN`. */
export class Forbidden extends WireAuthError {
  constructor(message?: string, options?: { cause?: unknown }) {
    super(...fromTable('ERR_FORBIDDEN', message, options))
  }
}

/** The store cannot be reached or failed. Code `ERR_STORE_UNAVAILABLE`. */
export class StoreUnavailable extends WireAuthError {
  constructor(message?: string, options?: { cause?: unknown }) {
    super(...fromTable('ERR_STORE_UNAVAILABLE', message, options))
  }
}

/** No user with that id. Code `ERR_USER_NOT_FOUND`. */
export class UserNotFound extends WireAuthError {
  constructor(message?: string, options?: { cause?: unknown }) {
    super(...fromTable('ERR_USER_NOT_FOUND', message, options))
  }
}

/**
 * The account is disabled: signing in, issuing tokens, an OIDC login, or a
 * session the store refuses to create for it. Code `ERR_USER_DISABLED`.
 */
export class UserDisabled extends WireAuthError {
  constructor(message?: string, options?: { cause?: unknown }) {
    super(...fromTable('ERR_USER_DISABLED', message, options))
  }
}

/** A claim type or value is malformed. Code `ERR_INVALID_CLAIM`. */
export class InvalidClaim extends WireAuthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(...fromTable('ERR_INVALID_CLAIM', message, options))
  }
}

/** A state-changing request came from a foreign origin. Code `ERR_ORIGIN_NOT_ALLOWED`. */
export class OriginNotAllowed extends WireAuthError {
  constructor(message?: string, options?: { cause?: unknown }) {
    super(...fromTable('ERR_ORIGIN_NOT_ALLOWED', message, options))
  }
}

/**
 * A name wire-auth decorates (`request.user`, `app.auth`, …) is already taken
 * by another plugin, or wire-auth is registered twice. The message names the
 * `options.decorators` key to set. Code `ERR_DECORATOR_COLLISION`, at boot.
 */
export class DecoratorCollision extends WireAuthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(...fromTable('ERR_DECORATOR_COLLISION', message, options))
  }
}
