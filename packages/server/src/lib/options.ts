import { InvalidOption, SOCKET_MAX_MESSAGE_BYTES, type PolicyRequirement } from '@wire-auth/core'
import type { AuthChannel } from './channel/auth-channel.js'
import type { DecoratorNames } from './decorators.js'
import type { MetricsOptions } from './metrics.js'
import type { AuthProvider } from './oidc/oidc-provider.js'
import type { AuthStore } from './store/auth-store.js'
import { resolveMailOptions, type MailOptions, type ResolvedMailOptions } from './mail/mail-options.js'
import { resolveTokenEndpointOptions, type ResolvedTokenEndpointOptions, type TokenEndpointOptions } from './local-idp/idp-options.js'

/** Options of the local identity provider (`/auth/local/*`); the token endpoint's are in {@link TokenEndpointOptions}. */
export interface LocalIdpOptions extends TokenEndpointOptions {
  /** `iss` of issued tokens. Default: the backend's `publicUrl`. */
  issuer?: string
  /** `aud` of issued access tokens. Default: `"wire-auth"`. */
  audience?: string
  /** Access token lifetime in seconds. Default 600. */
  accessTokenTtl?: number
  /** Refresh token lifetime in seconds. Default 30 days. */
  refreshTokenTtl?: number
  /** Minimum password length. Default 8. */
  passwordMinLength?: number
  /** Maximum password length in characters (argon2 input cap). Default 1024. */
  passwordMaxLength?: number
  /** Allow `POST /auth/local/register`. Default true. */
  allowRegistration?: boolean
  /** Failed logins per account in `lockoutWindowMs` before throttling. Default 5. */
  maxFailuresPerAccount?: number
  /** Window for per-account throttling, ms. Default 15 minutes. */
  lockoutWindowMs?: number
  /** Failed logins per client IP in `lockoutWindowMs` before throttling that client. Default 50. */
  maxFailuresPerClient?: number
  /** JWS algorithm of access tokens (keys kept in the store). Default `"EdDSA"` (Ed25519). */
  signingAlg?: 'EdDSA' | 'ES256'
  /** Requests per minute per client IP on login / register / token. Default 20. */
  rateLimitPerMinute?: number
  /** argon2id parameters; defaults are OWASP's (m=19 MiB, t=2, p=1) or stronger. */
  argon2?: { memoryCost?: number; timeCost?: number; parallelism?: number }
}

/** Options of the session cookie and lifetimes. */
export interface SessionOptions {
  /** Cookie name. Default `__Host-wa_sid` when secure, else `wa_sid`. */
  cookieName?: string
  /** Secure cookie. Default: true unless `publicUrl` is plain-http localhost. */
  secure?: boolean
  /** SameSite. Default `lax`. */
  sameSite?: 'lax' | 'strict' | 'none'
  /** Idle expiry, ms. Default 30 minutes. */
  idleTimeoutMs?: number
  /** Absolute expiry, ms. Default 12 hours. */
  absoluteTimeoutMs?: number
  /** Rolling renewal writes at most once per this many ms. Default 60 s. */
  touchIntervalMs?: number
}

/** Limits of the live socket. */
export interface LiveOptions {
  /** Max bytes of one client message. Default 64 KiB. */
  maxMessageBytes?: number
  /** Max regions mounted per socket. Default 500. */
  maxRegionsPerSocket?: number
  /** Max client messages per second per socket. Default 50. */
  messagesPerSecond?: number
  /** Ping interval, ms; a socket missing one pong is dropped. Default 30 s. */
  pingIntervalMs?: number
  /** Open sockets per client address (IPv4, or IPv6 /64) per worker. Default 128. */
  maxSocketsPerAddress?: number
  /** Open sockets per signed-in user per worker. Default 32. */
  maxSocketsPerUser?: number
  /** Total bytes of `params` (serialised) mounted on one socket; also per `POST /auth/fragments`. Default 64 KiB. */
  maxParamsBytesPerSocket?: number
  /** Region evaluations a client address may ask for per second (socket mounts and HTTP together, per worker). Default 1000. */
  rendersPerSecond?: number
}

/** Served HTML pages (`app.page`, `staticRoot`). */
export interface PagesOptions {
  /**
   * Re-process a page when its file changed (mtime or size, checked per
   * request). Default: true unless `NODE_ENV` is `production`, where each
   * page is read once at boot.
   */
  watch?: boolean
}

