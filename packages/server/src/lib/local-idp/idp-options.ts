import { InvalidOption } from '@wire-auth/core'

/** Grants `POST /auth/local/token` may answer. */
export type GrantType = 'authorization_code' | 'refresh_token' | 'password'

const GRANTS: readonly GrantType[] = ['authorization_code', 'refresh_token', 'password']

/**
 * A client of the authorization code flow: a page (public client, no secret)
 * that gets tokens for its user through `GET /auth/local/authorize` with PKCE.
 */
export interface OAuthClientOptions {
  /** `client_id`: 1–128 of `A-Z a-z 0-9 . _ : -`. */
  clientId: string
  /**
   * Redirect URIs, compared exactly (character for character, RFC 9700
   * §4.1.3): https, or http on a loopback host. No fragment.
   */
  redirectUris: string[]
}

/**
 * A resource server allowed to call `POST /auth/local/verify-token` (RFC 7662
 * token introspection) with HTTP Basic `id:secret`. The answer shows it only
 * what it is configured to see.
 */
export interface ResourceServerOptions {
  /** The Basic user name: 1–128 of `A-Z a-z 0-9 . _ : -`. */
  id: string
  /** The Basic password: at least 32 characters. */
  secret: string
  /** Claim types the answer's `claims` may list. Default none. */
  claimTypes?: string[]
  /** Whether the answer carries the user's display `name`. Default false. */
  name?: boolean
}

/** The token-endpoint part of {@link LocalIdpOptions}. */
export interface TokenEndpointOptions {
  /**
   * Grants the token endpoint answers. Default `["authorization_code",
   * "refresh_token"]`. `"password"` (resource owner password credentials) is
   * off unless listed: RFC 9700 §2.4 says it MUST NOT be used and OAuth 2.1
   * removes it; turn it on only for first-party native clients that cannot
   * run a browser flow.
   */
  grants?: GrantType[]
  /**
   * Absolute lifetime of a refresh-token family in seconds: rotations never
   * extend a family past its sign-in plus this. Default 30 days (or
   * `refreshTokenTtl` when that is longer); never shorter than `refreshTokenTtl`.
   */
  refreshFamilyTtl?: number
  /** Clients of the authorization code flow (pages on other sites, your own SPA). Default none. */
  clients?: OAuthClientOptions[]
  /** Resource servers allowed to introspect tokens. Default none: introspection is off. */
  resourceServers?: ResourceServerOptions[]
}

/** A validated {@link OAuthClientOptions}. @internal */
export interface ResolvedClient {
  clientId: string
  redirectUris: readonly string[]
}

/** A validated {@link ResourceServerOptions}. @internal */
export interface ResolvedResourceServer {
  id: string
  secret: string
  claimTypes: ReadonlySet<string>
  name: boolean
}

/** The resolved {@link TokenEndpointOptions}. @internal */
export interface ResolvedTokenEndpointOptions {
  grants: readonly GrantType[]
  refreshFamilyTtl: number
  clients: readonly ResolvedClient[]
  resourceServers: readonly ResolvedResourceServer[]
}

const ID = /^[A-Za-z0-9._:-]{1,128}$/

function fail(message: string): never {
  throw new InvalidOption(message)
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname)
}

function redirectUri(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length > 2048) fail(`"${name}" must be an absolute URL string`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    fail(`"${name}" is not a valid URL: ${JSON.stringify(value).slice(0, 200)}`)
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) fail(`"${name}" must use https (or http on a loopback host)`)
  if (url.hash !== '' || value.includes('#')) fail(`"${name}" must not have a fragment (RFC 6749 §3.1.2)`)
  if (url.username !== '' || url.password !== '') fail(`"${name}" must not carry credentials`)
  return value
}

/**
 * Validates the token-endpoint options of `options.localIdp`.
 * @throws InvalidOption `ERR_INVALID_OPTION`, quoting the option.
 * @internal
 */
export function resolveTokenEndpointOptions(l: TokenEndpointOptions, refreshTokenTtl: number): ResolvedTokenEndpointOptions {
  const grants = l.grants ?? ['authorization_code', 'refresh_token']
  if (!Array.isArray(grants) || grants.some((g) => !GRANTS.includes(g))) fail(`"options.localIdp.grants" must be an array of ${GRANTS.map((g) => `"${g}"`).join(', ')}`)

  let refreshFamilyTtl = Math.max(30 * 24 * 3600, refreshTokenTtl)
  if (l.refreshFamilyTtl !== undefined) {
    if (typeof l.refreshFamilyTtl !== 'number' || !Number.isInteger(l.refreshFamilyTtl) || l.refreshFamilyTtl <= 0) fail('"options.localIdp.refreshFamilyTtl" must be a positive integer')
    if (l.refreshFamilyTtl < refreshTokenTtl) fail('"options.localIdp.refreshFamilyTtl" must not be shorter than "options.localIdp.refreshTokenTtl"')
    refreshFamilyTtl = l.refreshFamilyTtl
  }

  const rawClients = l.clients ?? []
  if (!Array.isArray(rawClients)) fail('"options.localIdp.clients" must be an array')
  const seen = new Set<string>()
  const clients = rawClients.map((c, i): ResolvedClient => {
    const name = `options.localIdp.clients[${i}]`
    if (c === null || typeof c !== 'object') fail(`"${name}" must be an object`)
    if (typeof c.clientId !== 'string' || !ID.test(c.clientId)) fail(`"${name}.clientId" must be 1–128 characters of A-Z a-z 0-9 . _ : -`)
    if (seen.has(c.clientId)) fail(`"${name}.clientId" ${JSON.stringify(c.clientId)} is listed twice`)
    seen.add(c.clientId)
    if (!Array.isArray(c.redirectUris) || c.redirectUris.length === 0) fail(`"${name}.redirectUris" must be a non-empty array`)
    return { clientId: c.clientId, redirectUris: Object.freeze(c.redirectUris.map((u, j) => redirectUri(u, `${name}.redirectUris[${j}]`))) }
  })

  const rawServers = l.resourceServers ?? []
  if (!Array.isArray(rawServers)) fail('"options.localIdp.resourceServers" must be an array')
  const ids = new Set<string>()
  const resourceServers = rawServers.map((r, i): ResolvedResourceServer => {
    const name = `options.localIdp.resourceServers[${i}]`
    if (r === null || typeof r !== 'object') fail(`"${name}" must be an object`)
    if (typeof r.id !== 'string' || !ID.test(r.id)) fail(`"${name}.id" must be 1–128 characters of A-Z a-z 0-9 . _ : -`)
    if (ids.has(r.id)) fail(`"${name}.id" ${JSON.stringify(r.id)} is listed twice`)
    ids.add(r.id)
    if (typeof r.secret !== 'string' || r.secret.length < 32 || r.secret.length > 1024) fail(`"${name}.secret" must be a string of 32 to 1024 characters`)
    if (r.claimTypes !== undefined && (!Array.isArray(r.claimTypes) || r.claimTypes.some((t) => typeof t !== 'string'))) fail(`"${name}.claimTypes" must be an array of strings`)
    if (r.name !== undefined && typeof r.name !== 'boolean') fail(`"${name}.name" must be a boolean`)
    return { id: r.id, secret: r.secret, claimTypes: new Set(r.claimTypes ?? []), name: r.name ?? false }
  })

  return { grants: Object.freeze([...grants]), refreshFamilyTtl, clients: Object.freeze(clients), resourceServers: Object.freeze(resourceServers) }
}
