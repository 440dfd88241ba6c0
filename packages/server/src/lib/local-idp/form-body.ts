import { WireAuthError } from '@wire-auth/core'
import { codedError } from '../errors.js'

/** Most fields one form body may carry; the OAuth endpoints need a handful. */
const MAX_FIELDS = 32

/**
 * Parses an `application/x-www-form-urlencoded` body into a plain object so
 * the route's JSON Schema validates it exactly like a JSON body. A repeated
 * field is refused (RFC 6749 §3.2: parameters must not appear twice), so a
 * second `grant_type` can never shadow the first.
 * @throws WireAuthError `ERR_VALIDATION` (400)
 * @internal
 */
export function parseForm(body: string): Record<string, string> {
  const params = new URLSearchParams(body)
  const out: Record<string, string> = {}
  let count = 0
  for (const [key, value] of params) {
    if (++count > MAX_FIELDS) throw codedError('ERR_VALIDATION', `a form body may hold at most ${MAX_FIELDS} fields`)
    if (Object.hasOwn(out, key)) throw codedError('ERR_VALIDATION', `form field ${JSON.stringify(key.slice(0, 64))} appears more than once`)
    // defineProperty: a field named "__proto__" stays an ordinary (and, for the schema, unknown) key.
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return out
}
