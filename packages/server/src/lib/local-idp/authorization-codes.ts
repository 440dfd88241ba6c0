import { createHash, timingSafeEqual } from 'node:crypto'
import { hashSecret, looksLikeSecret, newSecret } from '../one-time-secret.js'
import type { AuthStore, AuthorizationCodeRecord } from '../store/auth-store.js'

/** Lifetime of an authorization code, ms (RFC 6749 §4.1.2 recommends at most 10 minutes; one is plenty). */
export const AUTHORIZATION_CODE_TTL_MS = 60_000

// RFC 7636 §4.1: 43–128 unreserved characters.
const VERIFIER_SHAPE = /^[A-Za-z0-9._~-]{43,128}$/
// base64url of a SHA-256.
const CHALLENGE_SHAPE = /^[A-Za-z0-9_-]{43}$/

/** SHA-256 hex of a raw code: the only form the store sees. */
const hashCode = hashSecret

/** True for a well-formed S256 `code_challenge`. */
export function isCodeChallenge(value: unknown): value is string {
  return typeof value === 'string' && CHALLENGE_SHAPE.test(value)
}

/** RFC 7636 §4.6 S256: base64url(SHA-256(verifier)) equals the challenge, compared in constant time. */
export function verifierMatches(verifier: unknown, challenge: string): boolean {
  if (typeof verifier !== 'string' || !VERIFIER_SHAPE.test(verifier)) return false
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'))
  const expected = Buffer.from(challenge)
  return computed.length === expected.length && timingSafeEqual(computed, expected)
}

/** The refresh-token family of the tokens a code was exchanged for: a replayed code revokes it (RFC 6749 §4.1.2). */
export function familyOfCode(record: AuthorizationCodeRecord): string {
  return `code-${record.id.slice(0, 32)}`
}

/** What an authorization request granted, to be bound to the code. */
export interface CodeGrant {
  clientId: string
  redirectUri: string
  codeChallenge: string
  userId: string
  scope: string
  nonce: string | null
}

/** Outcome of presenting a code at the token endpoint. */
export type CodeOutcome =
  | { ok: true; record: AuthorizationCodeRecord }
  | { ok: false; reason: 'invalid' }
  /** The code was exchanged before: whatever it gave is revoked by the caller. */
  | { ok: false; reason: 'reuse'; record: AuthorizationCodeRecord }

/**
 * Single-use, short-lived authorization codes kept hashed in the store.
 * @internal
 */
export class AuthorizationCodes {
  readonly #store: AuthStore
  readonly #now: () => number

  constructor(store: AuthStore, now: () => number = () => Date.now()) {
    this.#store = store
    this.#now = now
  }

  /** Stores a new code for `grant` and returns it (shown once, in the redirect). */
  async issue(grant: CodeGrant): Promise<string> {
    const code = newSecret()
    const createdAt = this.#now()
    await this.#store.createAuthorizationCode({ id: hashCode(code), ...grant, createdAt, expiresAt: createdAt + AUTHORIZATION_CODE_TTL_MS, usedAt: null })
    return code
  }

  /**
   * Consumes `raw` (atomically: one exchange wins) and checks it was issued to
   * `clientId` for `redirectUri`, is unexpired and that `verifier` matches its
   * challenge. Any mismatch burns the code all the same.
   */
  async exchange(raw: unknown, clientId: string, redirectUri: unknown, verifier: unknown): Promise<CodeOutcome> {
    if (!looksLikeSecret(raw)) return { ok: false, reason: 'invalid' }
    const now = this.#now()
    const consumed = await this.#store.consumeAuthorizationCode(hashCode(raw), now)
    if (consumed === null) return { ok: false, reason: 'invalid' }
    const { record, firstUse } = consumed
    if (!firstUse) return { ok: false, reason: 'reuse', record }
    if (record.expiresAt <= now || record.clientId !== clientId || record.redirectUri !== redirectUri || !verifierMatches(verifier, record.codeChallenge)) {
      return { ok: false, reason: 'invalid' }
    }
    return { ok: true, record }
  }
}
