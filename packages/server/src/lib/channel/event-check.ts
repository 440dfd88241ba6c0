import { isPlainObject, MAX_REGION_STRING, PARAMS_LIMITS, parseParams } from '@wire-auth/core'
import type { AuthEvent } from './auth-channel.js'

// The rules of an AuthEvent, beside nothing but itself: the Redis channel
// checks what it sends and receives with them, `app.auth.refresh` checks its
// filter with them, and neither needs the other.

/** Most session ids one `sessions-revoked` event may list. @internal */
export const MAX_SESSION_IDS = 10_000
/** Longest user id, session id or worker id. @internal */
export const MAX_ID_LENGTH = 256

const EVENT_TYPES: ReadonlySet<string> = new Set(['claims-changed', 'sessions-revoked', 'data-changed'])
/** Longest fragment or policy name of a `data-changed` filter (as in a region request). @internal */
export const MAX_NAME_LENGTH = MAX_REGION_STRING
/** Largest `params` filter of a `data-changed` event, UTF-8 bytes serialised (the params limit of a region). @internal */
export const MAX_PARAMS_LENGTH = PARAMS_LIMITS.maxBytes

/**
 * Validates an event (outgoing or incoming) and returns a fresh, frozen copy
 * holding only the known fields.
 * @internal
 */
export function checkEvent(value: unknown): { ok: true; event: AuthEvent } | { ok: false; reason: string } {
  if (!isPlainObject(value)) return { ok: false, reason: 'event is not an object' }
  const { type, userId, version, sessionIds, all, origin, fragment, policy, params } = value
  if (typeof type !== 'string' || !EVENT_TYPES.has(type)) return { ok: false, reason: '"type" is not a known event type' }
  if (!isId(userId)) return { ok: false, reason: '"userId" must be a non-empty string' }
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    return { ok: false, reason: '"version" must be a non-negative integer' }
  }
  if (origin !== undefined && !isId(origin)) return { ok: false, reason: '"origin" must be a non-empty string' }
  const event: AuthEvent = { type: type as AuthEvent['type'], userId, version }
  if (type === 'sessions-revoked') {
    if (all !== undefined && typeof all !== 'boolean') return { ok: false, reason: '"all" must be a boolean' }
    if (sessionIds !== undefined) {
      if (!Array.isArray(sessionIds) || sessionIds.length > MAX_SESSION_IDS) {
        return { ok: false, reason: `"sessionIds" must be an array of at most ${MAX_SESSION_IDS} ids` }
      }
      if (!sessionIds.every(isId)) return { ok: false, reason: '"sessionIds" must hold non-empty strings' }
    }
    if (sessionIds === undefined && all !== true) return { ok: false, reason: '"sessionIds" or "all": true is required' }
    event.sessionIds = Object.freeze([...(sessionIds ?? [])]) as string[]
    if (all !== undefined) event.all = all
  }
  if (type === 'data-changed') {
    for (const [key, name] of [['fragment', fragment], ['policy', policy]] as const) {
      if (name === undefined) continue
      if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) return { ok: false, reason: `"${key}" must be a string of 1..${MAX_NAME_LENGTH} characters` }
      event[key] = name
    }
    if (params !== undefined) {
      // The one params rule (core): a fresh frozen copy of JSON data, bounded, no __proto__.
      const parsed = parseParams(params, false, MAX_PARAMS_LENGTH)
      if (!parsed.ok) return { ok: false, reason: `"params": ${parsed.message}` }
      event.params = parsed.params
    }
  } else if (fragment !== undefined || policy !== undefined || params !== undefined) {
    return { ok: false, reason: '"fragment", "policy" and "params" are only for data-changed events' }
  }
  if (origin !== undefined) event.origin = origin
  return { ok: true, event: Object.freeze(event) }
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH
}
