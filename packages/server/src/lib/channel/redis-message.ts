import type { AuthEvent } from './auth-channel.js'

/**
 * The wire format of {@link RedisAuthChannel}: one JSON object per Redis
 * PUBLISH, the {@link AuthEvent} itself plus the publishing worker's id.
 *
 * ```jsonc
 * { "type": "claims-changed",   "userId": "u1", "version": 7, "origin": "w-1" }
 * { "type": "sessions-revoked", "userId": "u1", "version": 7, "sessionIds": ["…"], "all": false, "origin": "w-1" }
 * { "type": "resync", "origin": "w-1" }   // "I lost publishes: everybody re-validate"
 * ```
 *
 * Anything that reaches the subscriber is untrusted until it passed
 * {@link decodeMessage}: sizes and counts are bounded and only known fields
 * are copied, so a bad message is dropped and can never crash a worker.
 * @internal
 */
export type ChannelMessage =
  | { kind: 'event'; event: AuthEvent; origin: string | undefined }
  | { kind: 'resync'; origin: string | undefined }
  | { kind: 'invalid'; reason: string }

/** Largest accepted message, in UTF-16 code units of the JSON text. @internal */
export const MAX_MESSAGE_LENGTH = 1024 * 1024
/** Most session ids one `sessions-revoked` event may list. @internal */
export const MAX_SESSION_IDS = 10_000
/** Longest user id, session id or worker id. @internal */
export const MAX_ID_LENGTH = 256

const EVENT_TYPES: ReadonlySet<string> = new Set(['claims-changed', 'sessions-revoked'])

/** Serialises an event for PUBLISH (the event must have passed {@link checkEvent}). @internal */
export function encodeEvent(event: AuthEvent): string {
  return JSON.stringify(event)
}

/** Serialises the "please resync" notice of worker `origin`. @internal */
export function encodeResync(origin: string): string {
  return JSON.stringify({ type: 'resync', origin })
}

/** Parses and validates one raw pub/sub payload. Never throws. @internal */
export function decodeMessage(raw: unknown): ChannelMessage {
  if (typeof raw !== 'string') return invalid('payload is not a string')
  if (raw.length > MAX_MESSAGE_LENGTH) return invalid('payload too large')
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    return invalid('payload is not JSON')
  }
  if (!isPlainObject(value)) return invalid('payload is not a JSON object')
  const origin = value.origin
  if (origin !== undefined && !isId(origin)) return invalid('"origin" must be a non-empty string')
  if (value.type === 'resync') return { kind: 'resync', origin }
  const checked = checkEvent(value)
  if (!checked.ok) return invalid(checked.reason)
  return { kind: 'event', event: checked.event, origin }
}

/**
 * Validates an event (outgoing or incoming) and returns a fresh, frozen copy
 * holding only the known fields.
 * @internal
 */
export function checkEvent(value: unknown): { ok: true; event: AuthEvent } | { ok: false; reason: string } {
  if (!isPlainObject(value)) return { ok: false, reason: 'event is not an object' }
  const { type, userId, version, sessionIds, all, origin } = value
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
  if (origin !== undefined) event.origin = origin
  return { ok: true, event: Object.freeze(event) }
}

function invalid(reason: string): ChannelMessage {
  return { kind: 'invalid', reason }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH
}
