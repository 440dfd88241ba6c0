import { randomBytes } from 'node:crypto'
import { createPrincipal, type Claim, type ClaimsPrincipal, type WireAuthLogger } from '@wire-auth/core'
import type { JSONWebKeySet } from 'jose'
import { hasControlChars } from '../control-chars.js'
import { codedError, UserDisabled } from '../errors.js'
import type { ResolvedOptions } from '../options.js'
import type { AuthStore, UserRecord } from '../store/auth-store.js'
import { isWellFormed } from '../well-formed.js'
import { canonicalEmail, tryCanonicalEmail } from './email.js'
import { loadCommonPasswords, PasswordHasher } from './passwords.js'
import { AuthorizationCodes, familyOfCode, type CodeGrant } from './authorization-codes.js'
import type { ResolvedResourceServer } from './idp-options.js'
import { looksLikeRefreshToken, RefreshTokens } from './refresh-tokens.js'
import { SigningKeys, type SigningKeyInfo } from './signing-keys.js'
import { LoginThrottle, type ThrottleVerdict } from './throttle.js'
import { AccessTokens, CLOCK_TOLERANCE_SECONDS, type AccessTokenPayload } from './tokens.js'

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

/** The resolved `options.localIdp`. @internal */
export type ResolvedLocalIdpOptions = NonNullable<ResolvedOptions['localIdp']>

/** What {@link createLocalIdp} needs; no Fastify. */
export interface LocalIdpDeps {
  store: AuthStore
  options: ResolvedLocalIdpOptions
  /** Clock, epoch ms. Default `Date.now`; tests freeze and advance it. */
  now?: () => number
  /** Receives non-fatal problems (a failed password rehash). */
  log?: Pick<WireAuthLogger, 'warn'>
}

/** The OAuth 2 token response of `POST /auth/local/token`. */
export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  /** Seconds. */
  expires_in: number
  refresh_token: string
}

/** An access token without a refresh token: what `WireAuth.getToken()` gets from a session. */
export interface AccessTokenResponse {
  access_token: string
  token_type: 'Bearer'
  /** Seconds. */
  expires_in: number
}

/**
 * RFC 7662 introspection answer of `POST /auth/local/verify-token`: what the
 * calling resource server may see (`name` and `claims` only as configured).
 */
export type IntrospectionResponse =
  | { active: false }
  | { active: true; sub: string; name?: string | null; claims: [string, string][]; exp: number; iat: number; nbf: number; iss: string; aud: string; token_type: 'Bearer'; jti: string }

/** Outcome of an `authorization_code` grant. */
export type CodeExchangeResult =
  | { ok: true; user: UserRecord; tokens: TokenResponse }
  | { ok: false; reason: 'invalid' | 'reuse'; userId: string | null }

/** Outcome of a password sign-in. Failures carry no detail a client may see. */
export type SignInResult =
  | { ok: true; user: UserRecord; /** The device cookie's value (unsigned) to give this browser. */ device: string }
  | { ok: false; reason: 'throttled'; verdict: ThrottleVerdict }
  | { ok: false; reason: 'invalid' | 'disabled'; userId: string | null }

/** Outcome of a refresh-token grant. */
export type RefreshResult =
  | { ok: true; user: UserRecord; tokens: TokenResponse }
  | { ok: false; reason: 'invalid' | 'reuse'; userId: string | null; familyId: string | null }

/** What `POST /auth/local/revoke` found. */
export type RevokeResult = { kind: 'access' | 'refresh'; userId: string } | { kind: 'unknown' }

/** New user input of {@link LocalIdp.createUser}. */
export interface NewLocalUser {
  email: unknown
  password: unknown
  name?: unknown
  claims?: Claim[]
}

/**
 * The local identity provider without its routes: passwords, throttling,
 * signing keys and tokens. Implements {@link TokenVerifier}.
 */
