import { randomUUID } from 'node:crypto'
import { hashSecret, looksLikeSecret, newSecret } from '../one-time-secret.js'
import type { AuthStore, RefreshTokenRecord } from '../store/auth-store.js'

/** A freshly issued refresh token; `token` is shown to the client once. */
export interface IssuedRefreshToken {
  token: string
  familyId: string
  /** Epoch ms. */
  expiresAt: number
  /** End of the family, epoch ms: no successor outlives it. */
  familyExpiresAt: number
}

/** Outcome of presenting a refresh token. */
export type RefreshOutcome =
  | { ok: true; record: RefreshTokenRecord }
  /** Unknown, malformed, expired or revoked. */
  | { ok: false; reason: 'invalid' }
  /** An already rotated token came back: its whole family is now revoked. */
  | { ok: false; reason: 'reuse'; record: RefreshTokenRecord }

/** True when `value` has the shape of one of our refresh tokens (no store lookup). */
export function looksLikeRefreshToken(value: unknown): value is string {
  return looksLikeSecret(value)
}

/** SHA-256 hex of a raw refresh token: the only form the store sees. */
export function hashRefreshToken(raw: string): string {
  return hashSecret(raw)
}

/** The end of the family `record` belongs to; rows written before families had one end at their own expiry. */
export function familyEnd(record: RefreshTokenRecord): number {
  return record.familyExpiresAt ?? record.expiresAt
}

/**
 * Opaque, rotating refresh tokens. Each sign-in starts a family; every use
 * marks the presented token used (atomically, in the store) and issues the
 * next one of the family. Presenting a used token again means it leaked:
 * the family is revoked, so both the thief and the victim must sign in again.
 * A family has an absolute lifetime from its sign-in (`familyTtlSeconds`):
 * each token lives `ttlSeconds` unused, but never past its family's end.
 * @internal
 */
export class RefreshTokens {
  readonly #store: AuthStore
  readonly #ttlMs: number
  readonly #familyTtlMs: number
  readonly #now: () => number

  constructor(store: AuthStore, ttlSeconds: number, familyTtlSeconds: number, now: () => number = () => Date.now()) {
    this.#store = store
    this.#ttlMs = ttlSeconds * 1000
    this.#familyTtlMs = familyTtlSeconds * 1000
    this.#now = now
  }

  /**
   * Issues a token for `userId`: the successor of `predecessor` (same family,
   * same end) or the first of a new family.
   */
  async issue(userId: string, predecessor?: RefreshTokenRecord, familyId?: string): Promise<IssuedRefreshToken> {
    const token = newSecret()
    const createdAt = this.#now()
    const familyExpiresAt = predecessor === undefined ? createdAt + this.#familyTtlMs : familyEnd(predecessor)
    const expiresAt = Math.min(createdAt + this.#ttlMs, familyExpiresAt)
    const family = predecessor?.familyId ?? familyId ?? randomUUID()
    await this.#store.createRefreshToken({
      id: hashRefreshToken(token),
      familyId: family,
      userId,
      createdAt,
      expiresAt,
      usedAt: null,
      revokedAt: null,
      familyExpiresAt,
    })
    return { token, familyId: family, expiresAt, familyExpiresAt }
  }

  /** Marks `raw` used if it is valid; detects reuse. The caller issues the successor. */
  async use(raw: unknown): Promise<RefreshOutcome> {
    if (!looksLikeRefreshToken(raw)) return { ok: false, reason: 'invalid' }
    const id = hashRefreshToken(raw)
    const record = await this.#store.getRefreshToken(id)
    const now = this.#now()
    if (record === null || record.revokedAt !== null || record.expiresAt <= now) return { ok: false, reason: 'invalid' }
    if (record.usedAt === null && (await this.#store.useRefreshToken(id, now))) return { ok: true, record }
    // Used before, or used by a concurrent request a moment ago: either way
    // two parties hold this token.
    await this.#store.revokeRefreshFamily(record.familyId, now)
    return { ok: false, reason: 'reuse', record }
  }

  /**
   * After the successor of `used` was stored: true while `used` was not
   * revoked in the meantime. A concurrent reuse revokes the family between
   * our use and our insert; the successor would then escape that revocation,
   * so it is revoked here instead.
   */
  async successorHolds(used: RefreshTokenRecord): Promise<boolean> {
    const current = await this.#store.getRefreshToken(used.id)
    if (current !== null && current.revokedAt === null) return true
    await this.#store.revokeRefreshFamily(used.familyId, this.#now())
    return false
  }

  /** Revokes the family of `raw`; null when it is not one of ours. */
  async revoke(raw: unknown): Promise<RefreshTokenRecord | null> {
    if (!looksLikeRefreshToken(raw)) return null
    const record = await this.#store.getRefreshToken(hashRefreshToken(raw))
    if (record === null) return null
    await this.#store.revokeRefreshFamily(record.familyId, this.#now())
    return record
  }
}
