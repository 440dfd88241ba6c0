/**
 * Every error wire-auth raises carries a stable `code`. The code is the
 * contract: match on `err.code`, never on the message. `docs/errors.md`
 * lists each code with its cause and fix; codes are never reused.
 */
export type WireAuthErrorCode =
  // configuration (boot time)
  | 'ERR_INVALID_OPTION'
  // packaging and config files (boot time)
  | 'ERR_OPTIONAL_DEPENDENCY_MISSING'
  | 'ERR_CONFIG_SYNTAX'
  | 'ERR_POLICY_DUPLICATE'
  | 'ERR_POLICY_INVALID'
  | 'ERR_FRAGMENT_UNGUARDED'
  | 'ERR_FRAGMENT_DUPLICATE'
  | 'ERR_FRAGMENT_INVALID'
  | 'ERR_DECORATOR_COLLISION'
  // policy evaluation (always a denial, never a throw to the caller)
  | 'ERR_POLICY_NOT_FOUND'
  | 'ERR_POLICY_THREW'
  | 'ERR_POLICY_TIMEOUT'
  | 'ERR_POLICY_RESULT'
  | 'ERR_GUARD_SPEC_INVALID'
  | 'ERR_HTML_TEMPLATE_INVALID'
  | 'ERR_DENIED'
  // HTTP / request
  | 'ERR_UNAUTHENTICATED'
  | 'ERR_FORBIDDEN'
  | 'ERR_VALIDATION'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_NOT_FOUND'
  | 'ERR_ORIGIN_NOT_ALLOWED'
  | 'ERR_REDIRECT_NOT_ALLOWED'
  | 'ERR_RATE_LIMITED'
  | 'ERR_INTERNAL'
  | 'ERR_NOT_READY'
  // identity
  | 'ERR_INVALID_CREDENTIALS'
  | 'ERR_ACCOUNT_EXISTS'
  | 'ERR_INVALID_EMAIL'
  | 'ERR_WEAK_PASSWORD'
  | 'ERR_PASSWORD_TOO_LONG'
  | 'ERR_USER_NOT_FOUND'
  | 'ERR_USER_DISABLED'
  | 'ERR_INVALID_TOKEN'
  | 'ERR_INVALID_GRANT'
  | 'ERR_UNSUPPORTED_GRANT_TYPE'
  | 'ERR_INVALID_CLIENT'
  | 'ERR_INVALID_REDIRECT_URI'
  | 'ERR_INVALID_CLAIM'
  // store and channel
  | 'ERR_STORE_UNAVAILABLE'
  | 'ERR_STORE_CONFLICT'
  | 'ERR_CHANNEL_UNAVAILABLE'
  | 'ERR_CHANNEL_MESSAGE_INVALID'
  // fragments and the live socket
  | 'ERR_FRAGMENT_NOT_FOUND'
  | 'ERR_FRAGMENT_RENDER_FAILED'
  | 'ERR_SOCKET_MESSAGE_INVALID'
  | 'ERR_SOCKET_MESSAGE_TOO_LARGE'
  | 'ERR_SOCKET_TOO_MANY_REGIONS'
  | 'ERR_SOCKET_RATE_LIMITED'
  | 'ERR_SOCKET_TOO_MANY_PER_ADDRESS'
  | 'ERR_SOCKET_TOO_MANY_PER_USER'
  | 'ERR_PARAMS_INVALID'
  | 'ERR_PARAMS_TOO_LARGE'
  | 'ERR_BUNDLE_NOT_BUILT'
  // served pages (issue 15)
  | 'ERR_PAGE_INVALID'
  | 'ERR_PROTECTED_MARKUP_UNPROCESSED'
  // browser SDK (raised in the browser, never by the server)
  | 'ERR_BACKEND_UNREACHABLE'
  | 'ERR_TOKEN_ATTRIBUTE_IGNORED'
  // OpenID Connect
  | 'ERR_PROVIDER_NOT_FOUND'
  | 'ERR_PROVIDER_UNAVAILABLE'
  | 'ERR_OIDC_STATE_MISMATCH'
  | 'ERR_OIDC_CALLBACK_FAILED'
  // secrets at rest and output hygiene (issue 13, identity side)
  | 'ERR_STORE_PERMISSIONS'
  // account flows: mail, e-mail verification, password reset (issue 18)
  | 'ERR_MAIL_NOT_CONFIGURED'
  | 'ERR_MAIL_UNAVAILABLE'
  | 'ERR_LINK_INVALID'
  | 'ERR_LINK_EXPIRED'
  | 'ERR_EMAIL_NOT_VERIFIED'
  | 'ERR_PASSKEY_INVALID'
  | 'ERR_PASSKEY_NOT_FOUND'

/** Options accepted by every wire-auth error. */
export interface WireAuthErrorOptions {
  /** The underlying error (jose, openid-client, a driver…). */
  cause?: unknown
  /** HTTP status the server answers with; defaults per class. */
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
  /** HTTP status this error maps to when it reaches a client. */
  readonly statusCode: number

  constructor(code: WireAuthErrorCode, message: string, options: WireAuthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = this.constructor.name
    this.code = code
    this.statusCode = options.statusCode ?? 500
  }

  /** The JSON body every wire-auth HTTP error answers with. */
  toJSON(): { error: { code: WireAuthErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } }
  }
}

/** True when `err` is a {@link WireAuthError}, optionally with the given code. */
export function isWireAuthError(err: unknown, code?: WireAuthErrorCode): err is WireAuthError {
  return err instanceof WireAuthError && (code === undefined || err.code === code)
}

/** An option passed at registration is missing or malformed. Code `ERR_INVALID_OPTION`. */
export class InvalidOption extends WireAuthError {
  constructor(message: string, options?: WireAuthErrorOptions) {
    super('ERR_INVALID_OPTION', message, { statusCode: 500, ...options })
  }
}

/** A policy name was registered twice. Code `ERR_POLICY_DUPLICATE`. */
export class PolicyDuplicate extends WireAuthError {
  constructor(message: string, options?: WireAuthErrorOptions) {
    super('ERR_POLICY_DUPLICATE', message, { statusCode: 500, ...options })
  }
}

/** A policy requirement is malformed. Code `ERR_POLICY_INVALID`. */
export class PolicyInvalid extends WireAuthError {
  constructor(message: string, options?: WireAuthErrorOptions) {
    super('ERR_POLICY_INVALID', message, { statusCode: 500, ...options })
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
    super('ERR_HTML_TEMPLATE_INVALID', message, { statusCode: 500, ...options })
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
    super('ERR_OPTIONAL_DEPENDENCY_MISSING', message, { statusCode: 500, ...options })
    this.packageName = packageName
  }
}

/** A config file could not be parsed; the message names the file and line. Code `ERR_CONFIG_SYNTAX`. */
export class ConfigSyntaxError extends WireAuthError {
  constructor(message: string, options?: WireAuthErrorOptions) {
    super('ERR_CONFIG_SYNTAX', message, { statusCode: 500, ...options })
  }
}
