import type { ClaimsPrincipal, PolicyEngine } from '@wire-auth/core'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { AccountService } from './account/account-service.js'
import type { AuthChannel } from './channel/auth-channel.js'
import type { MetricsRecorder } from './metrics.js'
import type { CookieSealer } from './cookie-sealer.js'
import type { ResolvedOptions } from './options.js'
import type { AuditRecord, AuthStore, SessionProvider, SessionRecord, UserRecord } from './store/auth-store.js'

/**
 * The parts of the plugin that its modules share. Built once in
 * `plugin.ts`, passed to `registerLocalIdp`, `registerProviders`,
 * `registerFragments` and `registerLiveSocket`.
 * @internal
 */
export interface AuthContext {
  options: ResolvedOptions
  store: AuthStore
  engine: PolicyEngine
  channel: AuthChannel
  sessions: SessionManager
  /** Set when `options.localIdp` is configured. */
  tokens: TokenVerifier | null
  log: FastifyBaseLogger
  /** Writes one audit line; never throws (a failure is logged). */
  audit(request: FastifyRequest | null, record: Omit<AuditRecord, 'at' | 'ip'> & { at?: number }): Promise<void>
  /** True for an origin listed in `allowedOrigins` or the backend's own. */
  isAllowedOrigin(origin: string | undefined): boolean
  /** A safe absolute-path or allowed-origin URL for `value`, or null. */
  safeRedirect(value: unknown): string | null
  /** HMAC signer for cookies that need integrity only (the device cookie); key shared by every worker. */
  signer: CookieSigner
  /** Prometheus metrics (`options.metrics`), or null when off. */
  metrics: MetricsRecorder | null
  /** Encrypts the OIDC login-state cookie (key derived from the same secret). */
  sealer: CookieSealer
  /** E-mail verification, password reset and change; set with the local IdP (null without it). */
  account?: AccountService | null
}

/**
 * Signs and verifies cookie values with HMAC-SHA256 (key from
 * `options.secret` or generated once and kept in the store).
 * @internal
 */
export interface CookieSigner {
  /** `value.signature` (base64url). */
  sign(value: string): string
  /** The value when the signature matches (constant-time), else null. */
  unsign(signed: string): string | null
}

/** Result of resolving a session id. */
export interface ResolvedSession {
  session: SessionRecord
  principal: ClaimsPrincipal
}

/**
 * Sessions: rows in the store, opaque id in an HttpOnly cookie.
 * @internal
 */
export interface SessionManager {
  /**
   * Signs `user` in: destroys the request's current session (if any),
   * creates a fresh row with a new random id, sets the cookie, and sets
   * `request.user` / `request.sessionId`.
   */
  /** `provider`: the OpenID payload of this sign-in, kept with the session (principal.raw.provider). */
  start(request: FastifyRequest, reply: FastifyReply, user: UserRecord, provider?: SessionProvider): Promise<SessionRecord>
  /** Deletes the request's session and clears the cookie. */
  destroy(request: FastifyRequest, reply: FastifyReply): Promise<void>
  /**
   * Resolves a session hash to a principal, enforcing idle and absolute
   * expiry (expired rows are deleted). Null when missing / expired.
   */
  load(sessionHash: string, now?: number): Promise<ResolvedSession | null>
  /** SHA-256 hex of a raw cookie session id. */
  hash(rawId: string): string
  /** The session cookie name in use. */
  readonly cookieName: string
}

/**
 * Verifies bearer access tokens of the local IdP.
 * @internal
 */
export interface TokenVerifier {
  /**
   * Verifies signature, alg, iss, aud, exp, nbf, token kind and revocation.
   * Returns the principal (with `raw.jti`, `raw.exp`) or null when invalid.
   * Never throws for bad input; throws ERR_STORE_UNAVAILABLE only when the
   * store cannot be asked.
   */
  verifyAccessToken(token: string): Promise<ClaimsPrincipal | null>
}
