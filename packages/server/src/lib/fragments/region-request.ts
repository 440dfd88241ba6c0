import { hash as digest } from 'node:crypto'
import { PARAMS_LIMITS, parseParams, utf8Length, type WireAuthErrorCode } from '@wire-auth/core'

/**
 * One region (or guard) a page wants to show, as sent by the browser on
 * `POST /auth/fragments` and in the socket's `mount` message.
 * See docs/protocol.md, "Region request".
 */
export interface RegionRequest {
  /** Client-chosen, unique per page / socket: 1..64 of `[A-Za-z0-9_:.-]`. */
  id: string
  kind: 'region' | 'guard'
  /** Required for a region, optional for a guard. */
  fragment?: string
  /** ADDS a named policy to the fragment's own guard. */
  policy?: string
  /** ADDS claims (all must hold) to the fragment's own guard. */
  claims?: ReadonlyArray<readonly [string] | readonly [string, string]>
  /** Plain JSON object handed to policies, `load` and `render` (deep-frozen). */
  params?: Readonly<Record<string, unknown>>
  /** Guard only: where to send a denied visitor; kept only if the redirect check accepts it. */
  redirect?: string
  /** Guard only: the page to come back to after login (`returnTo` of the login URL). */
  returnTo?: string
}

/** The server's answer for one region. See docs/protocol.md, "Region result". */
export type RegionResult =
  | { id: string; status: 'allowed'; html: string }
  | { id: string; status: 'denied'; html: string; code: WireAuthErrorCode }
  | { id: string; status: 'redirect'; location: string; code: WireAuthErrorCode }

/** Limits of a region request (docs/protocol.md "Limits"). */
export const REGION_LIMITS = Object.freeze({
  idPattern: /^[A-Za-z0-9_:.-]{1,64}$/,
  maxString: 256,
  maxUrl: 2048,
  maxClaims: 16,
  /** The one params rule lives in core (`parseParams`); this is its size limit. */
  maxParamsBytes: PARAMS_LIMITS.maxBytes,
})

const REGION_KEYS = new Set(['id', 'kind', 'fragment', 'policy', 'claims', 'params', 'redirect', 'returnTo'])
const STRING_FIELDS = ['fragment', 'policy', 'redirect', 'returnTo'] as const

/** Why a region request was refused; `id` when it could be read. */
export interface RegionRequestProblem {
  message: string
  id?: string
  /** Set for params problems (`ERR_PARAMS_INVALID`, `ERR_PARAMS_TOO_LARGE`): the same code on every transport. */
  code?: WireAuthErrorCode
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

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

/** True when a parse result is a problem rather than a request. */
export function isRegionProblem(value: unknown): value is RegionRequestProblem {
  return typeof value === 'object' && value !== null && 'message' in value
}

/**
 * Checks one untrusted region request: plain object, known keys only, each
 * field read once and bounded. Returns a fresh, frozen {@link RegionRequest}
 * or a problem. Never throws.
 * @param owned The caller parsed `raw` from JSON itself and hands it over:
 *   its `params` are frozen in place rather than copied (the socket path and
 *   `POST /auth/fragments`, where nothing else holds the parsed body).
 */
export function parseRegionRequest(raw: unknown, owned = false): RegionRequest | RegionRequestProblem {
  if (!isPlainObject(raw)) return { message: 'a region must be a JSON object' }
  const id = own(raw, 'id')
  if (typeof id !== 'string' || !REGION_LIMITS.idPattern.test(id)) {
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
    const max = key === 'redirect' || key === 'returnTo' ? REGION_LIMITS.maxUrl : REGION_LIMITS.maxString
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
    if (!Array.isArray(claims) || claims.length === 0 || claims.length > REGION_LIMITS.maxClaims) {
      return { id, message: `"claims" must be an array of 1..${REGION_LIMITS.maxClaims} [type, value] pairs` }
    }
    const pairs: Array<readonly [string] | readonly [string, string]> = []
    for (const pair of claims) {
      if (
        !Array.isArray(pair) ||
        pair.length < 1 ||
        pair.length > 2 ||
        !pair.every((part) => typeof part === 'string' && part.length <= REGION_LIMITS.maxString) ||
        pair[0] === ''
      ) {
        return { id, message: '"claims" entries must be [type] or [type, value] strings of at most 256 characters' }
      }
      pairs.push(Object.freeze(pair.length === 1 ? [pair[0] as string] as const : [pair[0] as string, pair[1] as string] as const))
    }
    region.claims = Object.freeze(pairs)
  }

  const params = own(raw, 'params')
  if (params !== undefined) {
    // One parser and one rule for every transport (issue 13 F8): core's.
    const parsed = parseParams(params, owned)
    if (!parsed.ok) return { id, message: parsed.message, code: parsed.code }
    region.params = parsed.params
  }
  return Object.freeze(region)
}

/**
 * Checks a list of region requests (at most `maxRegions`, ids unique).
 * Returns the parsed list or the first problem.
 * @param owned As for {@link parseRegionRequest}.
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

/** What identifies a region's evaluation: everything but its id. */
export interface RegionDigest {
  /** SHA-256 (base64url) of the region without its id: equal keys evaluate alike for equal principals. */
  readonly key: string
  /** UTF-8 bytes of the serialised params (0 without params). */
  readonly paramsBytes: number
}

const digests = new WeakMap<RegionRequest, RegionDigest>()

/**
 * The {@link RegionDigest} of a parsed region, computed once per request
 * object. A digest rather than the serialised request, so that whoever keeps
 * it (a mounted region) holds the params once, not twice.
 */
export function regionDigest(region: RegionRequest): RegionDigest {
  let known = digests.get(region)
  if (known === undefined) {
    const params = region.params === undefined ? '' : JSON.stringify(region.params)
    const serialised = JSON.stringify([region.kind, region.fragment, region.policy, region.claims, params, region.redirect, region.returnTo])
    known = { key: digest('sha256', serialised, 'base64url'), paramsBytes: utf8Length(params) }
    digests.set(region, known)
  }
  return known
}

/** Number of distinct evaluations a list of regions costs (regions with equal digests cost one). */
export function distinctRegions(regions: readonly RegionRequest[]): number {
  const keys = new Set<string>()
  for (const region of regions) keys.add(regionDigest(region).key)
  return keys.size
}

const shortString = { type: 'string', minLength: 1, maxLength: REGION_LIMITS.maxString } as const

/**
 * JSON schema of one region request; the same rules as
 * {@link parseRegionRequest} except the params size, which is checked after.
 */
export const regionRequestSchema = {
  // No additionalProperties: false here: Fastify's Ajv would silently strip
  // unknown fields, and parseRegionRequest refuses them instead.
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9_:.-]{1,64}$' },
    kind: { type: 'string', enum: ['region', 'guard'] },
    fragment: shortString,
    policy: shortString,
    claims: {
      type: 'array',
      minItems: 1,
      maxItems: REGION_LIMITS.maxClaims,
      items: {
        type: 'array',
        minItems: 1,
        maxItems: 2,
        items: { type: 'string', maxLength: REGION_LIMITS.maxString },
      },
    },
    params: { type: 'object' },
    redirect: { type: 'string', minLength: 1, maxLength: REGION_LIMITS.maxUrl },
    returnTo: { type: 'string', minLength: 1, maxLength: REGION_LIMITS.maxUrl },
  },
} as const
