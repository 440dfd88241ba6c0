import type { WireAuthErrorCode } from '../errors.js'
import type { PrincipalSummary } from '../principal.js'
import type { ClaimRequirement } from './claim-rules.js'

/**
 * One region (or guard) a page wants to show (docs/protocol.md, "Region
 * request"). The same shape travels in the socket's `mount` message and in
 * `POST /auth/fragments`; {@link parseRegionRequest} is the one parser.
 */
export interface RegionRequest {
  /** Unique per page / socket: 1..64 of `[A-Za-z0-9_:.-]`; the elements' connection assigns it. */
  id: string
  kind: 'region' | 'guard'
  /** Required for a region, optional for a guard. */
  fragment?: string
  /** ADDS a named policy to the fragment's own guard. */
  policy?: string
  /** ADDS claims (all must hold) to the fragment's own guard. */
  claims?: ReadonlyArray<ClaimRequirement>
  /** Plain JSON object handed to policies, `load` and `render` (deep-frozen once parsed). */
  params?: Readonly<Record<string, unknown>>
  /** Guard only: where to send a denied visitor; kept only if the server's redirect check accepts it. */
  redirect?: string
  /** Guard only: the page to come back to after login (`returnTo` of the login URL). */
  returnTo?: string
}

/** The server's verdict for one region (docs/protocol.md, "Region result"). */
export type RegionResult =
  | { id: string; status: 'allowed'; html: string }
  | { id: string; status: 'denied'; html: string; code: WireAuthErrorCode }
  | { id: string; status: 'redirect'; location: string; code: WireAuthErrorCode }

/** Why a region request was refused; `id` when it could be read. */
export interface RegionRequestProblem {
  message: string
  id?: string
  /** Set for params problems (`ERR_PARAMS_INVALID`, `ERR_PARAMS_TOO_LARGE`): the same code on every transport. */
  code?: WireAuthErrorCode
}

/** A client → server message of the live socket `GET /auth/live` (docs/protocol.md), as parsed. */
export type ClientMessage =
  | { t: 'auth'; token: string }
  /** Valid regions, the problems of the refused ones, and the ids beyond the socket's region count (never parsed). */
  | { t: 'mount'; regions: RegionRequest[]; invalid: RegionRequestProblem[]; overflow: string[] }
  | { t: 'unmount'; ids: string[] }

/** A server → client message of the live socket (docs/protocol.md). */
export type ServerMessage =
  | { t: 'principal'; user: PrincipalSummary }
  | { t: 'render'; regions: RegionResult[] }
  | { t: 'signed-out' }
  | { t: 'error'; code: WireAuthErrorCode; message?: string; id?: string }
