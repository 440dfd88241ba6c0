/** What the table decides for one error code. */
export interface ErrorDefinition {
  /** The HTTP status an error of this code answers with when it reaches a client. */
  readonly status: number
  /**
   * The message when a throw site gives none; also the only message a 5xx
   * answer carries (the thrown message, which may name a store, an operation
   * or a driver code, stays in the log).
   */
  readonly message: string
}

/**
 * The one table of wire-auth's errors: code → HTTP status → default message,
 * as fastify's `lib/errors.js` decides each `FST_ERR_*` once. A throw site
 * names the code (and may say more in its message), never a status.
 * `docs/errors.md` gives each code's cause and fix; codes are never reused.
 *
 * Core's own classes, which the browser bundle carries, hold their status
 * as a literal rather than importing this table (the server's
 * `test/error-table.test.ts` checks that they agree); everything the server
 * builds reads it, and its error handlers answer the status by code.
 *
 * Codes that never travel over HTTP (socket answers, log lines, browser
 * warnings) still have the status they would answer with, so that every
 * error is answerable.
 *
 * @example
 * ```ts
 * ERROR_TABLE.ERR_USER_DISABLED // { status: 403, message: 'this account is disabled' }
 * ```
 */
export const ERROR_TABLE = {
  // configuration (boot time)
  ERR_INVALID_OPTION: { status: 500, message: 'an option is missing or malformed' },
  // packaging and config files (boot time)
  ERR_OPTIONAL_DEPENDENCY_MISSING: { status: 500, message: 'an optional dependency is not installed' },
  ERR_CONFIG_SYNTAX: { status: 500, message: 'the config file does not parse' },
  ERR_POLICY_DUPLICATE: { status: 500, message: 'a policy of this name is already registered' },
  ERR_POLICY_INVALID: { status: 500, message: 'the policy is malformed' },
  ERR_FRAGMENT_UNGUARDED: { status: 500, message: 'a fragment needs a guard or public: true' },
  ERR_FRAGMENT_DUPLICATE: { status: 500, message: 'a fragment of this name is already registered' },
  ERR_FRAGMENT_INVALID: { status: 500, message: 'the fragment registration is malformed' },
  ERR_DECORATOR_COLLISION: { status: 500, message: 'a name wire-auth decorates is already taken' },
  // policy evaluation (a denial: 403, or a denied region)
  ERR_POLICY_NOT_FOUND: { status: 403, message: 'the policy is not registered' },
  ERR_POLICY_THREW: { status: 403, message: 'the policy failed' },
  ERR_POLICY_TIMEOUT: { status: 403, message: 'the policy timed out' },
  ERR_POLICY_RESULT: { status: 403, message: 'the policy returned no boolean' },
  ERR_GUARD_SPEC_INVALID: { status: 400, message: 'the guard spec is malformed' },
  ERR_HTML_TEMPLATE_INVALID: { status: 500, message: 'the html template interpolates where no escaping is safe' },
  ERR_DENIED: { status: 403, message: 'denied' },
  // HTTP / request
  ERR_UNAUTHENTICATED: { status: 401, message: 'sign-in required' },
  ERR_FORBIDDEN: { status: 403, message: 'not allowed' },
  ERR_VALIDATION: { status: 400, message: 'the request is malformed' },
  ERR_BODY_TOO_LARGE: { status: 413, message: 'the body is too large' },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'unsupported media type' },
  ERR_NOT_FOUND: { status: 404, message: 'no such route' },
  ERR_UPGRADE_REQUIRED: { status: 426, message: 'this is a WebSocket endpoint: open it with an upgrade request' },
  ERR_ORIGIN_NOT_ALLOWED: { status: 403, message: 'origin not allowed' },
  ERR_REDIRECT_NOT_ALLOWED: { status: 400, message: 'redirect target not allowed' },
  ERR_RATE_LIMITED: { status: 429, message: 'too many requests' },
  ERR_INTERNAL: { status: 500, message: 'internal error' },
  ERR_NOT_READY: { status: 503, message: 'the server is starting; retry in a moment' },
  // identity
  ERR_INVALID_CREDENTIALS: { status: 401, message: 'invalid e-mail or password' },
  ERR_ACCOUNT_EXISTS: { status: 409, message: 'an account with this e-mail already exists' },
  ERR_INVALID_EMAIL: { status: 400, message: 'not a valid e-mail address' },
  ERR_WEAK_PASSWORD: { status: 400, message: 'the password is too weak' },
  ERR_PASSWORD_TOO_LONG: { status: 400, message: 'the password is too long' },
  ERR_USER_NOT_FOUND: { status: 404, message: 'no such user' },
  ERR_USER_DISABLED: { status: 403, message: 'this account is disabled' },
  ERR_INVALID_TOKEN: { status: 401, message: 'the token is invalid' },
  ERR_INVALID_GRANT: { status: 400, message: 'the grant is invalid' },
  ERR_UNSUPPORTED_GRANT_TYPE: { status: 400, message: 'unsupported grant_type' },
  // RFC 6749 §5.2: client authentication failed. The authorization endpoint, which authenticates no client, answers 400 (oauth-errors).
  ERR_INVALID_CLIENT: { status: 401, message: 'unknown client' },
  ERR_INVALID_REDIRECT_URI: { status: 400, message: 'redirect_uri is not registered for this client' },
  ERR_INVALID_CLAIM: { status: 400, message: 'the claim is malformed' },
  // store and channel
  ERR_STORE_UNAVAILABLE: { status: 503, message: 'the auth store is unavailable; retry later' },
  ERR_STORE_CONFLICT: { status: 409, message: 'the record already exists' },
  ERR_CHANNEL_UNAVAILABLE: { status: 503, message: 'the auth channel is unavailable; retry later' },
  // A malformed channel event is this deployment's fault (a publisher in the server or on the channel), never the client's.
  ERR_CHANNEL_MESSAGE_INVALID: { status: 500, message: 'a channel event is malformed' },
  // fragments and the live socket
  ERR_FRAGMENT_NOT_FOUND: { status: 404, message: 'no such fragment' },
  ERR_FRAGMENT_RENDER_FAILED: { status: 500, message: 'the fragment could not be rendered' },
  ERR_SOCKET_MESSAGE_INVALID: { status: 400, message: 'the message is malformed' },
  ERR_SOCKET_MESSAGE_TOO_LARGE: { status: 413, message: 'the message is too large' },
  ERR_SOCKET_TOO_MANY_REGIONS: { status: 400, message: 'too many regions on this socket' },
  ERR_SOCKET_RATE_LIMITED: { status: 429, message: 'too many messages' },
  ERR_SOCKET_TOO_MANY_PER_ADDRESS: { status: 429, message: 'too many open sockets' },
  ERR_SOCKET_TOO_MANY_PER_USER: { status: 429, message: 'too many open sockets' },
  ERR_PARAMS_INVALID: { status: 400, message: 'the params are malformed' },
  ERR_PARAMS_TOO_LARGE: { status: 400, message: 'the params are too large' },
  ERR_BUNDLE_NOT_BUILT: { status: 503, message: 'the elements bundle is not built: run `npm run build`' },
  // served pages (issue 15)
  ERR_PAGE_INVALID: { status: 500, message: 'the page is malformed' },
  ERR_PROTECTED_MARKUP_UNPROCESSED: { status: 500, message: 'protected markup reached the browser unprocessed' },
  // browser SDK (raised in the browser, never by the server)
  ERR_BACKEND_UNREACHABLE: { status: 503, message: 'the backend cannot be reached' },
  ERR_TOKEN_ATTRIBUTE_IGNORED: { status: 400, message: 'the token attribute is ignored' },
  // OpenID Connect
  ERR_PROVIDER_NOT_FOUND: { status: 404, message: 'no such provider' },
  ERR_PROVIDER_UNAVAILABLE: { status: 502, message: 'the identity provider is unavailable; retry later' },
  ERR_OIDC_STATE_MISMATCH: { status: 400, message: 'the sign-in state does not match; start again' },
  ERR_OIDC_CALLBACK_FAILED: { status: 400, message: 'the sign-in could not be completed' },
  // secrets at rest and output hygiene (issue 13, identity side)
  ERR_STORE_PERMISSIONS: { status: 500, message: 'the store files are readable by others' },
  // account flows: mail, e-mail verification, password reset (issue 18)
  ERR_MAIL_NOT_CONFIGURED: { status: 404, message: 'this flow is off: the server sends no mail' },
  ERR_MAIL_UNAVAILABLE: { status: 503, message: 'the mail server is unavailable; retry later' },
  ERR_LINK_INVALID: { status: 400, message: 'this link is not valid' },
  ERR_LINK_EXPIRED: { status: 400, message: 'this link has expired' },
  ERR_EMAIL_NOT_VERIFIED: { status: 403, message: 'verify your e-mail address first' },
  ERR_PASSKEY_INVALID: { status: 400, message: 'the passkey could not be verified' },
  ERR_PASSKEY_NOT_FOUND: { status: 404, message: 'no such passkey' },
} as const satisfies Record<`ERR_${string}`, ErrorDefinition>

/**
 * Every error wire-auth raises carries a stable `code`, one of the keys of
 * {@link ERROR_TABLE}. The code is the contract: match on `err.code`, never
 * on the message.
 */
export type WireAuthErrorCode = keyof typeof ERROR_TABLE
