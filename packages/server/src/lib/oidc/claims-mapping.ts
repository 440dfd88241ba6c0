import type { Claim } from '@wire-auth/core'

/** The claims a provider asserted about the user: the ID token's, completed by userinfo. */
export type ProviderClaims = Readonly<Record<string, unknown>>

/**
 * Maps a provider's claims to wire-auth claims. Return `Claim[]`, or a
 * record whose values are strings, numbers, booleans or arrays of those
 * (`null`/`undefined` entries are skipped).
 * @example
 * ```ts
 * mapClaims: (c) => ({ email: c.email, email_verified: c.email_verified, role: c.groups })
 * ```
 */
export type ClaimMapper = (claims: ProviderClaims) => readonly Claim[] | Readonly<Record<string, unknown>>

/** Claim types the default mapping owns. */
export const DEFAULT_CLAIM_TYPES: readonly string[] = Object.freeze(['email', 'email_verified', 'name'])

/** The default mapping: `email`, `email_verified` and `name` when present. */
export const defaultClaimMapper: ClaimMapper = (claims) => ({
  email: claims.email,
  email_verified: claims.email_verified,
  name: claims.name,
})

const MAX_CLAIMS = 64
const MAX_TYPE_LENGTH = 128
const MAX_VALUE_LENGTH = 2048
const TYPE_PATTERN = /^[A-Za-z0-9_.:/-]+$/

function scalar(value: unknown): string | null {
  if (typeof value === 'string') return value
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return null
}

/**
 * Runs a mapping and normalises its result to a bounded, de-duplicated
 * `Claim[]`. Values that are not scalars (objects, nested arrays) and
 * oversized types or values are dropped: a provider's data must not be able
 * to bloat or break the user row.
 * @internal
 */
export function mapProviderClaims(mapper: ClaimMapper, claims: ProviderClaims): Claim[] {
  const result = mapper(claims)
  const pairs: Array<[string, unknown]> = Array.isArray(result)
    ? (result as readonly Claim[]).map((claim) => [claim?.type, claim?.value])
    : Object.entries(result as Record<string, unknown>)
  const out: Claim[] = []
  const seen = new Set<string>()
  for (const [type, raw] of pairs) {
    if (typeof type !== 'string' || type.length === 0 || type.length > MAX_TYPE_LENGTH || !TYPE_PATTERN.test(type)) continue
    for (const item of Array.isArray(raw) ? raw : [raw]) {
      const value = scalar(item)
      if (value === null || value.length > MAX_VALUE_LENGTH) continue
      const key = `${type}\u0000${value}`
      if (seen.has(key)) continue
      seen.add(key)
      out.push({ type, value })
      if (out.length >= MAX_CLAIMS) return out
    }
  }
  return out
}

/**
 * The canonical e-mail to store on the user row: only a verified one
 * (`email_verified` true), so an unverified address at some provider can
 * never squat a local account's e-mail. Null otherwise.
 * @internal
 */
export function verifiedEmail(claims: ProviderClaims): string | null {
  const verified = claims.email_verified === true || claims.email_verified === 'true'
  if (!verified || typeof claims.email !== 'string') return null
  const email = claims.email.trim().toLowerCase()
  return email.length > 0 && email.length <= 320 && email.includes('@') ? email : null
}

/** A display name for the user row: `name`, else `preferred_username`, else null. @internal */
export function displayNameOf(claims: ProviderClaims): string | null {
  for (const key of ['name', 'preferred_username']) {
    const value = claims[key]
    if (typeof value === 'string' && value.trim().length > 0) return value.trim().slice(0, 256)
  }
  return null
}
