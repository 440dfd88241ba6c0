import { createHash, randomBytes } from 'node:crypto'

// 32 random bytes in base64url, nothing else.
const SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/

/**
 * A new one-time secret (authorization code, refresh token, e-mail link
 * token…): 32 random bytes in base64url. Shown to its holder once; the store
 * only ever sees {@link hashSecret} of it.
 * @internal
 */
export function newSecret(): string {
  return randomBytes(32).toString('base64url')
}

/** True when `value` has the shape of a {@link newSecret} value (no store lookup). @internal */
export function looksLikeSecret(value: unknown): value is string {
  return typeof value === 'string' && SECRET_SHAPE.test(value)
}

/**
 * SHA-256 hex of a raw one-time secret: the only form the store keeps. A
 * plain hash suffices (no salt, no slow hash): the input is 256 random bits.
 * @internal
 */
export function hashSecret(raw: string): string {
  return createHash('sha256').update(raw).digest('hex')
}
