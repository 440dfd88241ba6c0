import { hash as digest } from 'node:crypto'
import { utf8Length, type RegionRequest } from '@wire-auth/core'

// The protocol (RegionRequest, its parser and limits) lives in core
// (`@wire-auth/core`, lib/protocol/); this is the server's cache identity of
// a parsed region, which needs node:crypto.

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
