import { isUtf8 } from 'node:buffer'
import { randomUUID } from 'node:crypto'
import { createVerifier } from 'fast-jwt'
import { SignJWT } from 'jose'
import { MAX_TOKEN_LENGTH, isPlainObject, type Claim } from '@wire-auth/core'
import type { AuthStore, UserRecord } from '../store/auth-store.js'
import type { SigningKeys } from './signing-keys.js'
import { codedError } from '../errors.js'

/** Header `typ` of access tokens (RFC 9068); verification requires it. */
export const ACCESS_TOKEN_TYP = 'at+jwt'

/** Clock skew tolerated on `exp` / `nbf` / `iat`, seconds. */
export const CLOCK_TOLERANCE_SECONDS = 5

/** Most claims carried in one token; more would break the size cap anyway. */
const MAX_CLAIMS = 256

// Three non-empty base64url segments. An empty signature (alg "none") or
// any other character fails here without touching crypto.
// Stryker disable next-line Regex: equivalent (docs/testing.md): without an anchor, fast-jwt refuses the extra characters (malformed, or a signature that does not match)
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

// Only what we put there ourselves. `jwk`, `jku`, `x5u`, `x5c`, `crit`, `b64`,
// `zip`… mean a token we did not sign, so they are refused outright.
const ALLOWED_HEADER = new Set(['alg', 'kid', 'typ'])

/** Claims every access token carries; a token without one of them is refused. */
// Stryker disable next-line ArrayDeclaration: equivalent (docs/testing.md): #readPayload requires each of them again (types and values)
const REQUIRED_CLAIMS = ['iss', 'aud', 'sub', 'jti', 'iat', 'nbf', 'exp']

/** Strict UTF-8 that keeps a byte-order mark, so JSON.parse refuses it (RFC 8259 §8.1). */
// Stryker disable next-line ObjectLiteral,BooleanLiteral: equivalent (docs/testing.md): fast-jwt refuses a header with a byte-order mark, and invalid bytes can only land in alg / kid / typ, compared exactly
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Verified tokens remembered (by their exact text) so a repeat skips the signature check. @internal */
export const VERIFIED_CACHE_SIZE = 5000

/** Lifetimes and identifiers of access tokens. */
export interface AccessTokenOptions {
  issuer: string
  audience: string
  /** Lifetime, seconds. */
  ttlSeconds: number
}

/** A freshly signed access token. */
export interface IssuedAccessToken {
  token: string
  jti: string
  /** Epoch seconds. */
  iat: number
  /** Epoch seconds. */
  exp: number
}

/** What a valid access token says. */
export interface AccessTokenPayload {
  sub: string
  name: string | null
  jti: string
  iss: string
  aud: string
  iat: number
  nbf: number
  exp: number
  claims: Claim[]
  /** User `version` when the token was issued. */
  version: number
}

function isNonEmptyString(value: unknown, max = 1024): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max
}

/** Length of a base64url segment that no byte string encodes (jose refuses it; Buffer would drop the odd character). */
function isImpossibleBase64Length(length: number): boolean {
  return length % 4 === 1
}

/** The decoded JSON object of a base64url segment, or null: strict UTF-8, no byte-order mark. */
function readJsonSegment(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(STRICT_UTF8.decode(Buffer.from(segment, 'base64url')))
    return isPlainObject(value) ? value : null
  } catch {
    return null
  }
}

/** `aud` as jose accepts it (our audience, or an array holding it), with every array member a string. */
function audienceMatches(aud: unknown, audience: string): boolean {
  if (typeof aud === 'string') return aud === audience
  return Array.isArray(aud) && aud.includes(audience) && aud.every((member) => typeof member === 'string')
}

type VerifySync = (token: string) => Record<string, unknown>

function readClaims(value: unknown): Claim[] | null {
  if (!Array.isArray(value) || value.length > MAX_CLAIMS) return null
  const claims: Claim[] = []
  for (const pair of value) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') return null
    claims.push({ type: pair[0], value: pair[1] })
  }
  return claims
}

