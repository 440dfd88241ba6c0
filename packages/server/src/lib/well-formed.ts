const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * True when `value` is well-formed Unicode (no lone surrogate). Ill-formed
 * strings cannot be stored or hashed faithfully: UTF-8 turns every lone
 * surrogate into U+FFFD, so `"\ud800"` and `"\udfff"` would become the same
 * name, claim value or password. Same as `String.prototype.isWellFormed`.
 * @internal
 */
export function isWellFormed(value: string): boolean {
  return !LONE_SURROGATE.test(value)
}
