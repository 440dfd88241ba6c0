import { isPlainObject } from '../is-plain-object.js'
import { MAX_TOKEN_LENGTH, REGION_ID_PATTERN } from './limits.js'
import type { ClientMessage, RegionRequest, RegionRequestProblem } from './messages.js'
import { isRegionProblem, parseRegionRequest } from './region-request.js'

/** Why a client message was refused. */
export interface ClientMessageProblem {
  problem: string
}

/**
 * Parses one text frame of the live socket (docs/protocol.md, "Client →
 * server"). Reads each field once, bounds sizes and counts, and never
 * throws. In a `mount`, invalid regions are reported in `invalid` and the
 * valid ones are kept (one bad region does not cost the others).
 * @param text The frame, already checked against `live.maxMessageBytes`.
 * @param maxItems Most regions / ids one message may carry.
 * @internal
 */
export function parseClientMessage(text: string, maxItems: number): ClientMessage | ClientMessageProblem {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return { problem: 'the message is not valid JSON' }
  }
  if (!isPlainObject(raw)) return { problem: 'a message must be a JSON object' }
  const t = raw.t
  if (t === 'auth') {
    const token = raw.token
    if (Object.keys(raw).length !== 2) return { problem: 'auth takes exactly "t" and "token"' }
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return { problem: '"token" must be a non-empty string' }
    return { t, token }
  }
  if (t === 'mount') {
    const list = raw.regions
    if (Object.keys(raw).length !== 2) return { problem: 'mount takes exactly "t" and "regions"' }
    if (!Array.isArray(list) || list.length === 0) return { problem: '"regions" must be a non-empty array' }
    const regions: RegionRequest[] = []
    const invalid: RegionRequestProblem[] = []
    // More than a socket may hold is never parsed; the ids of the rest are reported as not mounted.
    const overflow: string[] = []
    for (let i = 0; i < list.length; i++) {
      if (i >= maxItems) {
        const id = (list[i] as { id?: unknown } | null)?.id
        overflow.push(typeof id === 'string' && REGION_ID_PATTERN.test(id) ? id : '')
        continue
      }
      // `raw` came from JSON.parse just above and is not kept: its params need no copy.
      const region = parseRegionRequest(list[i], true)
      if (isRegionProblem(region)) invalid.push(region)
      else regions.push(region)
    }
    return { t, regions, invalid, overflow }
  }
  if (t === 'unmount') {
    const ids = raw.ids
    if (Object.keys(raw).length !== 2) return { problem: 'unmount takes exactly "t" and "ids"' }
    if (!Array.isArray(ids) || ids.length > maxItems) return { problem: `"ids" must be an array of at most ${maxItems} ids` }
    for (const id of ids) {
      if (typeof id !== 'string' || !REGION_ID_PATTERN.test(id)) return { problem: '"ids" must hold region ids' }
    }
    return { t, ids: ids as string[] }
  }
  return { problem: 'unknown message type' }
}

/**
 * True when a parse result is a problem.
 * @internal
 */
export function isMessageProblem(value: ClientMessage | ClientMessageProblem): value is ClientMessageProblem {
  return 'problem' in value
}
