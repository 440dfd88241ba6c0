import { isPlainObject } from '../is-plain-object.js'
import { parseParams } from '../params.js'
import { readClaimRequirements } from './claim-rules.js'
import { MAX_REGION_CLAIMS, MAX_REGION_STRING, MAX_REGION_URL, REGION_ID_PATTERN } from './limits.js'
import type { RegionRequest, RegionRequestProblem } from './messages.js'

const REGION_KEYS = new Set(['id', 'kind', 'fragment', 'policy', 'claims', 'params', 'redirect', 'returnTo'])
const STRING_FIELDS = ['fragment', 'policy', 'redirect', 'returnTo'] as const

/** An own field only: a key inherited from a (polluted) prototype is not part of the request. */
function own(raw: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(raw, key) ? raw[key] : undefined
}

function optionalString(raw: Record<string, unknown>, key: string, max: number): string | undefined | RegionRequestProblem {
  const value = own(raw, key)
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    return { message: `"${key}" must be a string of 1..${max} characters` }
  }
  return value
}

/**
 * True when a parse result is a problem rather than a request.
 * @internal
 */
export function isRegionProblem(value: unknown): value is RegionRequestProblem {
  return typeof value === 'object' && value !== null && 'message' in value
}

/**
 * The one parser of a region request (docs/protocol.md, "Region request"),
 * used by `POST` and `GET /auth/fragments`, the live socket and the elements:
 * plain object, known keys only, each field read once and bounded
 * (`lib/protocol/limits.ts`); `claims` under the claim rules
 * ({@link readClaimRequirements}: no empty type or value); `params` under the
 * one params rule ({@link parseParams}). Never throws.
 *
 * @param raw The untrusted request.
 * @param owned The caller parsed `raw` from JSON itself and hands it over:
 *   its `params` are frozen in place rather than copied.
 * @returns A fresh, frozen {@link RegionRequest}, or a problem (with `code`
 *   `ERR_PARAMS_INVALID` / `ERR_PARAMS_TOO_LARGE` for params).
 * @internal
 * @example parseRegionRequest({ id: 'r1', fragment: 'beta-panel', claims: [['role', 'beta']] })
 */
export function parseRegionRequest(raw: unknown, owned = false): RegionRequest | RegionRequestProblem {
  if (!isPlainObject(raw)) return { message: 'a region must be a JSON object' }
  const id = own(raw, 'id')
  if (typeof id !== 'string' || !REGION_ID_PATTERN.test(id)) {
    return { message: '"id" must be 1..64 characters of [A-Za-z0-9_:.-]' }
  }
  // for…in rather than a key array per region; inherited keys are not the request's (as with Object.keys).
  for (const key in raw) {
    if (!REGION_KEYS.has(key) && Object.hasOwn(raw, key)) return { id, message: `unknown field "${key.slice(0, 64)}"` }
  }
  const kind = own(raw, 'kind') ?? 'region'
  if (kind !== 'region' && kind !== 'guard') return { id, message: '"kind" must be "region" or "guard"' }

  const region: { -readonly [K in keyof RegionRequest]: RegionRequest[K] } = { id, kind }
  for (const key of STRING_FIELDS) {
    const max = key === 'redirect' || key === 'returnTo' ? MAX_REGION_URL : MAX_REGION_STRING
    const value = optionalString(raw, key, max)
    if (isRegionProblem(value)) return { id, message: value.message }
    if (value !== undefined) region[key] = value
  }
  if (kind === 'region' && region.fragment === undefined) return { id, message: 'a region needs a "fragment"' }
  if (kind === 'region' && (region.redirect !== undefined || region.returnTo !== undefined)) {
    return { id, message: '"redirect" and "returnTo" are only for guards' }
  }

  const claims = own(raw, 'claims')
  if (claims !== undefined) {
    const pairs = readClaimRequirements(claims)
    if (typeof pairs === 'string') return { id, message: pairs }
    region.claims = Object.freeze(pairs)
  }

  const params = own(raw, 'params')
  if (params !== undefined) {
    const parsed = parseParams(params, owned)
    if (!parsed.ok) return { id, message: parsed.message, code: parsed.code }
    region.params = parsed.params
  }
  return Object.freeze(region)
}

/**
 * Checks a list of region requests (at most `maxRegions`, ids unique) with
 * {@link parseRegionRequest}. Returns the parsed list or the first problem.
 * @internal
 */
export function parseRegionRequests(raw: unknown, maxRegions: number, owned = false): RegionRequest[] | RegionRequestProblem {
  if (!Array.isArray(raw)) return { message: '"regions" must be an array' }
  if (raw.length > maxRegions) return { message: `at most ${maxRegions} regions per request` }
  const seen = new Set<string>()
  const regions: RegionRequest[] = []
  for (const item of raw) {
    const region = parseRegionRequest(item, owned)
    if (isRegionProblem(region)) return region
    if (seen.has(region.id)) return { id: region.id, message: `duplicate region id "${region.id}"` }
    seen.add(region.id)
    regions.push(region)
  }
  return regions
}

const shortString = { type: 'string', minLength: 1, maxLength: MAX_REGION_STRING } as const
const url = { type: 'string', minLength: 1, maxLength: MAX_REGION_URL } as const

/**
 * JSON Schema of one region request (for a route's body schema): the rules
 * of {@link parseRegionRequest} except unknown fields and the params rule,
 * which the parser checks after.
 * @internal
 */
export const regionRequestSchema = {
  // No additionalProperties: false here: Fastify's Ajv would silently strip
  // unknown fields, and parseRegionRequest refuses them instead.
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'string', pattern: REGION_ID_PATTERN.source },
    kind: { type: 'string', enum: ['region', 'guard'] },
    fragment: shortString,
    policy: shortString,
    claims: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_REGION_CLAIMS,
      items: { type: 'array', minItems: 1, maxItems: 2, items: shortString },
    },
    params: { type: 'object' },
    redirect: url,
    returnTo: url,
  },
} as const