/**
 * Signs and verifies the local IdP's access tokens: JWTs with header
 * `{ alg, kid, typ: "at+jwt" }` and claims `iss aud sub name jti iat nbf exp
 * wa_claims wa_ver`. Signing uses jose; verification uses fast-jwt
 * (synchronous node:crypto, no thread-pool hop) behind our own strict checks:
 * only our own keys and our one algorithm, every time and identity claim
 * required, times read from the injected clock. It accepts what jose's
 * `jwtVerify` with the same options accepts (a differential test holds it
 * to that), less two oddities only our private key could sign: a byte-order
 * mark before the JSON, and non-string members in an `aud` array.
 * @internal
 */
export class AccessTokens {
  readonly #keys: SigningKeys
  readonly #store: AuthStore
  readonly #options: AccessTokenOptions
  readonly #now: () => number
  /** Exact token text → its verified payload; insertion order evicts the oldest. */
  readonly #verified = new Map<string, AccessTokenPayload>()
  /** kid → fast-jwt verifier of that key, made at the kid's first token (making one parses the PEM, ≈ 0.1 ms). */
  readonly #verifiers = new Map<string, VerifySync>()

  constructor(keys: SigningKeys, store: AuthStore, options: AccessTokenOptions, now: () => number = () => Date.now()) {
    this.#keys = keys
    this.#store = store
    this.#options = { ...options }
    this.#now = now
  }

  /** Lifetime of new tokens, seconds. */
  get ttlSeconds(): number {
    return this.#options.ttlSeconds
  }

