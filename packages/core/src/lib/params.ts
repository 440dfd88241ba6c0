import type { WireAuthErrorCode } from './errors.js'
import { deepFreeze } from './deep-freeze.js'
import { isPlainObject } from './is-plain-object.js'

/**
 * The one rule for a region's `params`, on every transport (`POST
 * /auth/fragments`, `GET /auth/fragments/:name`, the live socket) and in the
 * elements: a plain JSON object of JSON data, at most
 * {@link PARAMS_LIMITS.maxBytes} UTF-8 bytes serialised and
 * {@link PARAMS_LIMITS.maxDepth} levels deep, with no `__proto__`,
 * `constructor` or `prototype` key at any depth (params reach policies,
 * `load` and `render`, which may merge them into other objects).
 */
export const PARAMS_LIMITS = Object.freeze({
  maxBytes: 4096,
  maxDepth: 16,
})

/** Keys refused anywhere in `params` (prototype pollution through a careless merge). */
export const FORBIDDEN_PARAMS_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/** Accepted params: frozen (deeply), with their serialised form and its UTF-8 size. */
export interface ParsedParams {
  ok: true
  params: Readonly<Record<string, unknown>>
  /** `JSON.stringify(params)`. */
  json: string
  /** UTF-8 bytes of `json`. */
  bytes: number
}

/** Refused params: `ERR_PARAMS_INVALID` (shape, keys, depth) or `ERR_PARAMS_TOO_LARGE`. */
export interface ParamsProblem {
  ok: false
  code: Extract<WireAuthErrorCode, 'ERR_PARAMS_INVALID' | 'ERR_PARAMS_TOO_LARGE'>
  message: string
}

/** UTF-8 length of a string without encoding it (a lone surrogate counts 3 bytes, as U+FFFD). @internal */
export function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

/** Why `value` is not JSON data under the rule, or null. */
function check(value: unknown, depth: number): string | null {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null
    case 'number':
      return Number.isFinite(value) ? null : 'numbers in "params" must be finite'
    case 'object':
      break
    default:
      return '"params" must hold JSON data only'
  }
  if (value === null) return null
  if (depth > PARAMS_LIMITS.maxDepth) return `"params" may nest at most ${PARAMS_LIMITS.maxDepth} levels`
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = check(item, depth + 1)
      if (problem !== null) return problem
    }
    return null
  }
  if (!isPlainObject(value)) return '"params" must hold plain objects only'
  // Own keys, `__proto__` included (JSON.parse makes it an own property).
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_PARAMS_KEYS.has(key)) return `"params" may not use the key "${key}"`
    const problem = check(value[key], depth + 1)
    if (problem !== null) return problem
  }
  return null
}

/**
 * Checks untrusted `params` (already parsed from JSON) against the one rule.
 * Never throws.
 *
 * @param value What the client sent as `params`.
 * @param owned The caller parsed `value` itself and keeps no other reference:
 *   it is frozen in place instead of copied (one copy of the params).
 * @param maxBytes Serialised size limit. Default {@link PARAMS_LIMITS.maxBytes}.
 * @returns The frozen params (a copy unless `owned`) with their JSON and size, or a coded problem.
 * @example
 * ```ts
 * const parsed = parseParams(JSON.parse(text), true)
 * if (!parsed.ok) reply.code(400).send({ error: { code: parsed.code, message: parsed.message } })
 * ```
 */
export function parseParams(value: unknown, owned = false, maxBytes: number = PARAMS_LIMITS.maxBytes): ParsedParams | ParamsProblem {
  if (!isPlainObject(value)) return { ok: false, code: 'ERR_PARAMS_INVALID', message: '"params" must be a plain JSON object' }
  const problem = check(value, 1)
  if (problem !== null) return { ok: false, code: 'ERR_PARAMS_INVALID', message: problem }
  const json = JSON.stringify(value)
  const bytes = utf8Length(json)
  if (bytes > maxBytes) return { ok: false, code: 'ERR_PARAMS_TOO_LARGE', message: `"params" must be at most ${maxBytes} bytes serialised` }
  const params = deepFreeze(owned ? value : (JSON.parse(json) as Record<string, unknown>))
  return { ok: true, params, json, bytes }
}

/**
 * {@link parseParams} for params that arrive as JSON text (a query string,
 * an element attribute). Text longer than 4 × `maxBytes` is refused unread.
 */
export function parseParamsText(text: string, maxBytes: number = PARAMS_LIMITS.maxBytes): ParsedParams | ParamsProblem {
  if (text.length > maxBytes * 4) return { ok: false, code: 'ERR_PARAMS_TOO_LARGE', message: `"params" must be at most ${maxBytes} bytes serialised` }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, code: 'ERR_PARAMS_INVALID', message: '"params" must be a JSON object' }
  }
  return parseParams(value, true, maxBytes)
}
