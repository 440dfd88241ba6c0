// Type-only: the table stays out of the browser bundle (the elements need codes, not statuses).
import type { WireAuthErrorCode } from './error-table.js'

export type { WireAuthErrorCode } from './error-table.js'

/** Options accepted by every wire-auth error. */
export interface WireAuthErrorOptions {
  /** The underlying error (jose, openid-client, a driver…). */
  cause?: unknown
  /**
   * The code's status in `ERROR_TABLE`, filled in by the constructors that read
   * the table (the server's `codedError` and error classes); a throw site
   * never passes one. Defaults to 500.
   * @internal
   */
  statusCode?: number
}

/**
 * Base class of every wire-auth error.
 *
 * @example
 * ```ts
 * try { engine.addPolicy('A', {}) } catch (err) {
 *   if (err instanceof WireAuthError && err.code === 'ERR_POLICY_INVALID') …
 * }
 * ```
 */
export class WireAuthError extends Error {
  /** Stable machine-readable code, listed in docs/errors.md. */
  readonly code: WireAuthErrorCode
  /**
   * The code's HTTP status from `ERROR_TABLE` when the error was built by
   * one of wire-auth's constructors; 500 for a bare `new WireAuthError`
   * (wire-auth's error handlers look the status up by code either way).
   */
  readonly statusCode: number

  constructor(code: WireAuthErrorCode, message: string, options: WireAuthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = this.constructor.name
    this.code = code
    this.statusCode = options.statusCode ?? 500
  }

  /** The JSON body every wire-auth HTTP error answers with (see {@link errorBody}). */
  toJSON(): WireAuthErrorBody {
    return errorBody(this.code, this.message)
  }
}

/** The JSON body of a wire-auth HTTP error. */
export interface WireAuthErrorBody {
  error: { code: WireAuthErrorCode; message: string }
}

/**
 * The one writer of `{ error: { code, message } }`, the body of every
 * wire-auth HTTP error. The server's error handler uses it, and so does
 * anything that must answer outside Fastify (the start-up gate).
 *
 * @example
 * ```ts
 * errorBody('ERR_NOT_READY', ERROR_TABLE.ERR_NOT_READY.message)
 * ```
 */
export function errorBody(code: WireAuthErrorCode, message: string): WireAuthErrorBody {
  return { error: { code, message } }
}

/** True when `err` is a {@link WireAuthError}, optionally with the given code. */
export function isWireAuthError(err: unknown, code?: WireAuthErrorCode): err is WireAuthError {
  return err instanceof WireAuthError && (code === undefined || err.code === code)
}

/** An option passed at registration is missing or malformed. Code `ERR_INVALID_OPTION`. */
export class InvalidOption extends WireAuthError {
  constructor(message: string, options?: WireAuthErrorOptions) {
    super('ERR_INVALID_OPTION', message, options)
  }
}

/** A policy name was registered twice. Code `ERR_POLICY_DUPLICATE`. */
export class PolicyDuplicate extends WireAuthError {
  constructor(message: string, options?: WireAuthErrorOptions) {
    super('ERR_POLICY_DUPLICATE', message, options)
  }
}

/** A policy requirement is malformed. Code `ERR_POLICY_INVALID`. */
export class PolicyInvalid extends WireAuthError {
  constructor(message: string, options?: WireAuthErrorOptions) {
    super('ERR_POLICY_INVALID', message, options)
  }
}

/** A named policy is not registered; evaluation denies. Code `ERR_POLICY_NOT_FOUND`. */
export class PolicyNotFound extends WireAuthError {
  constructor(message: string, options?: WireAuthErrorOptions) {
    super('ERR_POLICY_NOT_FOUND', message, { statusCode: 403, ...options })
  }
}

/** A guard spec (attribute, option or JSON) cannot be parsed. Code `ERR_GUARD_SPEC_INVALID`. */
export class GuardSpecInvalid extends WireAuthError {
  constructor(message: string, options?: WireAuthErrorOptions) {
    super('ERR_GUARD_SPEC_INVALID', message, { statusCode: 400, ...options })
  }
}

/**
 * An `html` template puts an interpolation where no escaping can make it safe:
 * in a tag name (`<${tag}>`, `</${tag}>`) or in the end tag of a raw-text
 * element. Thrown the first time the template renders. Code
 * `ERR_HTML_TEMPLATE_INVALID`.
 */
export class HtmlTemplateInvalid extends WireAuthError {
  constructor(message: string, options?: WireAuthErrorOptions) {
    super('ERR_HTML_TEMPLATE_INVALID', message, options)
  }
}

/**
 * An optional peer dependency (`mongodb`, `ioredis`) is used but not
 * installed; the message names the package to install.
 * Code `ERR_OPTIONAL_DEPENDENCY_MISSING`.
 */
export class OptionalDependencyMissing extends WireAuthError {
  /** The npm package to install, e.g. `mongodb`. */
  readonly packageName: string
  constructor(packageName: string, message: string, options?: WireAuthErrorOptions) {
    super('ERR_OPTIONAL_DEPENDENCY_MISSING', message, options)
    this.packageName = packageName
  }
}

/** A config file could not be parsed; the message names the file and line. Code `ERR_CONFIG_SYNTAX`. */
export class ConfigSyntaxError extends WireAuthError {
  constructor(message: string, options?: WireAuthErrorOptions) {
    super('ERR_CONFIG_SYNTAX', message, options)
  }
}
