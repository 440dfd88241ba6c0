import { MAX_REGION_CLAIMS, MAX_REGION_STRING } from './limits.js'

/** One claim that must hold: `[type]` (any value) or `[type, value]` (exactly that value). */
export type ClaimRequirement = readonly [string] | readonly [string, string]

/**
 * The claim rules, defined once for every place a claim enters
 * (docs/errors.md `ERR_INVALID_CLAIM`, `ERR_GUARD_SPEC_INVALID`;
 * docs/providers.md `mapClaims`). The bounds differ by place on purpose:
 * what a guard may ask for, what `app.auth.grant` may write, what a
 * provider may assert, and what the stores take from any caller as the
 * last line of defence.
 */
export const CLAIM_RULES = /* @__PURE__ */ Object.freeze({
  /** A claim type that can be granted or mapped from a provider: 1-128 of `[A-Za-z0-9_.:/-]`. */
  typePattern: /^[A-Za-z0-9_.:/-]{1,128}$/,
  /** Longest value `app.auth.grant` (and the CLI, admin APIs) writes. */
  maxGrantedValue: 1024,
  /** Longest value a provider's `mapClaims` result keeps. */
  maxProviderValue: 2048,
  /** Most claims one provider login keeps. */
  maxProviderClaims: 64,
  /** Longest type a store accepts from any caller. */
  maxStoredType: 256,
  /** Longest value a store accepts from any caller. */
  maxStoredValue: 4096,
  // What a guard or region may require is the protocol's: MAX_REGION_STRING
  // per type or value, MAX_REGION_CLAIMS pairs ({@link readClaimRequirements}).
})

/**
 * True when `type` is a claim type that can be granted or mapped
 * ({@link CLAIM_RULES}.typePattern).
 * @internal
 */
export function isClaimType(type: unknown): type is string {
  return typeof type === 'string' && CLAIM_RULES.typePattern.test(type)
}

/** Why one type or value of requirement #`index` breaks the rule, or null. */
function stringProblem(value: unknown, field: 'type' | 'value', index: number): string | null {
  if (typeof value !== 'string') return `claim #${index + 1}: the ${field} must be a string`
  if (value === '') return `claim #${index + 1}: the ${field} must not be empty`
  return value.length > MAX_REGION_STRING ? `claim #${index + 1}: the ${field} is longer than ${MAX_REGION_STRING} characters` : null
}

/**
 * Reads a list of claim requirements — the `claims` of a guard spec, of a
 * `claims` attribute and of a region request alike: 1 to
 * {@link MAX_REGION_CLAIMS} pairs `[type]` or `[type, value]` of
 * non-empty strings of at most {@link MAX_REGION_STRING} characters.
 * Never throws.
 * @returns A new array of frozen pairs, or a string saying what is wrong.
 * @internal
 * @example readClaimRequirements([['role', 'admin'], ['beta']]) // [['role', 'admin'], ['beta']]
 */
export function readClaimRequirements(list: unknown): ClaimRequirement[] | string {
  if (!Array.isArray(list)) return '"claims" must be an array of [type] or [type, value] pairs'
  if (list.length === 0) return '"claims" must not be empty'
  if (list.length > MAX_REGION_CLAIMS) return `"claims" holds more than ${MAX_REGION_CLAIMS} pairs`
  const out: ClaimRequirement[] = []
  for (let i = 0; i < list.length; i++) {
    const pair: unknown = list[i]
    if (!Array.isArray(pair) || (pair.length !== 1 && pair.length !== 2)) return `claim #${i + 1} must be [type] or [type, value]`
    // Stryker disable StringLiteral: equivalent (docs/testing.md): the field name only goes into the error message
    const problem = stringProblem(pair[0], 'type', i) ?? (pair.length === 2 ? stringProblem(pair[1], 'value', i) : null)
    // Stryker restore StringLiteral
    if (problem !== null) return problem
    out.push(Object.freeze(pair.length === 1 ? ([pair[0]] as const) : ([pair[0], pair[1]] as const)) as ClaimRequirement)
  }
  return out
}
