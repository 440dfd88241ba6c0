import { regionResultBody, type ClaimsPrincipal } from '@wire-auth/core'
import type { FragmentRegistry } from '../fragments/fragment-registry.js'
import { principalKey, type MountedRegion } from './cache-keys.js'
import { encodeBody, type RenderedRegion } from './render-encoder.js'

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
  #seq = 0

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
      const seq = ++this.#seq
      pending = this.#registry.evaluateRegion(region.request, user, request).then((result) => encodeBody(regionResultBody(result), seq))
      this.#renders.set(key, pending)
    }
    return pending
  }
}
