import type { PolicyEngine } from '@wire-auth/core'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { AccountService } from './account/account-service.js'
import type { AuthChannel } from './channel/auth-channel.js'
import type { MetricsRecorder } from './metrics.js'
import type { CookieSealer } from './cookie-sealer.js'
import type { TokenVerifier } from './local-idp/local-idp.js'
import type { ResolvedOptions } from './options.js'
import type { SessionManager } from './sessions.js'
import type { CookieSigner } from './signer.js'
import type { AuditRecord, AuthStore } from './store/auth-store.js'

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
