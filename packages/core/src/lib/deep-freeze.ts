/**
 * Freezes `value` and every object reachable from it, in place, and returns
 * it. Already frozen objects are not entered again (so a frozen subtree
 * shared by many records costs nothing, and cycles end). The one freeze of
 * state that many requests share: parsed `params`, a session's provider
 * payload, cached session records.
 * @internal
 * @example deepFreeze(JSON.parse('{"a":{"b":[1]}}')).a.b // frozen array
 */
export function deepFreeze<T>(value: T): T {
  // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): Object.isFrozen(null) is true, so null returns on the next line as well
  if (value === null) return value
  // Functions are left as they are: only data is frozen.
  if (typeof value !== 'object' || Object.isFrozen(value)) return value
  Object.freeze(value)
  for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child)
  return value
}
