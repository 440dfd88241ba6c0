import { regionResultBody, type RegionRequest, type RegionRequestProblem, type WireAuthErrorCode } from '@wire-auth/core'
import { mountRegion, type MountedRegion } from './cache-keys.js'
import type { LiveConnection } from './live-connection.js'
import type { RenderBatch } from './render-batch.js'
import { encodeBody, renderMessage, type RenderedRegion } from './render-encoder.js'

/** What one socket may hold and ask for (checklist 28). @internal */
export interface MountRules {
  /** Most regions mounted at once (`live.maxRegionsPerSocket`). */
  maxRegions: number
  /** Most params bytes mounted at once (`live.maxParamsBytesPerSocket`). */
  maxParamsBytes: number
  /** True when a fragment of that name is registered. */
  isKnown(fragment: string): boolean
  /** Charges one evaluation to the client's render budget; false when it is spent. */
  charge(): boolean
}

/** The regions of one `mount` to evaluate: `fresh` are mounted, `transient` only answered. @internal */
export interface MountOutcome {
  fresh: MountedRegion[]
  /** Regions naming an unknown fragment: answered once (`ERR_FRAGMENT_NOT_FOUND`), never stored. */
  transient: MountedRegion[]
}

type Refusal = 'ERR_SOCKET_TOO_MANY_REGIONS' | 'ERR_PARAMS_TOO_LARGE' | 'ERR_RATE_LIMITED'

/**
 * Mounts the regions of one `mount` message on a socket (a mounted id is
 * replaced, not counted twice) within {@link MountRules}, and tells the
 * client about refused ones, by id: `ERR_SOCKET_MESSAGE_INVALID` for
 * malformed regions, `ERR_SOCKET_TOO_MANY_REGIONS` over the region cap,
 * `ERR_PARAMS_TOO_LARGE` over the params cap, `ERR_RATE_LIMITED` once
 * the client's renders for this second are spent. A refused region is not
 * stored (a refused re-mount of a mounted id unmounts the old one: the client
 * no longer shows it).
 * @internal
 */
export function mountRegions(
  conn: LiveConnection,
  regions: readonly RegionRequest[],
  invalid: readonly RegionRequestProblem[],
  overflow: readonly string[],
  rules: MountRules,
): MountOutcome {
  // One error per refused id, so the client settles every region it asked for
  // instead of leaving the rest pending; an id-less problem gets one error.
  let idless = false
  for (const problem of invalid) {
    if (problem.id) conn.error(problem.code ?? 'ERR_SOCKET_MESSAGE_INVALID', `region refused: ${problem.message}`, problem.id)
    else idless = true
  }
  if (idless) conn.error('ERR_SOCKET_MESSAGE_INVALID', `${invalid.length} region(s) refused: ${invalid[0].message}`)
  const mounted = (conn.regions ??= new Map())
  const outcome: MountOutcome = { fresh: [], transient: [] }
  const refused = new Map<Refusal, string[]>()
  const refuse = (code: Refusal, id: string): void => {
    let ids = refused.get(code)
    if (ids === undefined) refused.set(code, (ids = []))
    ids.push(id)
  }
  for (const region of regions) {
    const previous = mounted.get(region.id)
    if (previous === undefined && mounted.size >= rules.maxRegions) {
      refuse('ERR_SOCKET_TOO_MANY_REGIONS', region.id)
      continue
    }
    if (previous !== undefined) {
      mounted.delete(region.id)
      conn.paramsBytes -= previous.paramsBytes
    }
    const state = mountRegion(region)
    const known = region.fragment === undefined || rules.isKnown(region.fragment)
    // Only what is refused for its own sake costs no render.
    if (known && conn.paramsBytes + state.paramsBytes > rules.maxParamsBytes) {
      refuse('ERR_PARAMS_TOO_LARGE', region.id)
      continue
    }
    if (!rules.charge()) {
      refuse('ERR_RATE_LIMITED', region.id)
      continue
    }
    if (!known) {
      outcome.transient.push(state)
      continue
    }
    mounted.set(region.id, state)
    conn.paramsBytes += state.paramsBytes
    outcome.fresh.push(state)
  }
  for (const id of overflow) refuse('ERR_SOCKET_TOO_MANY_REGIONS', id)
  for (const [code, ids] of refused) {
    const message =
      code === 'ERR_SOCKET_TOO_MANY_REGIONS'
        ? `${ids.length} region(s) not mounted: at most ${rules.maxRegions} per socket`
        : code === 'ERR_PARAMS_TOO_LARGE'
          ? `${ids.length} region(s) not mounted: at most ${rules.maxParamsBytes} bytes of params per socket`
          : `${ids.length} region(s) not mounted: too many renders per second from this client`
    const named = ids.filter((id) => id !== '')
    if (named.length < ids.length || named.length === 0) conn.error(code, message)
    for (const id of named) conn.error(code, message, id)
  }
  return outcome
}

