import { CLAIM_RULES, isClaimType, type Claim } from '@wire-auth/core'
import { stripControlChars } from '../control-chars.js'
import { tryCanonicalEmail } from '../local-idp/email.js'

/** The claims a provider asserted about the user: the ID token's, completed by userinfo. */
export type ProviderClaims = Readonly<Record<string, unknown>>

/**
 * Maps a provider's claims to wire-auth claims. Return `Claim[]`, or a
 * record whose values are strings, numbers, booleans or arrays of those
 * (`null`/`undefined` entries are skipped).
 * @example
 * ```ts
 * mapClaims: (c) => ({ email: c.email, email_verified: c.email_verified, role: c.groups }),
 * claimTypes: ['email', 'email_verified', 'role'],
 * ```
 */
export type ClaimMapper = (claims: ProviderClaims) => readonly Claim[] | Readonly<Record<string, unknown>>

/** The claim type that records which issuer asserted a user's provider claims (C11). */
export const ISSUER_CLAIM = 'iss'

/** Claim types the default mapping owns. */
export const DEFAULT_CLAIM_TYPES: readonly string[] = Object.freeze(['email', 'email_verified', 'name'])

/** The default mapping: `email`, `email_verified` and `name` when present. */
export const defaultClaimMapper: ClaimMapper = (claims) => ({
  email: claims.email,
  email_verified: claims.email_verified,
  name: claims.name,
})

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
    // The claim rules are core's (CLAIM_RULES): a grantable type, a provider-sized value, a bounded count.
    if (!isClaimType(type)) continue
    for (const item of Array.isArray(raw) ? raw : [raw]) {
      const raw = scalar(item)
      // A custom mapping may build values of its own: control characters go here too,
      // and an `email` claim is canonical like a local account's e-mail (C11) or dropped.
      const value = raw === null ? null : type === 'email' ? tryCanonicalEmail(raw) : stripControlChars(raw)
      if (value === null || value.length > CLAIM_RULES.maxProviderValue) continue
      const key = `${type}\u0000${value}`
      if (seen.has(key)) continue
      seen.add(key)
      out.push({ type, value })
      if (out.length >= CLAIM_RULES.maxProviderClaims) return out
    }
  }
  return out
}

/**
 * The canonical e-mail to store on the user row: only a verified one
 * (`email_verified` true), so an unverified address at some provider can
 * never squat a local account's e-mail, canonicalised exactly like a local
 * one (C11: `" Ada@Example.COM "` is `ada@example.com`, lists, quoted local
 * parts and display names are no address). Null otherwise.
 * @internal
 */
export function verifiedEmail(claims: ProviderClaims): string | null {
  const verified = claims.email_verified === true || claims.email_verified === 'true'
  if (!verified) return null
  return tryCanonicalEmail(claims.email)
}

/** A display name for the user row: `name`, else `preferred_username`, else null. @internal */
export function displayNameOf(claims: ProviderClaims): string | null {
  for (const key of ['name', 'preferred_username']) {
    const value = claims[key]
    if (typeof value !== 'string') continue
    const name = stripControlChars(value).trim()
    if (name.length > 0) return name.slice(0, 256)
  }
  return null
}
