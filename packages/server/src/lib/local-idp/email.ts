import { WireAuthError } from '@wire-auth/core'
import { codedError } from '../errors.js'

/** Longest accepted address (RFC 5321 path limit minus the angle brackets). */
export const EMAIL_MAX_LENGTH = 254

const LOCAL_MAX_LENGTH = 64
// Dot-atom local part of plain ASCII characters: no quoted strings, no
// comments, no leading / trailing / doubled dots.
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/
// Host name with at least two labels; the last label is alphabetic (or an
// IDN `xn--` label), which rules out IP literals and bare host names.
const DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/

/**
 * Canonicalises an e-mail identifier and validates the canonical form, so
 * that `" Ada@Example.COM "` and `"ada@example.com"` name one account and
 * lists, quoted local parts or display names never reach the store
 * (next-auth CVE-2022-35924).
 *
 * Steps: trim, Unicode NFC, lower-case, then a strict dot-atom pattern
 * (ASCII only; internationalised domains in their `xn--` form).
 *
 * @param input untrusted value from a request body or the CLI
 * @returns the canonical address
 * @throws WireAuthError `ERR_INVALID_EMAIL` (400) for anything else
 * @example canonicalEmail('  Ada@Example.com ') // 'ada@example.com'
 */
export function canonicalEmail(input: unknown): string {
  const email = tryCanonicalEmail(input)
  if (email === null) throw codedError('ERR_INVALID_EMAIL', 'not a valid e-mail address')
  return email
}

/**
 * Like {@link canonicalEmail} but returns null instead of throwing; used on
 * the login path, where a malformed identifier is just a failed login.
 */
export function tryCanonicalEmail(input: unknown): string | null {
  if (typeof input !== 'string') return null
  // Bound the work before normalising: nothing valid is this long.
  if (input.length > EMAIL_MAX_LENGTH * 4) return null
  const email = input.trim().normalize('NFC').toLowerCase()
  if (email.length === 0 || email.length > EMAIL_MAX_LENGTH) return null
  // Cheap rejections with a reason of their own; the pattern would catch
  // them too, but spelling them out keeps the intent reviewable.
  if (/[\s,;<>"()[\]\\]/.test(email)) return null
  const at = email.lastIndexOf('@')
  if (at <= 0 || at !== email.indexOf('@')) return null
  const local = email.slice(0, at)
  const domain = email.slice(at + 1)
  if (local.length > LOCAL_MAX_LENGTH) return null
  if (!LOCAL_PART.test(local) || !DOMAIN.test(domain)) return null
  return email
}