export interface LocalIdp extends TokenVerifier {
  readonly options: ResolvedLocalIdpOptions
  readonly passwords: PasswordHasher
  readonly throttle: LoginThrottle
  /** Loads or creates the signing key, the dummy hash and the common-password list. */
  init(): Promise<void>
  /** Checks the password policy and hashes (argon2id). Throws `ERR_WEAK_PASSWORD` / `ERR_PASSWORD_TOO_LONG`. */
  hashPassword(password: unknown): Promise<string>
  /** Verifies against `hash`, or against the dummy hash when null. */
  verifyPassword(hash: string | null, password: unknown): Promise<boolean>
  /** Creates a password user. Throws `ERR_INVALID_EMAIL`, `ERR_WEAK_PASSWORD`, `ERR_PASSWORD_TOO_LONG`, `ERR_VALIDATION`, `ERR_ACCOUNT_EXISTS`. */
  createUser(input: NewLocalUser): Promise<UserRecord>
  /**
   * Checks e-mail and password with throttling per (account, client), per
   * client address and, softly, per account (see `LoginThrottle`).
   * @param device the verified (unsigned) value of the browser's device
   *   cookie, if any; it exempts the browser from other clients' failures
   *   when it names this account.
   */
  signIn(identifier: unknown, password: unknown, ip: string, device?: string | null): Promise<SignInResult>
  /** Access + refresh token for `user` (a new family, ending `refreshFamilyTtl` from now). Throws `ERR_USER_DISABLED`. */
  issueTokens(user: UserRecord, familyId?: string): Promise<TokenResponse>
  /** An access token alone (no refresh token), for a signed-in session. Throws `ERR_USER_DISABLED`. */
  issueAccessToken(user: UserRecord): Promise<AccessTokenResponse>
  /** Rotates a refresh token; reuse revokes its family. */
  refresh(refreshToken: unknown): Promise<RefreshResult>
  /** Stores a single-use authorization code for `grant` and returns it. */
  issueAuthorizationCode(grant: CodeGrant): Promise<string>
  /** The `authorization_code` grant: code, client, redirect URI and PKCE verifier must all match; a replayed code revokes what it gave. */
  exchangeAuthorizationCode(code: unknown, clientId: string, redirectUri: unknown, codeVerifier: unknown): Promise<CodeExchangeResult>
  /** Revokes an access token (denylists its jti) or a refresh token's family. */
  revokeToken(token: unknown): Promise<RevokeResult>
  /** RFC 7662 view of an access token, as far as `caller` may see it. */
  introspect(token: unknown, caller: ResolvedResourceServer): Promise<IntrospectionResponse>
  /** The verified access token payload and current user, or null. */
  verifyAccessTokenPayload(token: unknown): Promise<{ payload: AccessTokenPayload; user: UserRecord } | null>
  /** The public JWK set served at `/.well-known/jwks.json`. */
  jwks(): Promise<JSONWebKeySet>
  /**
   * Key rotation: stores a new signing key that signs from `delayMs` from now
   * (default 2 minutes, so every worker has re-read the keys first); the
   * current key keeps verifying its tokens until they expire, then leaves
   * the JWKS. Every worker and machine on the store follows within a minute.
   */
  rotateSigningKey(delayMs?: number): Promise<SigningKeyInfo>
  /** The signing keys and their states (`signing`, `next`, `verifying`, `retired`). */
  listSigningKeys(): Promise<SigningKeyInfo[]>
}

const NAME_MAX_LENGTH = 128

/** Format version of the device cookie's value: `d1.<account tag>.<device id>`. */
const DEVICE_VERSION = 'd1'

function readName(value: unknown): string | null {
  if (value === undefined || value === null) return null
  // Control characters (C0, C1, bidi overrides…) are refused: names reach terminals, logs and attributes (checklist 30).
  if (typeof value !== 'string' || value.length > NAME_MAX_LENGTH * 2 || hasControlChars(value) || !isWellFormed(value)) {
    throw codedError('ERR_VALIDATION', `"name" must be a string of at most ${NAME_MAX_LENGTH} characters`)
  }
  const name = value.trim().normalize('NFC')
  if ([...name].length > NAME_MAX_LENGTH) throw codedError('ERR_VALIDATION', `"name" must be a string of at most ${NAME_MAX_LENGTH} characters`)
  return name.length === 0 ? null : name
}

class LocalIdpImpl implements LocalIdp {
  readonly options: ResolvedLocalIdpOptions
  readonly passwords: PasswordHasher
  readonly throttle: LoginThrottle
  readonly #store: AuthStore
  readonly #now: () => number
  readonly #log: LocalIdpDeps['log']
  readonly #keys: SigningKeys
  readonly #access: AccessTokens
  readonly #refresh: RefreshTokens
  readonly #codes: AuthorizationCodes

  constructor(deps: LocalIdpDeps) {
    const { store, options } = deps
    this.options = options
    this.#store = store
    this.#now = deps.now ?? (() => Date.now())
    this.#log = deps.log
    this.passwords = new PasswordHasher(options.argon2, { minLength: options.passwordMinLength, maxLength: options.passwordMaxLength })
    this.throttle = new LoginThrottle(
      store,
      { maxFailuresPerAccount: options.maxFailuresPerAccount, maxFailuresPerClient: options.maxFailuresPerClient, windowMs: options.lockoutWindowMs },
      this.#now,
    )
    // A superseded key verifies until the last token it signed has expired (plus the clock tolerance and a minute).
    this.#keys = new SigningKeys(store, options.signingAlg, this.#now, (options.accessTokenTtl + CLOCK_TOLERANCE_SECONDS + 60) * 1000)
    this.#access = new AccessTokens(this.#keys, store, { issuer: options.issuer, audience: options.audience, ttlSeconds: options.accessTokenTtl }, this.#now)
    this.#refresh = new RefreshTokens(store, options.refreshTokenTtl, options.refreshFamilyTtl, this.#now)
    this.#codes = new AuthorizationCodes(store, this.#now)
  }