/** Options of {@link connectAuth}. Checked at registration. */
export interface WireAuthOptions {
  /** Store. Default: `new SqliteAuthStore(options.sqlitePath ?? "wire-auth.sqlite")`. */
  store?: AuthStore
  /** SQLite file for the default store. */
  sqlitePath?: string
  /** Channel. Default: a new `LocalAuthChannel`. */
  channel?: AuthChannel
  /** Origins (scheme://host[:port]) allowed for CORS, the socket and redirects. */
  allowedOrigins?: string[]
  /** The backend's own public base URL, e.g. `https://auth.example.com`. Default `http://localhost:3000`. */
  publicUrl?: string
  /** Where denied guards and `requirePolicy` send anonymous users. Default `/login`. */
  loginUrl?: string
  /** Named policies registered at boot. */
  policies?: Record<string, PolicyRequirement>
  /** Time-out of one policy evaluation, ms. Default 2000. */
  policyTimeoutMs?: number
  session?: SessionOptions
  /** Mounts the local IdP when given (`true` for defaults). */
  localIdp?: LocalIdpOptions | true
  /** OpenID Connect providers (`GoogleProvider`, `OidcProvider`), mounted at `/auth/{name}/login`. */
  providers?: AuthProvider[]
  live?: LiveOptions
  /** Serve the elements bundle at `/wire-auth.js`. Default true. */
  serveBundle?: boolean
  /**
   * Security headers (helmet's, with a strict CSP: {@link wireAuthHelmetOptions})
   * on wire-auth's own routes. Default true. The host's routes are never
   * touched; opt one in with `securityHeaders()`.
   */
  helmet?: boolean
  /** Served HTML pages (`app.page`, `staticRoot`). */
  pages?: PagesOptions
  /**
   * Other names for wire-auth's decorators, for a host whose plugins already
   * use one (`request.user`: @fastify/jwt, @fastify/passport; `app.auth`:
   * @fastify/auth). `wireAuthOf(app)` and `principalOf(request)` reach them
   * whatever their names.
   * @example { decorators: { user: 'principal', auth: 'wireAuth' } }
   */
  decorators?: DecoratorNames
  /**
   * Secret (≥ 32 chars) for signing short-lived cookies (OIDC state). Default:
   * a random key generated once and kept in the store, shared by every worker.
   */
  secret?: string
  /**
   * Opt-in Prometheus metrics with prom-client (an optional peer dependency):
   * sockets open, regions mounted, renders, fan-out latency, logins,
   * throttles. `true` serves them at `/metrics`; `{ path }` at the route the
   * host chooses, `{ registry }` adds them to the host's prom-client registry.
   */
  metrics?: boolean | MetricsOptions
  /**
   * Outgoing mail (nodemailer): turns on e-mail verification and password
   * reset. Without it those flows answer `ERR_MAIL_NOT_CONFIGURED`.
   */
  mail?: MailOptions
  /**
   * Local accounts must have verified their e-mail address (claim
   * `email_verified=true`) to sign in. Default false: leave it to policies
   * (`{ claims: [["email_verified", "true"]] }`).
   */
  requireVerifiedEmail?: boolean
  /**
   * Passkeys (WebAuthn, with SimpleWebAuthn) for local accounts: `true`, or
   * `{ rpName, rpID }` (default: the host name of `publicUrl` for both).
   * Off by default.
   */
  passkeys?: boolean | { rpName?: string; rpID?: string }
}

/** Options after defaults were applied and validated. @internal */
export interface ResolvedOptions {
  allowedOrigins: string[]
  publicUrl: string
  publicOrigin: string
  loginUrl: string
  policyTimeoutMs: number
  session: Required<SessionOptions>
  localIdp: (Required<Omit<LocalIdpOptions, 'argon2' | keyof TokenEndpointOptions>> & ResolvedTokenEndpointOptions & { argon2: { memoryCost: number; timeCost: number; parallelism: number } }) | null
  live: Required<LiveOptions>
  serveBundle: boolean
  helmet: boolean
  metrics: Required<Pick<MetricsOptions, 'prefix'>> & { path: string | false; registry: MetricsOptions['registry'] } | null
  pages: Required<PagesOptions>
  mail: ResolvedMailOptions | null
  requireVerifiedEmail: boolean
  passkeys: { rpName: string; rpID: string } | null
}

