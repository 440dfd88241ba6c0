import type { ClaimsPrincipal, RegionRequest } from '@wire-auth/core'
import { regionDigest } from '../fragments/region-digest.js'

// The cache keys of live rendering: two renders may be shared exactly when
// their principal keys and region keys are equal (see RenderBatch.render).

/** A region as mounted on one socket: the request, its cache key, and the hash of what the client last got. */
export interface MountedRegion {
  readonly request: RegionRequest
  /**
   * SHA-256 of everything but the id: regions with equal keys render alike
   * for equal principals. A digest, not the serialised request, so the
   * region's params are held once (in `request`), not twice.
   */
  readonly key: string
  /** UTF-8 bytes of the serialised params (what counts against `live.maxParamsBytesPerSocket`). */
  readonly paramsBytes: number
  /** Hash of the last result sent, or null before the first. */
  hash: string | null
}

const principalKeys = new WeakMap<ClaimsPrincipal, string>()

/**
 * A string that is equal for two principals exactly when they would be
 * authorised alike: id, name and claims (order-insensitive).
 * @internal
 */
export function principalKey(user: ClaimsPrincipal): string {
  let key = principalKeys.get(user)
  if (key === undefined) {
    key = user.isAuthenticated
      ? JSON.stringify([user.userId, user.name, user.claims.map((claim) => `${claim.type}=${claim.value}`).sort()])
      : ''
    principalKeys.set(user, key)
  }
  return key
}

/** Creates the mounted state of a region (its key and params size: {@link regionDigest}). @internal */
export function mountRegion(request: RegionRequest): MountedRegion {
  const { key, paramsBytes } = regionDigest(request)
  return { request, key, paramsBytes, hash: null }
}
