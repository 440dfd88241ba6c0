import { InvalidOption } from './errors.js'

/** Where {@link resolveSafeRedirect} may send a visitor. */
export interface SafeRedirectOptions {
  /** Origins (`https://www.example.com`) that absolute targets may point to. */
  allowedOrigins: readonly string[]
  /** The backend's own origin: relative targets resolve against it, and it is always allowed. */
  baseOrigin: string
}

const MAX_LENGTH = 2048
/** Control characters, every kind of whitespace (incl. zero-width and bidi marks) and backslashes. */
const FORBIDDEN = /[\u0000-\u0020\u007f-\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff\\]/
/** What a decoded path must not contain: controls and whitespace again, and `..` or `.` segments. */
// Stryker disable next-line Regex: equivalent (docs/testing.md): a decoded path always starts with `/`, so `^` never starts a dot-segment
const BAD_DECODED_PATH = /[\u0000-\u0020\u007f-\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff\\]|(?:^|\/)\.{1,2}(?:\/|$)/

function originOf(value: unknown, option: string): string {
  let url: URL | undefined
  try {
    if (typeof value === 'string') url = new URL(value)
  } catch (err) {
    throw new InvalidOption(`"${option}" must be an absolute http(s) origin`, { cause: err })
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new InvalidOption(`"${option}" must be an absolute http(s) origin`)
  }
  return url.origin
}

/**
 * True when a path, percent-decoded up to three times (a value may be
 * decoded again by a proxy or another redirect), still cannot be read as
 * protocol-relative (`//host`), a backslash path or a dot-segment walk.
 */
function isSafePath(pathname: string): boolean {
  let decoded = pathname
  for (let round = 0; round < 3; round++) {
    let next: string
    try {
      next = decodeURIComponent(decoded)
    // Stryker disable next-line BlockStatement: equivalent (docs/testing.md): without the return the text becomes "undefined", which is refused as well
    } catch {
      return false
    }
    // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): decoding a decoded text again changes nothing
    if (next === decoded) break
    decoded = next
  }
  // Stryker disable next-line StringLiteral: equivalent (docs/testing.md): an http(s) URL's pathname always starts with `/`
  return decoded.startsWith('/') && !decoded.startsWith('//') && !BAD_DECODED_PATH.test(decoded)
}

/**
 * Checks a `redirect` / `returnTo` value and returns a safe target, or `null`.
 *
 * Accepted:
 * - a path starting with exactly one `/` → the normalised path, query and hash
 *   (`/a/../b?x=1` → `/b?x=1`), after checking it resolves on `baseOrigin`;
 * - an absolute `http://` or `https://` URL (lower-case scheme) without
 *   credentials whose origin is exactly `baseOrigin` or one of
 *   `allowedOrigins` (scheme, host after IDNA/punycode, and port) → its
 *   normalised href.
 *
 * Refused: anything else, including non-strings, `''`, values over 2048
 * characters, control characters, whitespace or backslashes anywhere,
 * protocol-relative `//host` (also percent-encoded, also after dot-segment
 * normalisation), `user@host`, other ports, `javascript:`, `data:` and
 * scheme-only forms such as `http:evil.example`.
 *
 * @throws InvalidOption `ERR_INVALID_OPTION` when `baseOrigin` or an entry of
 *   `allowedOrigins` is not an absolute http(s) URL (a configuration error).
 * @example
 * ```ts
 * resolveSafeRedirect('/admin?tab=1', { baseOrigin: 'https://auth.example.com', allowedOrigins: [] }) // '/admin?tab=1'
 * resolveSafeRedirect('//evil.example', options) // null
 * ```
 */
export function resolveSafeRedirect(value: unknown, options: SafeRedirectOptions): string | null {
  if (options === null || typeof options !== 'object') throw new InvalidOption('redirect options must be an object')
  // Stryker disable next-line StringLiteral: equivalent (docs/testing.md): the option name only goes into the error message
  const base = originOf(options.baseOrigin, 'baseOrigin')
  if (typeof value !== 'string' || value.length > MAX_LENGTH || FORBIDDEN.test(value)) return null
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent (docs/testing.md): `''` is refused below as well (no `/`, no http(s) prefix)
  if (value === '') return null

  if (value[0] === '/') {
    // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent (docs/testing.md): defence in depth: `//host` resolves to another origin and is refused below
    if (value[1] === '/') return null
    let url: URL
    try {
      url = new URL(value, base)
    // Stryker disable next-line BlockStatement: equivalent (docs/testing.md): a path of allowed characters always parses against the base
    } catch {
      return null
    }
    // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): a path starting with one `/` always resolves on the base origin
    if (url.origin !== base || !isSafePath(url.pathname)) return null
    return url.pathname + url.search + url.hash
  }

  // Exactly lower-case http(s) followed by `//`: rejects `http:evil.example`,
  // `HTTPS://…` tricks and every other scheme (javascript:, data:, vbscript:…).
  if (!value.startsWith('https://') && !value.startsWith('http://')) return null
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return null
  }
  if (url.username !== '' || url.password !== '') return null
  if (url.origin !== base) {
    const allowed = options.allowedOrigins
    if (!Array.isArray(allowed)) throw new InvalidOption('"allowedOrigins" must be an array of origins')
    // Stryker disable next-line StringLiteral: equivalent (docs/testing.md): the option name only goes into the error message
    if (!allowed.some((origin, i) => originOf(origin, `allowedOrigins[${i}]`) === url.origin)) return null
  }
  return url.href
}
