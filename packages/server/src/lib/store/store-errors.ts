import { CLAIM_RULES, WireAuthError, type Claim } from '@wire-auth/core'
import { codedError, InvalidClaim, StoreUnavailable, UserNotFound } from '../errors.js'

/**
 * Error helpers shared by the store implementations. Messages name the
 * operation and the driver's error code only: never SQL, values, e-mails or
 * tokens.
 * @internal
 */

/** `ERR_STORE_UNAVAILABLE` (503) for `operation`, with the driver error as cause. */
export function storeUnavailable(store: string, operation: string, cause: unknown, reason?: string): WireAuthError {
  const code = driverCode(cause)
  const detail = reason ?? (code === undefined ? 'the backend failed' : `the backend failed with ${code}`)
  return new StoreUnavailable(`${store}: ${operation} failed: ${detail}`, { cause })
}

/** `ERR_ACCOUNT_EXISTS` (409): the canonical e-mail is taken. */
export function accountExists(cause?: unknown): WireAuthError {
  return codedError('ERR_ACCOUNT_EXISTS', 'an account with this e-mail already exists', { cause })
}

/** `ERR_STORE_CONFLICT` (409): a unique key (identity, refresh token id…) is taken. */
export function storeConflict(message: string, cause?: unknown): WireAuthError {
  return codedError('ERR_STORE_CONFLICT', message, { cause })
}

/** `ERR_USER_NOT_FOUND` (404). */
export function userNotFound(cause?: unknown): WireAuthError {
  return new UserNotFound('no such user', cause === undefined ? undefined : { cause })
}

/** The driver's error code (`SQLITE_BUSY`, `11000`, `ECONNREFUSED`…) when it has one. */
export function driverCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' || typeof code === 'number') return String(code)
  return undefined
}

/**
 * Checks one claim from a caller and returns a fresh `{ type, value }`
 * under the stores' bounds of core's claim rules (`CLAIM_RULES.maxStoredType`,
 * `maxStoredValue`: the last line of defence behind `app.auth`'s stricter ones).
 * @throws `ERR_INVALID_CLAIM` (400) when type or value is not a string, the
 *   type is empty, or either is too long.
 */
export function checkClaim(claim: unknown): Claim {
  if (typeof claim !== 'object' || claim === null) throw new InvalidClaim('a claim must be an object { type, value }')
  const type = (claim as { type?: unknown }).type
  const value = (claim as { value?: unknown }).value
  return { type: checkClaimType(type), value: checkClaimValue(value) }
}

/** Checks a claim type. @throws `ERR_INVALID_CLAIM` */
export function checkClaimType(type: unknown): string {
  if (typeof type !== 'string' || type.length === 0) throw new InvalidClaim('a claim type must be a non-empty string')
  if (type.length > CLAIM_RULES.maxStoredType) throw new InvalidClaim(`a claim type must be at most ${CLAIM_RULES.maxStoredType} characters`)
  return type
}

/** Checks a claim value. @throws `ERR_INVALID_CLAIM` */
export function checkClaimValue(value: unknown): string {
  if (typeof value !== 'string') throw new InvalidClaim('a claim value must be a string')
  if (value.length > CLAIM_RULES.maxStoredValue) throw new InvalidClaim(`a claim value must be at most ${CLAIM_RULES.maxStoredValue} characters`)
  return value
}

/** Checks and de-duplicates a list of claims, keeping the first of each (type, value). */
export function checkClaims(claims: unknown): Claim[] {
  if (!Array.isArray(claims)) throw new InvalidClaim('claims must be an array')
  const seen = new Set<string>()
  const out: Claim[] = []
  for (const raw of claims) {
    const claim = checkClaim(raw)
    const key = JSON.stringify([claim.type, claim.value])
    if (seen.has(key)) continue
    seen.add(key)
    out.push(claim)
  }
  return out
}

/** Clamps a paging option to an integer in [min, max], or `fallback` when absent. */
export function clampInt(value: unknown, fallback: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback
  return Math.min(max, Math.max(min, Math.trunc(value)))
}

/** Checks the `types` argument of `replaceClaimTypes`. @throws `ERR_INVALID_CLAIM` */
export function checkClaimTypes(types: unknown): string[] {
  if (!Array.isArray(types)) throw new InvalidClaim('claim types must be an array')
  return types.map(checkClaimType)
}

/** Checks the scalar fields of a new user. @throws `ERR_VALIDATION` (400) */
export function checkNewUser(user: unknown): void {
  if (typeof user !== 'object' || user === null) throw invalid('a new user must be an object')
  const u = user as Record<string, unknown>
  for (const field of ['email', 'name', 'passwordHash'] as const) {
    if (u[field] !== undefined && u[field] !== null && typeof u[field] !== 'string') throw invalid(`user.${field} must be a string or null`)
  }
}

/** Checks an `updateUser` patch. @throws `ERR_VALIDATION` (400) */
export function checkUserPatch(patch: unknown): void {
  if (typeof patch !== 'object' || patch === null) throw invalid('a user patch must be an object')
  const p = patch as Record<string, unknown>
  for (const field of ['name', 'passwordHash'] as const) {
    if (p[field] !== undefined && p[field] !== null && typeof p[field] !== 'string') throw invalid(`patch.${field} must be a string or null`)
  }
  if (p.disabled !== undefined && typeof p.disabled !== 'boolean') throw invalid('patch.disabled must be a boolean')
  if (p.revokeAccessTokens !== undefined && p.revokeAccessTokens !== true) throw invalid('patch.revokeAccessTokens must be true when given')
}

function invalid(message: string): WireAuthError {
  return codedError('ERR_VALIDATION', message)
}

/** Checks a generated secret. @throws `ERR_INVALID_OPTION` when `generate()` returned no string. */
export function checkSecret(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw codedError('ERR_INVALID_OPTION', 'getSecret: generate() must return a non-empty string')
  }
  return value
}

/** A canonical e-mail for `setUserEmail`: a non-empty string of at most 254 characters. @internal */
export function checkEmail(email: unknown): string {
  if (typeof email !== 'string' || email.length === 0 || email.length > 254) throw invalid('email must be a canonical address of at most 254 characters')
  return email
}

/** A passkey name: 1-64 characters. @internal */
export function checkPasskeyName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 64) throw invalid('a passkey name must be a string of 1 to 64 characters')
  return name
}

/** A signature counter: an integer from 0 to 2^32 - 1. @internal */
export function checkCounter(counter: unknown): number {
  if (typeof counter !== 'number' || !Number.isInteger(counter) || counter < 0 || counter > 0xffffffff) throw invalid('a passkey counter must be an integer from 0 to 2^32 - 1')
  return counter
}

/** The fields of a new passkey, checked. @internal */
export function checkPasskey(p: unknown): import('./auth-store.js').PasskeyRecord {
  if (typeof p !== 'object' || p === null) throw invalid('a passkey must be an object')
  const r = p as Record<string, unknown>
  for (const field of ['id', 'userId', 'publicKey'] as const) {
    if (typeof r[field] !== 'string' || (r[field] as string).length === 0 || (r[field] as string).length > 2048) throw invalid(`passkey.${field} must be a non-empty string`)
  }
  if (!Array.isArray(r.transports) || r.transports.length > 16 || !r.transports.every((t) => typeof t === 'string' && t.length <= 32)) throw invalid('passkey.transports must be a list of strings')
  checkCounter(r.counter)
  checkPasskeyName(r.name)
  return p as import('./auth-store.js').PasskeyRecord
}
