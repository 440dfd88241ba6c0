import type { PolicyRequirement } from '@wire-auth/core'
import type { AuthChannel } from './channel/auth-channel.js'
import type { AuthStore } from './store/auth-store.js'

/** Options of the local identity provider (`/auth/local/*`). */
export interface LocalIdpOptions {
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
  /** OpenID Connect providers (`GoogleProvider`, `OidcProvider`). */
  providers?: unknown[]
  live?: LiveOptions
  /** Serve the elements bundle at `/wire-auth.js`. Default true. */
  serveBundle?: boolean
  /** Security headers via @fastify/helmet. Default true. */
  helmet?: boolean
}

/** Options after defaults were applied and validated. @internal */
export interface ResolvedOptions {
  allowedOrigins: string[]
  publicUrl: string
  publicOrigin: string
  loginUrl: string
  policyTimeoutMs: number
  session: Required<SessionOptions>
  localIdp: Required<Omit<LocalIdpOptions, 'argon2'>> & { argon2: { memoryCost: number; timeCost: number; parallelism: number } } | null
  live: Required<LiveOptions>
  serveBundle: boolean
  helmet: boolean
}