const MINUTE = 60_000

function fail(message: string): never {
  throw new InvalidOption(message)
}

function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail(`"${name}" must be a positive integer`)
  return value
}

function bool(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') fail(`"${name}" must be a boolean`)
  return value
}

/** Parses `scheme://host[:port]` and returns the normalised origin. @internal */
export function normaliseOrigin(value: unknown, name: string): string {
  if (typeof value !== 'string') fail(`"${name}" must be a string origin such as "https://www.example.com"`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    fail(`"${name}" is not a valid origin: ${JSON.stringify(value)}`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(`"${name}" must use http or https`)
  if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    fail(`"${name}" must be an origin only (scheme://host[:port]), got ${JSON.stringify(value)}`)
  }
  return url.origin
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname)
}

/**
 * Applies defaults and validates every option at registration.
 * @throws InvalidOption `ERR_INVALID_OPTION`, quoting the option.
 * @internal
 */
export function resolveOptions(options: WireAuthOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') fail('"options" must be an object')
  if (options.allowedOrigins !== undefined && !Array.isArray(options.allowedOrigins)) fail('"options.allowedOrigins" must be an array')
  const allowedOrigins = (options.allowedOrigins ?? []).map((o, i) => normaliseOrigin(o, `options.allowedOrigins[${i}]`))

  let publicUrl = 'http://localhost:3000'
  if (options.publicUrl !== undefined) {
    if (typeof options.publicUrl !== 'string') fail('"options.publicUrl" must be a string URL')
    let url: URL
    try {
      url = new URL(options.publicUrl)
    } catch {
      fail('"options.publicUrl" is not a valid URL')
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') fail('"options.publicUrl" must use http or https')
    publicUrl = url.href.replace(/\/$/, '')
  }
  const publicOrigin = new URL(publicUrl).origin
  const plainLocalhost = publicUrl.startsWith('http:') && isLoopback(new URL(publicUrl).hostname)
  if (publicUrl.startsWith('http:') && !plainLocalhost && options.session?.secure !== false) {
    fail('"options.publicUrl" must use https outside localhost (or set "options.session.secure" to false explicitly)')
  }
  // A plain-http page may call an https backend with credentials, and whoever is
  // on that page's network can rewrite it (issue 13 C10): only loopback pages
  // (local development) may be plain http beside an https backend.
  if (publicUrl.startsWith('https:')) {
    allowedOrigins.forEach((origin, i) => {
      if (origin.startsWith('http:') && !isLoopback(new URL(origin).hostname)) {
        fail(`"options.allowedOrigins[${i}]" must use https while "options.publicUrl" does (plain http is allowed for loopback origins only), got ${JSON.stringify(origin)}`)
      }
    })
  }

  const loginUrl = options.loginUrl ?? '/login'
  if (typeof loginUrl !== 'string' || loginUrl.length === 0 || loginUrl.length > 2048) fail('"options.loginUrl" must be a non-empty string')

  const s = options.session ?? {}
  if (typeof s !== 'object') fail('"options.session" must be an object')
  const secure = bool(s.secure, 'options.session.secure', !plainLocalhost)
  const sameSite = s.sameSite ?? 'lax'
  if (!['lax', 'strict', 'none'].includes(sameSite)) fail('"options.session.sameSite" must be "lax", "strict" or "none"')
  if (sameSite === 'none' && !secure) fail('"options.session.sameSite" "none" requires a secure cookie')
  const cookieName = s.cookieName ?? (secure ? '__Host-wa_sid' : 'wa_sid')
  if (typeof cookieName !== 'string' || !/^[A-Za-z0-9_-]+$/.test(cookieName.replace(/^__Host-/, ''))) fail('"options.session.cookieName" must be a cookie token')
  if (cookieName.startsWith('__Host-') && !secure) fail('"options.session.cookieName" with the __Host- prefix requires a secure cookie')
  const idleTimeoutMs = positiveInt(s.idleTimeoutMs, 'options.session.idleTimeoutMs', 30 * MINUTE)
  const absoluteTimeoutMs = positiveInt(s.absoluteTimeoutMs, 'options.session.absoluteTimeoutMs', 12 * 60 * MINUTE)
  if (idleTimeoutMs > absoluteTimeoutMs) fail('"options.session.idleTimeoutMs" must not exceed "options.session.absoluteTimeoutMs"')
  const touchIntervalMs = positiveInt(s.touchIntervalMs, 'options.session.touchIntervalMs', MINUTE)

  let localIdp: ResolvedOptions['localIdp'] = null
  if (options.localIdp !== undefined && options.localIdp !== false as unknown) {
    const l: LocalIdpOptions = options.localIdp === true ? {} : options.localIdp
    if (l === null || typeof l !== 'object') fail('"options.localIdp" must be true or an object')
    const argon = l.argon2 ?? {}
    const memoryCost = positiveInt(argon.memoryCost, 'options.localIdp.argon2.memoryCost', 19456)
    const timeCost = positiveInt(argon.timeCost, 'options.localIdp.argon2.timeCost', 2)
    const parallelism = positiveInt(argon.parallelism, 'options.localIdp.argon2.parallelism', 1)
    if (memoryCost < 19456 || timeCost < 2) fail('"options.localIdp.argon2" must be at least OWASP\'s m=19456 KiB, t=2')
    const passwordMinLength = positiveInt(l.passwordMinLength, 'options.localIdp.passwordMinLength', 8)
    const passwordMaxLength = positiveInt(l.passwordMaxLength, 'options.localIdp.passwordMaxLength', 1024)
    if (passwordMinLength < 8) fail('"options.localIdp.passwordMinLength" must be at least 8')
    if (passwordMaxLength < 64 || passwordMaxLength > 4096) fail('"options.localIdp.passwordMaxLength" must be between 64 and 4096')
    if (l.issuer !== undefined && typeof l.issuer !== 'string') fail('"options.localIdp.issuer" must be a string')
    if (l.audience !== undefined && typeof l.audience !== 'string') fail('"options.localIdp.audience" must be a string')
    const refreshTokenTtl = positiveInt(l.refreshTokenTtl, 'options.localIdp.refreshTokenTtl', 30 * 24 * 3600)
    localIdp = {
      ...resolveTokenEndpointOptions(l, refreshTokenTtl),
      issuer: l.issuer ?? publicUrl,
      audience: l.audience ?? 'wire-auth',
      accessTokenTtl: positiveInt(l.accessTokenTtl, 'options.localIdp.accessTokenTtl', 600),
      refreshTokenTtl,
      passwordMinLength,
      passwordMaxLength,
      allowRegistration: bool(l.allowRegistration, 'options.localIdp.allowRegistration', true),
      maxFailuresPerAccount: positiveInt(l.maxFailuresPerAccount, 'options.localIdp.maxFailuresPerAccount', 5),
      lockoutWindowMs: positiveInt(l.lockoutWindowMs, 'options.localIdp.lockoutWindowMs', 15 * MINUTE),
      rateLimitPerMinute: positiveInt(l.rateLimitPerMinute, 'options.localIdp.rateLimitPerMinute', 20),
      maxFailuresPerClient: positiveInt(l.maxFailuresPerClient, 'options.localIdp.maxFailuresPerClient', 50),
      signingAlg: l.signingAlg === undefined || l.signingAlg === 'EdDSA' || l.signingAlg === 'ES256' ? (l.signingAlg ?? 'EdDSA') : fail('"options.localIdp.signingAlg" must be "EdDSA" or "ES256"'),
      argon2: { memoryCost, timeCost, parallelism },
    }
  }

  const lv = options.live ?? {}
  if (typeof lv !== 'object') fail('"options.live" must be an object')
  const live: Required<LiveOptions> = {
    maxMessageBytes: positiveInt(lv.maxMessageBytes, 'options.live.maxMessageBytes', SOCKET_MAX_MESSAGE_BYTES),
    maxRegionsPerSocket: positiveInt(lv.maxRegionsPerSocket, 'options.live.maxRegionsPerSocket', 500),
    messagesPerSecond: positiveInt(lv.messagesPerSecond, 'options.live.messagesPerSecond', 50),
    pingIntervalMs: positiveInt(lv.pingIntervalMs, 'options.live.pingIntervalMs', 30_000),
    maxSocketsPerAddress: positiveInt(lv.maxSocketsPerAddress, 'options.live.maxSocketsPerAddress', 128),
    maxSocketsPerUser: positiveInt(lv.maxSocketsPerUser, 'options.live.maxSocketsPerUser', 32),
    maxParamsBytesPerSocket: positiveInt(lv.maxParamsBytesPerSocket, 'options.live.maxParamsBytesPerSocket', 64 * 1024),
    rendersPerSecond: positiveInt(lv.rendersPerSecond, 'options.live.rendersPerSecond', 1000),
  }

  if (options.providers !== undefined && !Array.isArray(options.providers)) fail('"options.providers" must be an array')
  if (options.policies !== undefined && (options.policies === null || typeof options.policies !== 'object')) fail('"options.policies" must be an object of name → requirement')
  if (options.secret !== undefined && (typeof options.secret !== 'string' || options.secret.length < 32)) fail('"options.secret" must be a string of at least 32 characters')

  const pg = options.pages ?? {}
  if (pg === null || typeof pg !== 'object') fail('"options.pages" must be an object')
  const pages: Required<PagesOptions> = { watch: bool(pg.watch, 'options.pages.watch', process.env.NODE_ENV !== 'production') }

  return {
    pages,
    allowedOrigins,
    publicUrl,
    publicOrigin,
    loginUrl,
    policyTimeoutMs: positiveInt(options.policyTimeoutMs, 'options.policyTimeoutMs', 2000),
    session: { cookieName, secure, sameSite, idleTimeoutMs, absoluteTimeoutMs, touchIntervalMs },
    localIdp,
    live,
    serveBundle: bool(options.serveBundle, 'options.serveBundle', true),
    helmet: bool(options.helmet, 'options.helmet', true),
    metrics: resolveMetrics(options.metrics),
    mail: resolveMailOptions(options.mail, publicUrl, allowedOrigins),
    requireVerifiedEmail: bool(options.requireVerifiedEmail, 'options.requireVerifiedEmail', false),
    passkeys: resolvePasskeys(options.passkeys, publicUrl),
  }
}

function resolvePasskeys(value: unknown, publicUrl: string): ResolvedOptions['passkeys'] {
  if (value === undefined || value === false) return null
  const host = new URL(publicUrl).hostname
  if (value === true) return { rpName: host, rpID: host }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('"options.passkeys" must be true or { rpName?, rpID? }')
  const { rpName, rpID, ...rest } = value as Record<string, unknown>
  const unknown = Object.keys(rest)[0]
  if (unknown !== undefined) fail(`"options.passkeys.${unknown.slice(0, 64)}" is not an option (known: rpName, rpID)`)
  if (rpName !== undefined && (typeof rpName !== 'string' || rpName.length === 0 || rpName.length > 128)) fail('"options.passkeys.rpName" must be a string of 1 to 128 characters')
  // WebAuthn: the RP ID is the page's host or a registrable suffix of it.
  if (rpID !== undefined && (typeof rpID !== 'string' || !(host === rpID || host.endsWith(`.${rpID}`)))) {
    fail(`"options.passkeys.rpID" must be the host of "options.publicUrl" (${JSON.stringify(host)}) or a parent domain of it`)
  }
  return { rpName: (rpName as string | undefined) ?? host, rpID: (rpID as string | undefined) ?? host }
}

function resolveMetrics(value: unknown): ResolvedOptions['metrics'] {
  if (value === undefined || value === false) return null
  const m = (value === true ? {} : value) as MetricsOptions
  if (m === null || typeof m !== 'object' || Array.isArray(m)) fail('"options.metrics" must be true or an object')
  for (const key of Object.keys(m)) if (!['path', 'registry', 'prefix'].includes(key)) fail(`"options.metrics.${key.slice(0, 64)}" is not an option (path, registry, prefix)`)
  const path = m.path ?? '/metrics'
  if (path !== false && (typeof path !== 'string' || !/^\/[A-Za-z0-9._~\/-]{0,255}$/.test(path))) fail('"options.metrics.path" must be a route path such as "/metrics", or false')
  const prefix = m.prefix ?? 'wire_auth_'
  if (typeof prefix !== 'string' || !/^[A-Za-z_:][A-Za-z0-9_:]{0,63}$/.test(prefix)) fail('"options.metrics.prefix" must be a Prometheus metric name prefix such as "wire_auth_"')
  const registry = m.registry
  if (registry !== undefined && (registry === null || typeof registry !== 'object' || typeof (registry as { metrics?: unknown }).metrics !== 'function')) {
    fail('"options.metrics.registry" must be a prom-client Registry')
  }
  return { path, prefix, registry }
}
