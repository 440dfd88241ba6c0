/**
 * True for a plain object: `{}`, an object literal, `JSON.parse` output or
 * `Object.create(null)`; false for `null`, arrays (prototype-less ones
 * included), functions, class instances and primitives. The one check of
 * untrusted input's shape on both sides of the wire.
 * @internal
 * @example isPlainObject(JSON.parse('{"t":"mount"}')) // true
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent (docs/testing.md): null never gets here, and primitives, functions and arrays fail the prototype check below (a prototype-less array is tested)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}
