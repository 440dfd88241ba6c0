import { InvalidOption, type Claim } from '@wire-auth/core'
import * as client from 'openid-client'
import { hasControlChars, stripControlCharsDeep } from '../control-chars.js'
import { DEFAULT_CLAIM_TYPES, defaultClaimMapper, ISSUER_CLAIM, mapProviderClaims, type ClaimMapper, type ProviderClaims } from './claims-mapping.js'
import { OidcCallbackFailed, ProviderUnavailable, toCallbackError } from './errors.js'
import { createLazyDiscovery, type LazyDiscovery } from './lazy-discovery.js'

/** Options of {@link OidcProvider}. Checked by the constructor. */
export interface OidcProviderOptions {
  /**
   * URL segment and identifier: `/auth/{name}/login`. Lower-case letters,
   * digits and `-`, 1–32 characters; `local` is taken by the local IdP.
   */
  name: string
  /** Label for login buttons (`GET /auth/providers`). Default: `name`. */
  displayName?: string
  /** Issuer identifier, e.g. `https://accounts.google.com`. Discovery reads `{issuer}/.well-known/openid-configuration`. */
  issuer: string | URL
  clientId: string
  /** Omit for a public client (PKCE only, `token_endpoint_auth_method` `none`). */
  clientSecret?: string
  /** Requested scopes; must contain `openid`. Default `['openid', 'email', 'profile']`. */
  scopes?: string[]
  /**
   * Maps the provider's claims (ID token, completed by userinfo) to
   * wire-auth claims. Default: `email`, `email_verified`, `name`.
   */
  mapClaims?: ClaimMapper
  /**
   * Claim types this provider's mapping owns: replaced at every login by
   * what the mapping returns (a type it no longer returns is removed), while
   * every other claim of the user (granted through `app.auth`) is left
   * alone. Default `email`, `email_verified`, `name`; **required** with
   * `mapClaims` (`ERR_INVALID_OPTION` otherwise). Mapped claims of other
   * types are dropped. The provider also owns `iss`: every login records
   * its issuer with the claims it set.
   */
  claimTypes?: string[]
  /** Also ask the userinfo endpoint (claims the ID token lacks). Default true. */
  userInfo?: boolean
  /** Extra authorization request parameters (`prompt`, `hd`, `login_hint`…). Protocol parameters are refused. */
  authorizationParams?: Record<string, string>
  /** How the client authenticates at the token endpoint. Default `client_secret_basic`, or `none` without a secret. */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | 'none'
  /**
   * Allow plain-http issuers and endpoints. For a provider on loopback in
   * tests and local demos only — never in production. Default false.
   */
  allowInsecureRequests?: boolean
  /** Time-out of each request to the provider, ms. Default 10 000. */
  timeoutMs?: number
  /** After a failed discovery, logins answer 502 at once for this long before retrying, ms. Default 10 000. */
  retryAfterMs?: number
  /** Discovery metadata is re-read after this long, ms. Default 24 hours. */
  discoveryTtlMs?: number
  /**
   * Where a failed callback sends the browser instead of answering JSON:
   * `{errorRedirect}?error={code}` (an absolute path or a URL on an allowed
   * origin). Default: none (JSON error).
   */
  errorRedirect?: string
}

/** The identity a provider asserted, after every check passed. */
export interface ProviderIdentity {
  /** The `iss` of the ID token (validated against the discovered issuer). */
  issuer: string
  /** The `sub` of the ID token. */
  subject: string
  /** ID token claims, completed by userinfo. */
  claims: ProviderClaims
}

/** The secrets of one authorization request, kept until its callback. */
export interface PendingAuthorization {
  state: string
  nonce: string
  codeVerifier: string
}

/**
 * A login provider wire-auth can mount at `/auth/{name}/login` and
 * `/auth/{name}/callback`. {@link OidcProvider} and {@link GoogleProvider}
 * implement it.
 */
