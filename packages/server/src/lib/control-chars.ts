/**
 * Output hygiene (checklist 30): characters that make a terminal, an editor
 * or a log viewer do something other than show text — C0 controls (ESC, BEL,
 * CR…), DEL, C1 controls (U+0080–U+009F: 8-bit CSI, OSC…), the Unicode line
 * and paragraph separators, and the bidirectional overrides and isolates
 * ("Trojan Source" reordering). Pure: no Fastify, no I/O.
 * @internal
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u
const CONTROL_ALL = new RegExp(CONTROL.source, 'gu')
/** What JSON.stringify leaves raw: everything above but C0 (which it escapes already). */
const JSON_RAW = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu
const WHITESPACE_CONTROL = /[\t\n\v\f\r\u0085\u2028\u2029]/gu

/** True when `value` holds a control character of the set above. @internal */
export function hasControlChars(value: string): boolean {
  return CONTROL.test(value)
}

/**
 * For values entering the system from outside (provider claims): line
 * breaks and tabs become a space, every other control character is removed.
 * @internal
 */
export function stripControlChars(value: string): string {
  return value.replace(WHITESPACE_CONTROL, ' ').replace(CONTROL_ALL, '')
}

const hex = (c: string, width: number) => c.codePointAt(0)!.toString(16).padStart(width, '0')

/**
 * For text printed to a terminal: each control character becomes a visible
 * escape (`\x1b`, `\u202e`), and a backslash becomes `\\` so that an escape
 * cannot be faked.
 * @internal
 */
export function escapeControlChars(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(CONTROL_ALL, (c) => (c.codePointAt(0)! <= 0xff ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`))
}

/**
 * For a JSON text (a log line, `--json` output): escapes, as `\uXXXX`, the
 * control characters `JSON.stringify` leaves raw. The JSON stays equivalent.
 * @internal
 */
export function escapeJsonControlChars(json: string): string {
  return json.replace(JSON_RAW, (c) => `\\u${hex(c, 4)}`)
}

/**
 * A copy of a provider's claims with every string (at any depth, up to
 * `depth`) passed through {@link stripControlChars}; other values are kept.
 * @internal
 */
export function stripControlCharsDeep<T>(value: T, depth = 8): T {
  if (typeof value === 'string') return stripControlChars(value) as T
  if (depth <= 0 || typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map((item) => stripControlCharsDeep(item, depth - 1)) as T
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (key === '__proto__') continue
    out[stripControlChars(key)] = stripControlCharsDeep(item, depth - 1)
  }
  return out as T
}
