import type { ClaimRequirement, PrincipalSummary, WireAuthErrorCode } from '@wire-auth/core'

/**
 * What an element asks the server to show (docs/protocol.md, "Region
 * request"). The same shape travels in the socket's `mount` message and in
 * `POST /auth/fragments`.
 */
export interface RegionRequest {
  /** Unique per connection; assigned by the connection, `[A-Za-z0-9_:.-]{1,64}`. */
  id: string
  kind: 'region' | 'guard'
  fragment?: string
  /** Adds a named policy to the fragment's own guard. */
  policy?: string
  /** Adds claims (all must hold) to the fragment's own guard. */
  claims?: ClaimRequirement[]
  /** Plain JSON object given to policies, `load` and `render`. */
  params?: Record<string, unknown>
  /** Guard only: where to send a denied visitor (checked by the server). */
  redirect?: string
  /** Guard only: the page to come back to after signing in. */
  returnTo?: string
}

/** The server's verdict for one region (docs/protocol.md, "Region result"). */
export type RegionResult =
  | { id: string; status: 'allowed'; html: string }
  | { id: string; status: 'denied'; html: string; code: WireAuthErrorCode }
  | { id: string; status: 'redirect'; location: string; code: WireAuthErrorCode }

/** Messages the server sends on `GET /auth/live`. */
export type ServerMessage =
  | { t: 'principal'; user: PrincipalSummary }
  | { t: 'render'; regions: RegionResult[] }
  | { t: 'signed-out' }
  | { t: 'error'; code: WireAuthErrorCode; message?: string; id?: string }

/** Client-side limits, mirrored from docs/protocol.md "Limits" (params: core's `PARAMS_LIMITS`, shared with the server). */
export const LIMITS = {
  maxString: 256,
  maxUrl: 2048,
} as const

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Reads a principal summary defensively; anything malformed reads as anonymous. */
export function readPrincipal(value: unknown): PrincipalSummary {
  if (!isObject(value) || value.authenticated !== true) return { authenticated: false, id: null, name: null }
  return {
    authenticated: true,
    id: typeof value.id === 'string' ? value.id : null,
    name: typeof value.name === 'string' ? value.name : null,
  }
}

/** Keeps the well-formed results of an untrusted list. */
export function readResults(value: unknown): RegionResult[] {
  if (!Array.isArray(value)) return []
  return value.filter(
    (r): r is RegionResult =>
      isObject(r) &&
      typeof r.id === 'string' &&
      ((r.status === 'allowed' && typeof r.html === 'string') ||
        (r.status === 'denied' && typeof r.html === 'string') ||
        (r.status === 'redirect' && typeof r.location === 'string')),
  )
}

/** Parses one socket frame; null when it is not a message this client knows. */
export function readServerMessage(data: unknown): ServerMessage | null {
  if (typeof data !== 'string') return null
  let message: unknown
  try {
    message = JSON.parse(data)
  } catch {
    return null
  }
  if (!isObject(message)) return null
  switch (message.t) {
    case 'principal':
      return { t: 'principal', user: readPrincipal(message.user) }
    case 'render':
      return { t: 'render', regions: readResults(message.regions) }
    case 'signed-out':
      return { t: 'signed-out' }
    case 'error':
      return typeof message.code === 'string'
        ? {
            t: 'error',
            code: message.code as WireAuthErrorCode,
            message: typeof message.message === 'string' ? message.message : undefined,
            id: typeof message.id === 'string' ? message.id : undefined,
          }
        : null
    default:
      return null
  }
}