export interface AuthProvider {
  readonly name: string
  readonly displayName: string
  /** See {@link OidcProviderOptions.errorRedirect}. */
  readonly errorRedirect: string | undefined
  /** See {@link OidcProviderOptions.allowInsecureRequests}. */
  readonly allowInsecureRequests: boolean
  /**
   * Builds the authorization URL (discovering the provider on first use).
   * @throws `ERR_PROVIDER_UNAVAILABLE` when discovery fails.
   */
  beginLogin(redirectUri: string): Promise<PendingAuthorization & { url: URL }>
  /**
   * Validates the authorization response `params` against `expected` and
   * redeems the code.
   * @throws `ERR_OIDC_CALLBACK_FAILED`, `ERR_PROVIDER_UNAVAILABLE`.
   */
  completeLogin(redirectUri: string, params: URLSearchParams, expected: PendingAuthorization): Promise<ProviderIdentity>
  /** Maps claims and says which claim types the result replaces. */
  mapClaims(claims: ProviderClaims): { claims: Claim[]; types: string[] }
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/
const RESERVED_NAMES = new Set(['local', 'me', 'logout', 'providers', 'fragments', 'live'])
const PROTOCOL_PARAMS = new Set(['client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'request', 'request_uri'])

function fail(option: string, rule: string): never {
  throw new InvalidOption(`OidcProvider "options.${option}" ${rule}`)
}

function nonEmptyString(value: unknown, option: string): string {
  if (typeof value !== 'string' || value.trim().length === 0) fail(option, 'must be a non-empty string')
  return value
}

function positiveMs(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(option, 'must be a positive number of milliseconds')
  return value
}

/**
 * A generic OpenID Connect provider (authorization code flow with PKCE
 * S256, state and nonce), built on openid-client. Discovery happens on
 * first use and is cached; a provider that is down only fails its own
 * logins (`ERR_PROVIDER_UNAVAILABLE`).
 *
 * @example
 * ```ts
 * connectAuth(app, {
 *   providers: [new OidcProvider({
 *     name: 'corp', displayName: 'Corp SSO', issuer: 'https://sso.corp.example',
 *     clientId: process.env.CORP_CLIENT_ID!, clientSecret: process.env.CORP_CLIENT_SECRET!,
 *     mapClaims: (c) => ({ email: c.email, email_verified: c.email_verified, name: c.name, role: c.groups }),
 *     claimTypes: ['email', 'email_verified', 'name', 'role'],
 *   })],
 * })
 * ```
 * @throws `ERR_INVALID_OPTION` for malformed options.
 */
export class OidcProvider implements AuthProvider {
  readonly name: string
  readonly displayName: string
  /** The configured issuer identifier. */
  readonly issuer: string
  readonly errorRedirect: string | undefined
  readonly allowInsecureRequests: boolean
  readonly #clientId: string
  readonly #clientSecret: string | undefined
  readonly #authMethod: 'client_secret_basic' | 'client_secret_post' | 'none'
  readonly #scopes: string
  readonly #mapper: ClaimMapper
  readonly #claimTypes: readonly string[]
  readonly #userInfo: boolean
  readonly #params: Readonly<Record<string, string>>
  readonly #timeoutSeconds: number
  readonly #discovery: LazyDiscovery<client.Configuration>

  constructor(options: OidcProviderOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidOption('OidcProvider options must be an object')
    const name = nonEmptyString(options.name, 'name')
    if (!NAME_PATTERN.test(name)) fail('name', 'must be 1-32 lower-case letters, digits or "-"')
    if (RESERVED_NAMES.has(name)) fail('name', `must not be "${name}" (reserved)`)
    this.name = name
    this.displayName = options.displayName === undefined ? name : nonEmptyString(options.displayName, 'displayName')

    let issuer: URL
    try {
      issuer = new URL(options.issuer)
    } catch {
      fail('issuer', 'must be an absolute URL')
    }
    if (issuer.search !== '' || issuer.hash !== '') fail('issuer', 'must not have a query or fragment')
    if (options.allowInsecureRequests !== undefined && typeof options.allowInsecureRequests !== 'boolean') fail('allowInsecureRequests', 'must be a boolean')
    this.allowInsecureRequests = options.allowInsecureRequests === true
    if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && this.allowInsecureRequests)) {
      fail('issuer', 'must be an https URL (http only with allowInsecureRequests: true, for local tests)')
    }
    this.issuer = issuer.href

    this.#clientId = nonEmptyString(options.clientId, 'clientId')
    this.#clientSecret = options.clientSecret === undefined ? undefined : nonEmptyString(options.clientSecret, 'clientSecret')
    const method = options.tokenEndpointAuthMethod ?? (this.#clientSecret === undefined ? 'none' : 'client_secret_basic')
    if (!['client_secret_basic', 'client_secret_post', 'none'].includes(method)) fail('tokenEndpointAuthMethod', 'must be "client_secret_basic", "client_secret_post" or "none"')
    if (method !== 'none' && this.#clientSecret === undefined) fail('clientSecret', `is required with tokenEndpointAuthMethod "${method}"`)
    this.#authMethod = method

    const scopes = options.scopes ?? ['openid', 'email', 'profile']
    if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s))) fail('scopes', 'must be an array of scope tokens')
    if (!scopes.includes('openid')) fail('scopes', 'must contain "openid"')
    this.#scopes = [...new Set(scopes)].join(' ')

    if (options.mapClaims !== undefined && typeof options.mapClaims !== 'function') fail('mapClaims', 'must be a function')
    this.#mapper = options.mapClaims ?? defaultClaimMapper
    if (options.claimTypes !== undefined && (!Array.isArray(options.claimTypes) || options.claimTypes.some((t) => typeof t !== 'string' || t.length === 0))) {
      fail('claimTypes', 'must be an array of claim types')
    }
    // A custom mapping must say which types it owns (C1): inferred from one
    // login's result, a type the provider stopped sending (a removed group →
    // `role`) would never be taken away again.
    if (options.mapClaims !== undefined && options.claimTypes === undefined) {
      fail('claimTypes', 'is required with mapClaims: list every claim type the mapping may return, so a type the provider stops sending is removed')
    }
    this.#claimTypes = Object.freeze([...(options.claimTypes ?? DEFAULT_CLAIM_TYPES)])

    if (options.userInfo !== undefined && typeof options.userInfo !== 'boolean') fail('userInfo', 'must be a boolean')
    this.#userInfo = options.userInfo ?? true

    const params = options.authorizationParams ?? {}
    if (typeof params !== 'object' || params === null || Array.isArray(params)) fail('authorizationParams', 'must be an object of strings')
    for (const [key, value] of Object.entries(params)) {
      if (typeof value !== 'string') fail(`authorizationParams.${key}`, 'must be a string')
      if (PROTOCOL_PARAMS.has(key)) fail(`authorizationParams.${key}`, 'is set by wire-auth and cannot be overridden')
    }
    this.#params = Object.freeze({ ...params })

    if (options.errorRedirect !== undefined) nonEmptyString(options.errorRedirect, 'errorRedirect')
    this.errorRedirect = options.errorRedirect

    const timeoutMs = positiveMs(options.timeoutMs, 'timeoutMs', 10_000)
    this.#timeoutSeconds = Math.max(1, Math.ceil(timeoutMs / 1000))
    this.#discovery = createLazyDiscovery(() => this.#discover(issuer), {
      ttlMs: positiveMs(options.discoveryTtlMs, 'discoveryTtlMs', 24 * 60 * 60 * 1000),
      retryAfterMs: positiveMs(options.retryAfterMs, 'retryAfterMs', 10_000),
    })
  }

  async #discover(issuer: URL): Promise<client.Configuration> {
    const metadata: Partial<client.ClientMetadata> = { token_endpoint_auth_method: this.#authMethod }
    if (this.#clientSecret !== undefined) metadata.client_secret = this.#clientSecret
    const auth =
      this.#authMethod === 'none'
        ? client.None()
        : this.#authMethod === 'client_secret_post'
          ? client.ClientSecretPost(this.#clientSecret)
          : client.ClientSecretBasic(this.#clientSecret)
    try {
      return await client.discovery(issuer, this.#clientId, metadata, auth, {
        timeout: this.#timeoutSeconds,
        execute: this.allowInsecureRequests ? [client.allowInsecureRequests] : [],
      })
    } catch (err) {
      throw new ProviderUnavailable(`provider "${this.name}" could not be discovered at ${issuer.href}`, { cause: err })
    }
  }

  /**
   * The discovered configuration (cached).
   * @throws `ERR_PROVIDER_UNAVAILABLE`
   * @internal
   */
  configuration(): Promise<client.Configuration> {
    return this.#discovery.get()
  }

  async beginLogin(redirectUri: string): Promise<PendingAuthorization & { url: URL }> {
    const config = await this.configuration()
    const codeVerifier = client.randomPKCECodeVerifier()
    const state = client.randomState()
    const nonce = client.randomNonce()
    const url = client.buildAuthorizationUrl(config, {
      ...this.#params,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: this.#scopes,
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    })
    return { url, state, nonce, codeVerifier }
  }

  async completeLogin(redirectUri: string, params: URLSearchParams, expected: PendingAuthorization): Promise<ProviderIdentity> {
    const config = await this.configuration()
    // The redirect_uri sent to the token endpoint is the configured one, never
    // one derived from the request's Host header.
    const currentUrl = new URL(redirectUri)
    currentUrl.search = params.toString()
    let claims: Record<string, unknown>
    try {
      const tokens = await client.authorizationCodeGrant(config, currentUrl, {
        expectedState: expected.state,
        expectedNonce: expected.nonce,
        pkceCodeVerifier: expected.codeVerifier,
        idTokenExpected: true,
      })
      const idToken = tokens.claims()
      if (idToken === undefined) throw new OidcCallbackFailed(`provider "${this.name}" returned no ID token`)
      claims = { ...idToken }
      if (this.#userInfo && typeof tokens.access_token === 'string' && config.serverMetadata().userinfo_endpoint !== undefined) {
        const info = await client.fetchUserInfo(config, tokens.access_token, idToken.sub)
        // The ID token is signed and was validated: it wins where both speak.
        claims = { ...info, ...idToken }
      }
    } catch (err) {
      throw toCallbackError(err, this.name)
    }
    // The boundary of checklist 30: `iss` / `sub` are identifiers and must be
    // clean; every other string a provider sent loses its control characters
    // here, before mapping, storage, rendering, logs or the CLI see it.
    for (const key of ['iss', 'sub']) {
      if (typeof claims[key] === 'string' && hasControlChars(claims[key] as string)) {
        throw new OidcCallbackFailed(`provider "${this.name}" returned an ID token whose ${key} holds control characters`)
      }
    }
    claims = stripControlCharsDeep(claims)
    this.verifyClaims(claims)
    return { issuer: String(claims.iss), subject: String(claims.sub), claims: Object.freeze(claims) }
  }

  /**
   * Extra checks on the validated claims; throw `OidcCallbackFailed` to
   * refuse the login. Presets override it (Google's hosted domain).
   */
  protected verifyClaims(claims: ProviderClaims): void {
    if (typeof claims.iss !== 'string' || typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 255) {
      throw new OidcCallbackFailed(`provider "${this.name}" returned an ID token without a usable iss/sub`)
    }
  }

  mapClaims(claims: ProviderClaims): { claims: Claim[]; types: string[] } {
    const types = this.#claimTypes.filter((type) => type !== ISSUER_CLAIM)
    const mapped = mapProviderClaims(this.#mapper, claims).filter((claim) => types.includes(claim.type))
    // The issuer is recorded with the claims it asserted (C11): replaced in
    // the same write, so `iss` always names the provider whose login set the
    // owned types (two providers may both assert `email_verified`).
    const issuer = typeof claims.iss === 'string' && claims.iss.length > 0 && claims.iss.length <= 1024 ? claims.iss : null
    return { claims: issuer === null ? mapped : [...mapped, { type: ISSUER_CLAIM, value: issuer }], types: [...new Set([...types, ISSUER_CLAIM])] }
  }
}
