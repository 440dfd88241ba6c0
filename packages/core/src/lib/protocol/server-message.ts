import type { WireAuthErrorCode } from '../errors.js'
import { isPlainObject } from '../is-plain-object.js'
import type { PrincipalSummary } from '../principal.js'
import type { RegionResult, ServerMessage } from './messages.js'

// Both ends of the server → client direction: the server's encoder of a
// region result and the elements' reader of every server message.

/**
 * The JSON of a region result without its leading `{"id":…,` — the part
 * the server encodes once per distinct result and copies into every `render`
 * message that carries it (built by hand: this runs once per region per
 * change, and a copy plus `JSON.stringify` was a tenth of the server's time
 * in the fan-out profile). Codes are `[A-Z_]` and need no escaping.
 * @internal
 * @example `{"id":"r1",${regionResultBody(result)}` is the result's JSON.
 */
export function regionResultBody(result: RegionResult): string {
  switch (result.status) {
    case 'allowed':
      return `"status":"allowed","html":${JSON.stringify(result.html)}}`
    case 'denied':
      return `"status":"denied","html":${JSON.stringify(result.html)},"code":"${result.code}"}`
    default:
      return `"status":"redirect","location":${JSON.stringify(result.location)},"code":"${result.code}"}`
  }
}

/**
 * The frame of a `render` message around its comma-separated results:
 * `{"t":"render","regions":[` … `]}`.
 * @internal
 */
export const RENDER_MESSAGE = /* @__PURE__ */ Object.freeze({ open: '{"t":"render","regions":[', close: ']}' })

/**
 * Reads a principal summary defensively; anything malformed reads as anonymous.
 * @internal
 */
export function readPrincipal(value: unknown): PrincipalSummary {
  if (!isPlainObject(value) || value.authenticated !== true) return { authenticated: false, id: null, name: null }
  return {
    authenticated: true,
    id: typeof value.id === 'string' ? value.id : null,
    name: typeof value.name === 'string' ? value.name : null,
  }
}

/**
 * Keeps the well-formed results of an untrusted list.
 * @internal
 */
export function readResults(value: unknown): RegionResult[] {
  if (!Array.isArray(value)) return []
  return value.filter(
    (r): r is RegionResult =>
      isPlainObject(r) &&
      typeof r.id === 'string' &&
      ((r.status === 'allowed' && typeof r.html === 'string') ||
        (r.status === 'denied' && typeof r.html === 'string') ||
        (r.status === 'redirect' && typeof r.location === 'string')),
  )
}

/**
 * Parses one frame from the server; null when it is not a message this
 * client knows (the elements ignore it).
 * @internal
 */
export function readServerMessage(data: unknown): ServerMessage | null {
  if (typeof data !== 'string') return null
  let message: unknown
  try {
    message = JSON.parse(data)
  } catch {
    return null
  }
  if (!isPlainObject(message)) return null
  switch (message.t) {
    case 'principal':
      return { t: 'principal', user: readPrincipal(message.user) }
    case 'render':
      return { t: 'render', regions: readResults(message.regions) }
    case 'signed-out':
      return { t: 'signed-out' }
    case 'error':
      return typeof message.code === 'string'
        ? {
            t: 'error',
            code: message.code as WireAuthErrorCode,
            message: typeof message.message === 'string' ? message.message : undefined,
            id: typeof message.id === 'string' ? message.id : undefined,
          }
        : null
    default:
      return null
  }
}
