import { hash as digest } from 'node:crypto'
import type { ClaimsPrincipal } from '@wire-auth/core'
import type { FragmentRegistry } from '../fragments/fragment-registry.js'
import { regionDigest, type RegionRequest, type RegionResult } from '../fragments/region-request.js'

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

/**
 * A region result serialised once: `body` is the UTF-8 of the JSON object
 * without its leading `{` and the id. Encoded once here and copied into every
 * message that carries it (hashing a string and encoding the whole message
 * again cost two UTF-8 passes over the HTML).
 */
export class RenderedRegion {
  readonly body: Buffer
  /** Unique within its batch: two sends of the same (id, seq) list carry the same bytes. */
  readonly seq: number
  #hash: string | null = null

  constructor(body: Buffer, seq: number) {
    this.body = body
    this.seq = seq
  }

  /**
   * SHA-256 of `body` (one-shot, no Hash object), computed on first use: a
   * mount sends first and hashes after, a change compares before sending.
   */
  get hash(): string {
    return (this.#hash ??= digest('sha256', this.body, 'base64url'))
  }
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

/** The body's bytes. @internal */
export function encodeBody(body: string, seq: number): RenderedRegion {
  return new RenderedRegion(Buffer.from(body), seq)
}

const RENDER_OPEN = Buffer.from('{"t":"render","regions":[')
const RENDER_CLOSE = Buffer.from(']}')

/**
 * `{"t":"render","regions":[{"id":…,<body>},…]}` as one Buffer, copying each
 * region's encoded body. Ids match `[A-Za-z0-9_:.-]` (checked when the region
 * was parsed), so they need no escaping and are one byte per character.
 * @internal
 */
export function renderMessage(ids: readonly string[], rendered: readonly RenderedRegion[]): Buffer {
  let size = RENDER_OPEN.length + RENDER_CLOSE.length + Math.max(0, ids.length - 1)
  for (let i = 0; i < ids.length; i++) size += 9 + ids[i].length + rendered[i].body.length
  // Zero-filled, and every byte is written below: nothing from other memory can reach a client.
  const out = Buffer.alloc(size)
  let at = RENDER_OPEN.copy(out, 0)
  for (let i = 0; i < ids.length; i++) {
    if (i > 0) out[at++] = 0x2c // ,
    at += out.write(`{"id":"${ids[i]}",`, at, 'latin1')
    at += rendered[i].body.copy(out, at)
  }
  at += RENDER_CLOSE.copy(out, at)
  if (at !== size) throw new Error(`render message: wrote ${at} of ${size} bytes`)
  return out
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
      pending = this.#registry.evaluateRegion(region.request, user, request).then((result) => encodeBody(resultBody(result), seq))
      this.#renders.set(key, pending)
    }
    return pending
  }
}
