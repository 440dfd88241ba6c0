import { isPlainObject } from '@wire-auth/core'
import type { AuthEvent } from './auth-channel.js'
import { checkEvent, MAX_ID_LENGTH } from './event-check.js'

export { checkEvent, MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_PARAMS_LENGTH, MAX_SESSION_IDS } from './event-check.js'

/**
 * The wire format of {@link RedisAuthChannel}: one JSON object per Redis
 * PUBLISH, the {@link AuthEvent} itself plus the publishing worker's id.
 *
 * ```jsonc
 * { "type": "claims-changed",   "userId": "u1", "version": 7, "origin": "w-1" }
 * { "type": "sessions-revoked", "userId": "u1", "version": 7, "sessionIds": ["…"], "all": false, "origin": "w-1" }
 * { "type": "data-changed", "userId": "*", "version": 0, "fragment": "document", "params": { "docId": "d1" }, "origin": "w-1" }
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

function invalid(reason: string): ChannelMessage {
  return { kind: 'invalid', reason }
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH
}
