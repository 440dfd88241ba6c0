import { hash as digest } from 'node:crypto'
import type { ClaimsPrincipal } from '@wire-auth/core'
import type { FragmentRegistry } from '../fragments/fragment-registry.js'
import type { RegionRequest, RegionResult } from '../fragments/region-request.js'

/** A region as mounted on one socket: the request, its cache key, and the hash of what the client last got. */
export interface MountedRegion {
  readonly request: RegionRequest
  /** Everything but the id, serialised: regions with equal keys render alike for equal principals. */
  readonly key: string
  /** Hash of the last result sent, or null before the first. */
  hash: string | null
}

/** A region result serialised once: `body` is the JSON object without its leading `{` and the id. */
export interface RenderedRegion {
  readonly body: string
  readonly hash: string
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

/** The cache key of a region request (everything but its id). @internal */
export function regionKey(region: RegionRequest): string {
  return JSON.stringify([region.kind, region.fragment, region.policy, region.claims, region.params, region.redirect, region.returnTo])
}

/** Creates the mounted state of a region. @internal */
export function mountRegion(request: RegionRequest): MountedRegion {
  return { request, key: regionKey(request), hash: null }
}

/**
 * The JSON of a result without `{"id":…,` (built by hand: this runs once per
 * region per change, and a copy plus `JSON.stringify` was a tenth of the
 * server's time in the fan-out profile). Codes are `[A-Z_]` and need no escaping.
 * @internal
 */
export function resultBody(result: RegionResult): string {
  switch (result.status) {
    case 'allowed':
      return `"status":"allowed","html":${JSON.stringify(result.html)}}`
    case 'denied':
      return `"status":"denied","html":${JSON.stringify(result.html)},"code":"${result.code}"}`
    default:
      return `"status":"redirect","location":${JSON.stringify(result.location)},"code":"${result.code}"}`
  }
}

/** Hash of a serialised result (one-shot, no Hash object). @internal */
export function bodyHash(body: string): string {
  return digest('sha256', body, 'base64url')
}

/** `{"id":"r1",` + body: ids match `[A-Za-z0-9_:.-]`, so they need no escaping. @internal */
export function regionJson(id: string, rendered: RenderedRegion): string {
  return `{"id":"${id}",${rendered.body}`
}

/**
 * Caches of one unit of live work (a channel event, a resync, one mount):
 * each session, user and token is loaded once, and each (principal, region
 * key) is evaluated and serialised once, whatever the number of sockets that
 * share it. Never outlives that unit, so a later change is always re-read.
 * @internal
 */
export class RenderBatch {
  readonly sessions = new Map<string, Promise<unknown>>()
  readonly users = new Map<string, Promise<unknown>>()
  readonly tokens = new Map<string, Promise<unknown>>()
  /** Encoded `render` messages by the (id, hash) list they carry: sockets of one user usually share them. */
  readonly messages = new Map<string, Buffer>()
  readonly #renders = new Map<string, Promise<RenderedRegion>>()
  readonly #registry: FragmentRegistry

  constructor(registry: FragmentRegistry) {
    this.#registry = registry
  }

  /** Loads `key` once per batch. */
  once<T>(cache: Map<string, Promise<unknown>>, key: string, load: () => Promise<T>): Promise<T> {
    let pending = cache.get(key) as Promise<T> | undefined
    if (pending === undefined) {
      pending = load()
      cache.set(key, pending)
    }
    return pending
  }

  /**
   * Evaluates a mounted region for `user`, sharing the result with every
   * other socket of an equal principal in this batch. `request` is that of
   * the first socket asking (the upgrade request).
   */
  render(user: ClaimsPrincipal, request: unknown, region: MountedRegion): Promise<RenderedRegion> {
    const key = `${principalKey(user)}\n${region.key}`
    let pending = this.#renders.get(key)
    if (pending === undefined) {
      pending = this.#registry.evaluateRegion(region.request, user, request).then((result) => {
        const body = resultBody(result)
        return { body, hash: bodyHash(body) }
      })
      this.#renders.set(key, pending)
    }
    return pending
  }
}
