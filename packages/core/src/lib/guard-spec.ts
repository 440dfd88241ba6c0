import { GuardSpecInvalid } from './errors.js'
import { isPlainObject } from './is-plain-object.js'
import { readClaimRequirements, type ClaimRequirement } from './protocol/claim-rules.js'
import { NAME_PATTERN, MAX_REGION_CLAIMS, MAX_REGION_STRING, MAX_REGION_URL } from './protocol/limits.js'

/**
 * What a guard requires, parsed from any of the accepted forms. Every kind
 * implies a signed-in user; `redirect` is where a denied page guard sends the
 * visitor (checked against the allowed origins by the server, not here).
 */
export type GuardSpec =
  | { readonly kind: 'authenticated'; readonly redirect?: string }
  | { readonly kind: 'policy'; readonly policy: string; readonly redirect?: string }
  | { readonly kind: 'claims'; readonly claims: ReadonlyArray<ClaimRequirement>; readonly redirect?: string }

/** A JSON spec holds at most 16 pairs of 256-character strings plus a redirect. */
const MAX_JSON = 24 * 1024
const SPEC_KEYS = new Set(['policy', 'claims', 'authenticated', 'redirect'])
const AUTHENTICATED: GuardSpec = Object.freeze({ kind: 'authenticated' })

function invalid(message: string, cause?: unknown): never {
  // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): WireAuthError leaves out an undefined cause itself
  throw new GuardSpecInvalid(message, cause === undefined ? undefined : { cause })
}

function parseJson(text: string, what: string): unknown {
  if (text.length > MAX_JSON) invalid(`${what} is longer than ${MAX_JSON} characters`)
  try {
    return JSON.parse(text)
  } catch (err) {
    return invalid(`${what} is not valid JSON`, err)
  }
}

function checkPolicyName(value: unknown): string {
  if (typeof value !== 'string') invalid('"policy" must be a string')
  if (!NAME_PATTERN.test(value)) invalid('"policy" must be 1-128 characters of [A-Za-z0-9_.:-]')
  return value
}

function checkClaimList(list: unknown): ClaimRequirement[] {
  const pairs = readClaimRequirements(list)
  if (typeof pairs === 'string') invalid(pairs)
  return pairs
}

function checkRedirect(value: unknown): string {
  if (typeof value !== 'string') invalid('"redirect" must be a string')
  if (value === '') invalid('"redirect" must not be empty')
  if (value.length > MAX_REGION_URL) invalid(`"redirect" is longer than ${MAX_REGION_URL} characters`)
  return value
}

function withRedirect<T extends GuardSpec>(spec: T, redirect: string | undefined): T {
  return Object.freeze(redirect === undefined ? spec : { ...spec, redirect })
}

function fromObject(input: Record<string, unknown>): GuardSpec {
  // Keys whose value is `undefined` count as absent (TypeScript spreads and
  // optional fields produce them); everything else must be a known key.
  const fields: Record<string, unknown> = {}
  for (const key of Object.keys(input)) {
    const value = input[key]
    if (value === undefined) continue
    if (!SPEC_KEYS.has(key)) invalid(`unknown guard spec key ${JSON.stringify(key.slice(0, 64))}`)
    fields[key] = value
  }
  const kinds = ['policy', 'claims', 'authenticated'].filter((key) => key in fields)
  if (kinds.length > 1) invalid(`a guard spec takes one of "policy", "claims" or "authenticated", not ${kinds.join(' and ')}`)
  const redirect = 'redirect' in fields ? checkRedirect(fields.redirect) : undefined
  if ('policy' in fields) return withRedirect({ kind: 'policy', policy: checkPolicyName(fields.policy) }, redirect)
  if ('claims' in fields) return withRedirect({ kind: 'claims', claims: Object.freeze(checkClaimList(fields.claims)) }, redirect)
  if ('authenticated' in fields && fields.authenticated !== true) invalid('"authenticated" must be true (use a public fragment for anonymous access)')
  // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): the shared spec and a fresh frozen one are equal
  return redirect === undefined ? AUTHENTICATED : withRedirect({ kind: 'authenticated' }, redirect)
}

/**
 * Parses a guard spec in any accepted form and returns it frozen.
 *
 * - bare: `undefined`, `null`, `true` or `''` → must be signed in;
 * - a policy name: `"AdminOnly"`;
 * - `{ policy, redirect? }`, `{ claims: [["role","admin"],["email_verified"]], redirect? }`
 *   (all pairs must hold; `[type]` accepts any value), `{ authenticated: true, redirect? }`
 *   or `{ redirect }` alone (must be signed in);
 * - a JSON string (starting with `{`) of any of those objects.
 *
 * The result never loosens anything: every kind requires a signed-in user.
 *
 * @param input The spec as configured in code, JSON or an attribute.
 * @returns A frozen {@link GuardSpec}.
 * @throws GuardSpecInvalid `ERR_GUARD_SPEC_INVALID` on a wrong type, an unknown key,
 *   more than one kind, an empty or over-long string, an empty claim list or
 *   more than 16 pairs, a policy name outside `/^[A-Za-z0-9_.:-]{1,128}$/`,
 *   a redirect that is not a string of at most 2048 characters, or JSON that does not parse.
 * @example
 * ```ts
 * parseGuardSpec('AdminOnly')                       // { kind: 'policy', policy: 'AdminOnly' }
 * parseGuardSpec({ claims: [['role', 'admin']] })   // { kind: 'claims', claims: [['role', 'admin']] }
 * parseGuardSpec('{"policy":"Beta","redirect":"/"}') // { kind: 'policy', policy: 'Beta', redirect: '/' }
 * ```
 */