  /** Signs an access token for `user` with the active key. */
  async issue(user: UserRecord): Promise<IssuedAccessToken> {
    const key = await this.#keys.active()
    const iat = Math.floor(this.#now() / 1000)
    const exp = iat + this.#options.ttlSeconds
    const jti = randomUUID()
    const token = await new SignJWT({
      name: user.name,
      wa_claims: user.claims.map((c) => [c.type, c.value]),
      wa_ver: user.version,
    })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYP })
      .setIssuer(this.#options.issuer)
      .setAudience(this.#options.audience)
      .setSubject(user.id)
      .setJti(jti)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .sign(key.privateKey)
    // Verification refuses anything longer; better a clear error now than a dead token.
    if (token.length > MAX_TOKEN_LENGTH) throw codedError('ERR_INTERNAL', `the claims of user ${user.id} do not fit in an access token (${MAX_TOKEN_LENGTH} bytes)`)
    return { token, jti, iat, exp }
  }

  /**
   * Verifies signature, algorithm, header, `iss`, `aud`, `exp`, `nbf`,
   * `iat`, the payload's shape and the `jti` denylist.
   * @returns the payload, or null for anything invalid (never throws for
   *   bad input; store failures propagate as `ERR_STORE_UNAVAILABLE`)
   */
  async verify(token: unknown): Promise<AccessTokenPayload | null> {
    const payload = await this.verifySignedOnly(token)
    if (payload === null) return null
    if (await this.#store.isAccessTokenRevoked(payload.jti)) return null
    return payload
  }

  /** Like {@link verify} without the denylist lookup (used by revocation). */
  async verifySignedOnly(token: unknown): Promise<AccessTokenPayload | null> {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !JWT_SHAPE.test(token)) return null
    // Only the signature and header work is cached: a byte-identical token was
    // already proven ours; its time window is checked again on every use, and
    // revocation and the user row are read by the callers every time.
    const cached = this.#verified.get(token)
    if (cached !== undefined) {
      const now = Math.floor(this.#now() / 1000)
      // The time rules of a first sight, iat included, so that a clock set back answers alike.
      if (now < cached.exp + CLOCK_TOLERANCE_SECONDS && now + CLOCK_TOLERANCE_SECONDS >= cached.nbf && now + CLOCK_TOLERANCE_SECONDS >= cached.iat) return cached
      this.#verified.delete(token)
      return null
    }
    const payload = await this.#verifySignature(token)
    if (payload !== null) {
      if (this.#verified.size >= VERIFIED_CACHE_SIZE) this.#verified.delete(this.#verified.keys().next().value as string)
      this.#verified.set(token, payload)
    }
    return payload
  }

  async #verifySignature(token: string): Promise<AccessTokenPayload | null> {
    // Strict compact JWS on top of JWT_SHAPE: no segment of an impossible
    // base64 length, and the header is strict UTF-8 JSON holding only what we
    // put there. All of this runs before any key lookup or crypto.
    const first = token.indexOf('.')
    const second = token.indexOf('.', first + 1)
    if (isImpossibleBase64Length(first)) return null
    // Stryker disable next-line ArithmeticOperator: equivalent (docs/testing.md): fast-jwt refuses a payload of an impossible length as malformed
    if (isImpossibleBase64Length(second - first - 1)) return null
    // Stryker disable next-line ArithmeticOperator,ConditionalExpression: equivalent (docs/testing.md): a signature segment of 4k + 1 characters never decodes to the 64 bytes of a signature
    if (isImpossibleBase64Length(token.length - second - 1)) return null
    const header = readJsonSegment(token.slice(0, first))
    if (header === null) return null
    for (const name of Object.keys(header)) if (!ALLOWED_HEADER.has(name)) return null
    // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): fast-jwt allows only this algorithm too
    if (header.alg !== this.#keys.alg) return null
    if (header.typ !== ACCESS_TOKEN_TYP || !isNonEmptyString(header.kid, 128)) return null
    // fast-jwt reads the payload with Buffer's lenient UTF-8; jose (and we) refuse invalid bytes.
    if (!isUtf8(Buffer.from(token.slice(first + 1, second), 'base64url'))) return null

    const verify = await this.#verifierFor(header.kid)
    // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): calling null throws, and the catch below answers null as well
    if (verify === null) return null
    let claims: Record<string, unknown>
    try {
      claims = verify(token)
    } catch {
      return null
    }
    return this.#readPayload(claims)
  }

  /** The fast-jwt verifier of our key `kid`, or null for a kid that is not ours. */
  async #verifierFor(kid: string): Promise<VerifySync | null> {
    const pem = await this.#keys.publicKeyPem(kid)
    if (pem === null) return null
    // A kid names one key for good (see SigningKeys), so its verifier never goes stale.
    const cached = this.#verifiers.get(kid)
    // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): a cache of work only; a new verifier of the same key verifies alike
    if (cached !== undefined) return cached
    let verify: VerifySync
    try {
      verify = this.#createVerifier(pem)
    } catch (err) {
      throw codedError('ERR_INTERNAL', `no verifier can be made for the signing key ${kid}`, { cause: err })
    }
    this.#verifiers.set(kid, verify)
    return verify
  }

  #createVerifier(pem: string): VerifySync {
    return createVerifier({
      key: pem,
      algorithms: [this.#keys.alg],
      allowedIss: this.#options.issuer,
      allowedAud: this.#options.audience,
      checkTyp: ACCESS_TOKEN_TYP,
      requiredClaims: REQUIRED_CLAIMS,
      // fast-jwt fixes its clock when the verifier is made (`clockTimestamp`);
      // #readPayload checks exp / nbf / iat against the injected clock instead.
      ignoreExpiration: true,
      ignoreNotBefore: true,
      // Our own cache (#verified) stays the only one.
      cache: false,
    }) as VerifySync
  }

  #readPayload(p: Record<string, unknown>): AccessTokenPayload | null {
    // fast-jwt compares iss and aud too, but skips an empty allowed value; compare here so no option can switch it off.
    if (p.iss !== this.#options.issuer || !audienceMatches(p.aud, this.#options.audience)) return null
    if (typeof p.iat !== 'number' || typeof p.nbf !== 'number' || typeof p.exp !== 'number') return null
    // The same instants as jose's jwtVerify: whole seconds of the injected clock, exp exclusive, nbf inclusive.
    const now = Math.floor(this.#now() / 1000)
    if (p.exp <= now - CLOCK_TOLERANCE_SECONDS || p.nbf > now + CLOCK_TOLERANCE_SECONDS) return null
    // A token issued in the future is refused like an early `nbf`.
    if (p.iat > now + CLOCK_TOLERANCE_SECONDS) return null
    const claims = readClaims(p.wa_claims)
    const name = p.name ?? null
    if (claims === null || !isNonEmptyString(p.sub) || !isNonEmptyString(p.jti, 128)) return null
    if (name !== null && typeof name !== 'string') return null
    // Number.isInteger is false for every non-number.
    if (!Number.isInteger(p.wa_ver)) return null
    return Object.freeze({
      sub: p.sub,
      name,
      jti: p.jti,
      iss: this.#options.issuer,
      aud: this.#options.audience,
      iat: p.iat,
      nbf: p.nbf,
      exp: p.exp,
      claims: Object.freeze(claims) as Claim[],
      version: p.wa_ver as number,
    })
  }
}
