import { WireAuthError, type WireAuthErrorCode } from '@wire-auth/core'

/**
 * Creates a coded error with an HTTP status, as fastify's `createError` does.
 * The server's error handler answers `{ error: { code, message } }`.
 * @internal
 */
export function httpError(code: WireAuthErrorCode, statusCode: number, message: string, cause?: unknown): WireAuthError {
  return new WireAuthError(code, message, { statusCode, cause })
}

/** The request needs a signed-in user. Code `ERR_UNAUTHENTICATED` (401). */
export class Unauthenticated extends WireAuthError {
  constructor(message = 'sign-in required', options?: { cause?: unknown }) {
    super('ERR_UNAUTHENTICATED', message, { statusCode: 401, ...options })
  }
}

/** The signed-in user is not allowed. Code `ERR_FORBIDDEN` (403). */
export class Forbidden extends WireAuthError {
  constructor(message = 'not allowed', options?: { cause?: unknown }) {
    super('ERR_FORBIDDEN', message, { statusCode: 403, ...options })
  }
}

/** The store cannot be reached or failed. Code `ERR_STORE_UNAVAILABLE` (503). */
export class StoreUnavailable extends WireAuthError {
  constructor(message = 'the auth store is unavailable', options?: { cause?: unknown }) {
    super('ERR_STORE_UNAVAILABLE', message, { statusCode: 503, ...options })
  }
}

/** No user with that id. Code `ERR_USER_NOT_FOUND` (404). */
export class UserNotFound extends WireAuthError {
  constructor(message = 'no such user', options?: { cause?: unknown }) {
    super('ERR_USER_NOT_FOUND', message, { statusCode: 404, ...options })
  }
}

/** A claim type or value is malformed. Code `ERR_INVALID_CLAIM` (400). */
export class InvalidClaim extends WireAuthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_INVALID_CLAIM', message, { statusCode: 400, ...options })
  }
}

/** A state-changing request came from a foreign origin. Code `ERR_ORIGIN_NOT_ALLOWED` (403). */
export class OriginNotAllowed extends WireAuthError {
  constructor(message = 'origin not allowed', options?: { cause?: unknown }) {
    super('ERR_ORIGIN_NOT_ALLOWED', message, { statusCode: 403, ...options })
  }
}

/**
 * A name wire-auth decorates (`request.user`, `app.auth`, …) is already taken
 * by another plugin, or wire-auth is registered twice. The message names the
 * `options.decorators` key to set. Code `ERR_DECORATOR_COLLISION` (500), at boot.
 */
export class DecoratorCollision extends WireAuthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_DECORATOR_COLLISION', message, { statusCode: 500, ...options })
  }
}
