import type { WireAuthErrorCode } from '@wire-auth/core'
import type { RegionRequest, RegionRequestProblem } from '../fragments/region-request.js'
import type { LiveConnection } from './live-connection.js'
import { encodeBody, mountRegion, renderMessage, resultBody, type MountedRegion, type RenderBatch, type RenderedRegion } from './render-batch.js'

/**
 * Mounts the regions of one `mount` message on a socket, up to `max` per
 * socket (a mounted id is replaced, not counted twice), and tells the client
 * about refused ones: `ERR_SOCKET_MESSAGE_INVALID` for malformed regions,
 * `ERR_SOCKET_TOO_MANY_REGIONS` for the ones over the limit.
 * @returns The regions mounted by this message, to be rendered.
 * @internal
 */
export function mountRegions(
  conn: LiveConnection,
  regions: readonly RegionRequest[],
  invalid: readonly RegionRequestProblem[],
  overflow: readonly string[],
  max: number,
): MountedRegion[] {
  // One error per refused id, so the client settles every region it asked for
  // instead of leaving the rest pending; an id-less problem gets one error.
  let idless = false
  for (const problem of invalid) {
    if (problem.id) conn.error('ERR_SOCKET_MESSAGE_INVALID', `region refused: ${problem.message}`, problem.id)
    else idless = true
  }
  if (idless) conn.error('ERR_SOCKET_MESSAGE_INVALID', `${invalid.length} region(s) refused: ${invalid[0].message}`)
  const mounted = (conn.regions ??= new Map())
  const fresh: MountedRegion[] = []
  const refusedIds: string[] = []
  let refused = 0
  for (const region of regions) {
    if (!mounted.has(region.id) && mounted.size >= max) {
      refused++
      refusedIds.push(region.id)
      continue
    }
    const state = mountRegion(region)
    mounted.set(region.id, state)
    fresh.push(state)
  }
  for (const id of overflow) {
    refused++
    if (id !== '') refusedIds.push(id)
  }
  if (refused > 0) {
    const message = `${refused} region(s) not mounted: at most ${max} per socket`
    if (refusedIds.length === 0) conn.error('ERR_SOCKET_TOO_MANY_REGIONS', message)
    for (const id of refusedIds) conn.error('ERR_SOCKET_TOO_MANY_REGIONS', message, id)
  }
  return fresh
}

/**
 * Evaluates `list` for the socket's current principal (shared through
 * `batch`) and sends one `render`: every region when `onlyChanged` is
 * false (a mount), else only those whose result differs from what the
 * client last got. Sockets of one batch that end up with the same message
 * share one encoded Buffer.
 * @internal
 */
export async function sendRegions(conn: LiveConnection, batch: RenderBatch, list: readonly MountedRegion[], onlyChanged: boolean): Promise<void> {
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
    if (regions.get(region.request.id) !== region) continue
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
    result = encodeBody(resultBody({ id: '', status: 'denied', html: '', code }), 0)
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