  async init(): Promise<void> {
    await Promise.all([this.#keys.init(), this.passwords.dummyHash(), loadCommonPasswords()])
  }

  hashPassword(password: unknown): Promise<string> {
    return this.passwords.hash(password)
  }

  verifyPassword(hash: string | null, password: unknown): Promise<boolean> {
    return this.passwords.verify(hash, password)
  }

  async createUser(input: NewLocalUser): Promise<UserRecord> {
    const email = canonicalEmail(input.email)
    const name = readName(input.name)
    const passwordHash = await this.passwords.hash(input.password)
    if ((await this.#store.getUserByEmail(email)) !== null) throw codedError('ERR_ACCOUNT_EXISTS', 'an account with this e-mail already exists')
    return this.#store.createUser({ email, name, passwordHash, claims: input.claims ?? [] })
  }

  async signIn(identifier: unknown, password: unknown, ip: string, device: string | null = null): Promise<SignInResult> {
    const email = tryCanonicalEmail(identifier)
    const deviceId = email === null ? null : this.#deviceIdFor(email, device)
    const reserved = await this.throttle.reserve(email, ip, deviceId)
    if (!reserved.ok) return { ok: false, reason: 'throttled', verdict: reserved.verdict }
    const { reservation } = reserved
    let user: UserRecord | null
    let matches: boolean
    try {
      user = email === null ? null : await this.#store.getUserByEmail(email)
      // Always one argon2 verification, against the dummy hash when there is no account.
      matches = await this.passwords.verify(user?.passwordHash ?? null, password)
    } catch (err) {
      // A store fault is not the client's failure: hand the units back (best effort).
      await this.throttle.cancel(reservation).catch(() => {})
      throw err
    }
    if (!matches || user === null || user.disabled) {
      await this.throttle.fail(reservation)
      return { ok: false, reason: matches && user?.disabled ? 'disabled' : 'invalid', userId: user?.id ?? null }
    }
    await this.throttle.succeed(reservation)
    return { ok: true, user: await this.#rehashIfNeeded(user, password as string), device: `${DEVICE_VERSION}.${this.throttle.deviceTag(email as string)}.${deviceId ?? randomBytes(16).toString('base64url')}` }
  }

  /** The device id of a device-cookie value issued to `email`'s owner, else null. */
  #deviceIdFor(email: string, device: string | null): string | null {
    if (typeof device !== 'string') return null
    const [version, tag, id, ...rest] = device.split('.')
    if (version !== DEVICE_VERSION || rest.length > 0 || tag !== this.throttle.deviceTag(email) || id === undefined || !/^[A-Za-z0-9_-]{22}$/.test(id)) return null
    return id
  }

  async #rehashIfNeeded(user: UserRecord, password: string): Promise<UserRecord> {
    if (user.passwordHash === null || !this.passwords.needsRehash(user.passwordHash)) return user
    try {
      // The password was accepted under the old rules; only the cost changes here.
      const passwordHash = await this.passwords.rehash(password)
      return await this.#store.updateUser(user.id, { passwordHash })
    } catch (err) {
      this.#log?.warn({ err, userId: user.id }, 'wire-auth: password rehash failed; keeping the old hash')
      return user
    }
  }

  async issueTokens(user: UserRecord, familyId?: string): Promise<TokenResponse> {
    if (user.disabled) throw new UserDisabled()
    const access = await this.#access.issue(user)
    const refresh = await this.#refresh.issue(user.id, undefined, familyId)
    return { access_token: access.token, token_type: 'Bearer', expires_in: this.#access.ttlSeconds, refresh_token: refresh.token }
  }

  async issueAccessToken(user: UserRecord): Promise<AccessTokenResponse> {
    if (user.disabled) throw new UserDisabled()
    const access = await this.#access.issue(user)
    return { access_token: access.token, token_type: 'Bearer', expires_in: this.#access.ttlSeconds }
  }

  issueAuthorizationCode(grant: CodeGrant): Promise<string> {
    return this.#codes.issue(grant)
  }

  async exchangeAuthorizationCode(code: unknown, clientId: string, redirectUri: unknown, codeVerifier: unknown): Promise<CodeExchangeResult> {
    const outcome = await this.#codes.exchange(code, clientId, redirectUri, codeVerifier)
    if (!outcome.ok) {
      if (outcome.reason === 'reuse') {
        // RFC 6749 §4.1.2: a code used twice revokes what it was exchanged for.
        await this.#store.revokeRefreshFamily(familyOfCode(outcome.record), this.#now())
        return { ok: false, reason: 'reuse', userId: outcome.record.userId }
      }
      return { ok: false, reason: 'invalid', userId: null }
    }
    const user = await this.#store.getUser(outcome.record.userId)
    if (user === null || user.disabled) return { ok: false, reason: 'invalid', userId: outcome.record.userId }
    return { ok: true, user, tokens: await this.issueTokens(user, familyOfCode(outcome.record)) }
  }

  async refresh(refreshToken: unknown): Promise<RefreshResult> {
    const outcome = await this.#refresh.use(refreshToken)
    if (!outcome.ok) {
      const record = outcome.reason === 'reuse' ? outcome.record : null
      return { ok: false, reason: outcome.reason, userId: record?.userId ?? null, familyId: record?.familyId ?? null }
    }
    const { record } = outcome
    const user = await this.#store.getUser(record.userId)
    if (user === null || user.disabled) {
      await this.#store.revokeRefreshFamily(record.familyId, this.#now())
      return { ok: false, reason: 'invalid', userId: record.userId, familyId: record.familyId }
    }
    const refresh = await this.#refresh.issue(user.id, record)
    if (!(await this.#refresh.successorHolds(record))) return { ok: false, reason: 'reuse', userId: user.id, familyId: record.familyId }
    const access = await this.#access.issue(user)
    return { ok: true, user, tokens: { access_token: access.token, token_type: 'Bearer', expires_in: this.#access.ttlSeconds, refresh_token: refresh.token } }
  }

  async revokeToken(token: unknown): Promise<RevokeResult> {
    if (looksLikeRefreshToken(token)) {
      const record = await this.#refresh.revoke(token)
      return record === null ? { kind: 'unknown' } : { kind: 'refresh', userId: record.userId }
    }
    const payload = await this.#access.verifySignedOnly(token)
    if (payload === null) return { kind: 'unknown' }
    await this.#store.revokeAccessToken(payload.jti, payload.exp * 1000)
    return { kind: 'access', userId: payload.sub }
  }

  async verifyAccessTokenPayload(token: unknown): Promise<{ payload: AccessTokenPayload; user: UserRecord } | null> {
    const payload = await this.#access.verify(token)
    if (payload === null) return null
    // The user row is authoritative: a disabled user or a revoked claim takes effect at once.
    const user = await this.#store.getUser(payload.sub)
    if (user === null || user.disabled) return null
    // "Sign out everywhere" cuts off every access token issued before it.
    if (payload.version < user.tokensMinVersion) return null
    return { payload, user }
  }

  async verifyAccessToken(token: string): Promise<ClaimsPrincipal | null> {
    const verified = await this.verifyAccessTokenPayload(token)
    if (verified === null) return null
    const { payload, user } = verified
    return createPrincipal({ userId: user.id, name: user.name, claims: user.claims, raw: { jti: payload.jti, exp: payload.exp, tokenUse: 'access' } })
  }

  async introspect(token: unknown, caller: ResolvedResourceServer): Promise<IntrospectionResponse> {
    const verified = await this.verifyAccessTokenPayload(token)
    if (verified === null) return { active: false }
    const { payload, user } = verified
    // RFC 7662 §2.2: the answer may depend on who asks; a resource server sees
    // the claim types it was configured for, and the name only when allowed.
    const answer: IntrospectionResponse = {
      active: true,
      sub: user.id,
      claims: user.claims.filter((c) => caller.claimTypes.has(c.type)).map((c): [string, string] => [c.type, c.value]),
      exp: payload.exp,
      iat: payload.iat,
      nbf: payload.nbf,
      iss: payload.iss,
      aud: payload.aud,
      token_type: 'Bearer',
      jti: payload.jti,
    }
    if (caller.name) answer.name = user.name
    return answer
  }

  jwks(): Promise<JSONWebKeySet> {
    return this.#keys.jwks()
  }

  rotateSigningKey(delayMs?: number): Promise<SigningKeyInfo> {
    return this.#keys.rotate(delayMs)
  }

  listSigningKeys(): Promise<SigningKeyInfo[]> {
    return this.#keys.list()
  }
}

/**
 * Creates the local identity provider's services over a store. Fastify-free:
 * the CLI (`wire-auth user add`) and the demo use it directly; the plugin
 * mounts its routes with `registerLocalIdp`.
 *
 * @throws InvalidOption `ERR_INVALID_OPTION` for argon2 parameters below OWASP's minimum
 * @example
 * ```ts
 * const idp = createLocalIdp({ store, options: resolveOptions({ localIdp: true }).localIdp! })
 * await idp.init()
 * const user = await idp.createUser({ email: 'ada@example.com', password: 'correct horse battery staple' })
 * ```
 */
export function createLocalIdp(deps: LocalIdpDeps): LocalIdp {
  return new LocalIdpImpl(deps)
}
