import { randomBytes } from 'node:crypto'
import { createPolicyEngine, resolveSafeRedirect, type PolicyEngine } from '@wire-auth/core'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { createAuditWriter, type AuditWriter } from './audit.js'
import type { AuthChannel } from './channel/auth-channel.js'
import { LocalAuthChannel } from './channel/local-channel.js'
import { createCookieSealer, type CookieSealer } from './cookie-sealer.js'
import { createLocalIdp, type LocalIdp } from './local-idp/local-idp.js'
import { createMetrics, type MetricsRecorder } from './metrics.js'
import type { ResolvedOptions, WireAuthOptions } from './options.js'
import { createSessionManager, type SessionManager } from './sessions.js'
import { createCookieSigner, type CookieSigner } from './signer.js'
import type { AuthStore } from './store/auth-store.js'
import { formatMode } from './store/sqlite-files.js'
import { SqliteAuthStore } from './store/sqlite-store.js'

/**
 * The services wire-auth's modules share, built once by
 * {@link createAuthContext} in dependency order and never assigned
 * afterwards. `plugin.ts` passes it to the authentication hooks and to every
 * module that registers routes (`registerLocalIdp`, `registerProviders`,
 * `registerFragments`, `registerLiveSocket`, …).
 * @internal
 */
export interface AuthContext {
  readonly options: ResolvedOptions
  readonly store: AuthStore
  readonly engine: PolicyEngine
  readonly channel: AuthChannel
  readonly sessions: SessionManager
  /**
   * The local identity provider, its signing keys loaded, when
   * `options.localIdp` is configured (else null). It is also the
   * `TokenVerifier` of bearer tokens, on HTTP and on the live socket.
   */
  readonly localIdp: LocalIdp | null
  readonly log: FastifyBaseLogger
  /** Writes one audit line; never throws (a failure is logged). */
  readonly audit: AuditWriter
  /** The backend's own origin and `allowedOrigins`: what {@link AuthContext.isAllowedOrigin} accepts. */
  readonly origins: readonly string[]
  /** True for an origin listed in `allowedOrigins` or the backend's own. */
  isAllowedOrigin(origin: string | undefined): boolean
  /** A safe absolute-path or allowed-origin URL for `value`, or null. */
  safeRedirect(value: unknown): string | null
  /** HMAC signer for cookies that need integrity only (the device cookie); key shared by every worker. */
  readonly signer: CookieSigner
  /** Prometheus metrics (`options.metrics`), or null when off. */
  readonly metrics: MetricsRecorder | null
  /** Encrypts the OIDC login-state cookie (key derived from the same secret). */
  readonly sealer: CookieSealer
}

/**
 * The composition root: builds the {@link AuthContext} once, each service
 * after what it needs — metrics, the store (opened), the channel, the policy
 * engine, the cookie keys, sessions, the local IdP (keys loaded), the audit
 * writer. The store and the channel close with `app`.
 *
 * @throws `ERR_OPTIONAL_DEPENDENCY_MISSING` when `options.metrics` is set
 *   without prom-client; the store's and the local IdP's start-up errors
 *   (`ERR_STORE_UNAVAILABLE`, `ERR_INVALID_OPTION`).
 * @internal
 */
export async function createAuthContext(app: FastifyInstance, rawOptions: WireAuthOptions, options: ResolvedOptions): Promise<AuthContext> {
  // Before the store opens: a missing prom-client is a coded error with nothing to close.
  const metrics: MetricsRecorder | null = options.metrics === null ? null : await createMetrics(options.metrics)
  const store: AuthStore = rawOptions.store ?? new SqliteAuthStore(rawOptions.sqlitePath ?? 'wire-auth.sqlite')
  await store.init()
  for (const loose of store.loosePermissions?.() ?? []) {
    app.log.warn(
      { code: 'ERR_STORE_PERMISSIONS', path: loose.path, mode: formatMode(loose.mode), expected: formatMode(loose.expected) },
      'wire-auth: the store holds the signing keys and the cookie secret but group or others may reach this path; restrict it (chmod)',
    )
  }
  const channel: AuthChannel = rawOptions.channel ?? new LocalAuthChannel()
  app.addHook('onClose', async () => {
    await channel.close()
    await store.close()
  })

  const engine = createPolicyEngine({ timeoutMs: options.policyTimeoutMs, logger: app.log })
  for (const [name, requirement] of Object.entries(rawOptions.policies ?? {})) engine.addPolicy(name, requirement)

  const secret = rawOptions.secret ?? (await store.getSecret('cookie-signing', () => randomBytes(32).toString('base64url')))
  const signer = createCookieSigner(Buffer.from(secret, 'utf8'))
  const sealer = createCookieSealer(Buffer.from(secret, 'utf8'), 'oidc-login-state')
  const sessions = createSessionManager({
    store,
    options,
    // Signing in again in the same browser ends the old session: say so to its sockets (issue 13 F7).
    async onReplaced(userId, sessionHash, version) {
      try {
        await channel.publish({ type: 'sessions-revoked', userId, version, sessionIds: [sessionHash], all: false })
      } catch (err) {
        app.log.warn({ code: 'ERR_CHANNEL_UNAVAILABLE', err }, 'auth event not published')
      }
    },
  })

  // Before anything that verifies tokens is built: its signing keys, dummy hash and password list loaded.
  const localIdp = options.localIdp === null ? null : createLocalIdp({ store, options: options.localIdp, log: app.log })
  if (localIdp !== null) await localIdp.init()

  const allowed = new Set([options.publicOrigin, ...options.allowedOrigins])
  return {
    options,
    store,
    engine,
    channel,
    sessions,
    localIdp,
    log: app.log,
    audit: createAuditWriter({ store, metrics, log: app.log }),
    origins: [...allowed],
    isAllowedOrigin: (origin) => typeof origin === 'string' && allowed.has(origin),
    safeRedirect: (value) => resolveSafeRedirect(value, { allowedOrigins: options.allowedOrigins, baseOrigin: options.publicOrigin }),
    signer,
    metrics,
    sealer,
  }
}