export function parseGuardSpec(input: unknown): GuardSpec {
  if (input === undefined || input === null || input === true || input === '') return AUTHENTICATED
  if (typeof input === 'string') {
    const text = input.trim()
    if (text.startsWith('{')) {
      // Stryker disable next-line StringLiteral: equivalent (docs/testing.md): the name only goes into the error message
      const parsed = parseJson(text, 'the guard spec')
      // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): JSON text that starts with `{` parses to a plain object or throws
      if (!isPlainObject(parsed)) invalid('a JSON guard spec must be an object')
      return fromObject(parsed)
    }
    if (input.length > MAX_REGION_STRING) invalid(`the guard spec is longer than ${MAX_REGION_STRING} characters`)
    return Object.freeze({ kind: 'policy', policy: checkPolicyName(text) })
  }
  if (isPlainObject(input)) return fromObject(input)
  return invalid(`a guard spec must be a policy name, an object or JSON, not ${Array.isArray(input) ? 'an array' : typeof input}`)
}

/**
 * Parses a `claims` attribute: JSON (`[["role","admin"],["email_verified","true"]]`)
 * or the short form `role=admin, email_verified=true`, where a bare `role`
 * accepts any value. Values cannot contain commas in the short form; use JSON.
 *
 * @returns A new array of frozen pairs (1 to 16).
 * @throws GuardSpecInvalid `ERR_GUARD_SPEC_INVALID` on JSON that does not parse, an empty
 *   list or item, an empty type or value, more than 16 pairs or a string over 256 characters.
 * @example parseClaimsAttribute('role=admin, beta') // [['role', 'admin'], ['beta']]
 */
export function parseClaimsAttribute(value: string): ClaimRequirement[] {
  if (typeof value !== 'string') invalid('the claims attribute must be a string')
  const text = value.trim()
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent (docs/testing.md): an empty text is one empty item, refused below with the same code
  if (text === '') invalid('the claims attribute must not be empty')
  // `{` is JSON too (an object is refused by checkClaimList), never a claim type.
  // Stryker disable next-line StringLiteral: equivalent (docs/testing.md): the name only goes into the error message
  if (text.startsWith('[') || text.startsWith('{')) return checkClaimList(parseJson(text, 'the claims attribute'))
  if (text.length > MAX_JSON) invalid(`the claims attribute is longer than ${MAX_JSON} characters`)
  const items = text.split(',')
  // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): checkClaimList refuses more than 16 pairs with the same code (this check only fails fast)
  if (items.length > MAX_REGION_CLAIMS) invalid(`"claims" holds more than ${MAX_REGION_CLAIMS} pairs`)
  return checkClaimList(
    items.map((item, i) => {
      const part = item.trim()
      // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent (docs/testing.md): an empty item becomes an empty type, refused by checkClaimString with the same code
      if (part === '') invalid(`claim #${i + 1} is empty`)
      const eq = part.indexOf('=')
      return eq === -1 ? [part] : [part.slice(0, eq).trim(), part.slice(eq + 1).trim()]
    }),
  )
}

function attribute(value: string | null | undefined, name: string): string | undefined {
  if (value === null || value === undefined) return undefined
  if (typeof value !== 'string') invalid(`the ${name} attribute must be a string`)
  // A present but blank attribute is most likely a template that lost its
  // value; treating it as absent would silently loosen the guard.
  // Stryker disable next-line ConditionalExpression,MethodExpression,StringLiteral: equivalent (docs/testing.md): a blank policy, claims or redirect is refused by its own check with the same code
  if (value.trim() === '') invalid(`the ${name} attribute must not be empty`)
  return value
}

/**
 * Builds the spec of a `<wire-auth-guard>` from its attributes (`null` or
 * `undefined` = attribute absent). Each attribute is validated on its own.
 *
 * With `policy` only → a policy spec; with `claims` only → a claims spec;
 * with neither → authenticated. With both, one {@link GuardSpec} cannot
 * express "policy AND claims", so the policy spec is returned: the element
 * must send `policy` and the parsed `claims` ({@link parseClaimsAttribute})
 * as two fields of its region request, and the server evaluates the
 * fragment's guard AND the policy AND the claims. Never evaluate the returned
 * spec alone when both attributes are present.
 *
 * @throws GuardSpecInvalid `ERR_GUARD_SPEC_INVALID` when any attribute is blank or malformed.
 * @example parseGuardAttributes({ policy: 'AdminOnly', redirect: '/login' })
 */
export function parseGuardAttributes(attrs: { policy?: string | null; claims?: string | null; redirect?: string | null }): GuardSpec {
  if (attrs === null || typeof attrs !== 'object') invalid('the guard attributes must be an object')
  // Stryker disable StringLiteral: equivalent (docs/testing.md): the attribute names only go into the error messages
  const policy = attribute(attrs.policy, 'policy')
  const claimsText = attribute(attrs.claims, 'claims')
  const redirectText = attribute(attrs.redirect, 'redirect')
  // Stryker restore StringLiteral
  const redirect = redirectText === undefined ? undefined : checkRedirect(redirectText.trim())
  const claims = claimsText === undefined ? undefined : parseClaimsAttribute(claimsText)
  if (policy !== undefined) {
    if (policy.length > MAX_REGION_STRING) invalid(`the policy attribute is longer than ${MAX_REGION_STRING} characters`)
    return withRedirect({ kind: 'policy', policy: checkPolicyName(policy.trim()) }, redirect)
  }
  if (claims !== undefined) return withRedirect({ kind: 'claims', claims: Object.freeze(claims) }, redirect)
  // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): the shared spec and a fresh frozen one are equal
  return redirect === undefined ? AUTHENTICATED : withRedirect({ kind: 'authenticated' }, redirect)
}