/**
 * Unmounts `ids` (unknown ids are ignored), releasing their params bytes.
 * @internal
 */
export function unmountRegions(conn: LiveConnection, ids: readonly string[]): void {
  const mounted = conn.regions
  if (mounted === null) return
  for (const id of ids) {
    const region = mounted.get(id)
    if (region === undefined) continue
    mounted.delete(id)
    conn.paramsBytes -= region.paramsBytes
  }
}

/**
 * Evaluates `list` for the socket's current principal (shared through
 * `batch`) and sends one `render`: every region when `onlyChanged` is
 * false (a mount), else only those whose result differs from what the
 * client last got. Sockets of one batch that end up with the same message
 * share one encoded Buffer.
 * @internal
 */
export async function sendRegions(
  conn: LiveConnection,
  batch: RenderBatch,
  list: readonly MountedRegion[],
  onlyChanged: boolean,
  transient: readonly MountedRegion[] = [],
): Promise<void> {
  // Transient regions go last: index ≥ firstTransient.
  const firstTransient = list.length
  if (transient.length > 0) list = [...list, ...transient]
  if (list.length === 0) return
  const rendered = await Promise.all(list.map((region) => batch.render(conn.user, conn.request, region)))
  const regions = conn.regions
  if (conn.closed || regions === null) return
  const ids: string[] = []
  const included: RenderedRegion[] = []
  const sent: MountedRegion[] = []
  // The message's cache key: ids and each result's number within the batch (equal numbers, equal bytes).
  let signature = ''
  for (let i = 0; i < list.length; i++) {
    const region = list[i]
    const result = rendered[i]
    // Unmounted or re-mounted meanwhile: that state is no longer the client's.
    // (Transient regions are never stored: answered once, as asked.)
    if (i < firstTransient && regions.get(region.request.id) !== region) continue
    if (onlyChanged) {
      if (region.hash === result.hash) continue
      region.hash = result.hash
    }
    ids.push(region.request.id)
    included.push(result)
    sent.push(region)
    signature += `${region.request.id} ${result.seq},`
  }
  if (included.length === 0) return
  let message = batch.messages.get(signature)
  if (message === undefined) {
    message = renderMessage(ids, included)
    batch.messages.set(signature, message)
  }
  conn.send(message)
  // A mount sends every region whatever it was: remember what the client got
  // (for later changes) once the bytes are on their way, still in this task.
  if (!onlyChanged) for (let i = 0; i < sent.length; i++) sent[i].hash = included[i].hash
}

const withdrawnResults = new Map<WireAuthErrorCode, RenderedRegion>()

/** The result that withdraws a region: `denied`, empty html (the element shows its else content), `code`. */
function withdrawn(code: WireAuthErrorCode): RenderedRegion {
  let result = withdrawnResults.get(code)
  if (result === undefined) {
    result = encodeBody(regionResultBody({ id: '', status: 'denied', html: '', code }), 0)
    withdrawnResults.set(code, result)
  }
  return result
}

/**
 * Fails closed: sends `denied` with `code` (and empty html) for each region
 * of `list` the client does not already see withdrawn. Guards are denied,
 * not redirected, so a store outage does not send visitors to the login
 * page. The next successful evaluation differs from this result, so
 * {@link sendRegions} restores every region then.
 * @internal
 */
export function withdrawRegions(conn: LiveConnection, list: readonly MountedRegion[], code: WireAuthErrorCode): void {
  const regions = conn.regions
  if (conn.closed || regions === null || list.length === 0) return
  const result = withdrawn(code)
  const ids: string[] = []
  for (const region of list) {
    if (regions.get(region.request.id) !== region || region.hash === result.hash) continue
    region.hash = result.hash
    ids.push(region.request.id)
  }
  if (ids.length > 0) conn.send(renderMessage(ids, ids.map(() => result)))
}
