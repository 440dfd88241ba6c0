import { readPrincipal, readResults, type PrincipalSummary, type RegionRequest, type RegionResult, type WireAuthErrorCode } from '@wire-auth/core'
import { warnUnreachable } from './warnings.js'

/** Code of a wire-auth error raised in the browser when the backend cannot be reached. */
export const BACKEND_UNREACHABLE = 'ERR_BACKEND_UNREACHABLE' satisfies WireAuthErrorCode

/** What one `POST /auth/fragments` produced. */
export type FallbackOutcome =
  | { ok: true; principal: PrincipalSummary; regions: RegionResult[] }
  | { ok: false; code: WireAuthErrorCode; status: number }

/**
 * Asks `POST /auth/fragments` for `regions` while the socket is down.
 * Cookie-authenticated (`credentials: 'include'`), or with a bearer token in
 * token mode. Never throws: failures come back as a code.
 *
 * @internal
 */
export async function fetchRegions(origin: string, token: string | null, regions: RegionRequest[]): Promise<FallbackOutcome> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (token !== null) headers.authorization = `Bearer ${token}`
  let response: Response
  try {
    response = await fetch(`${origin}/auth/fragments`, {
      method: 'POST',
      credentials: 'include',
      headers,
      body: JSON.stringify({ regions }),
    })
  } catch {
    if (await refusesThisOrigin(origin)) return { ok: false, code: 'ERR_ORIGIN_NOT_ALLOWED', status: 0 }
    warnUnreachable(origin)
    return { ok: false, code: BACKEND_UNREACHABLE, status: 0 }
  }
  let body: unknown = null
  try {
    body = await response.json()
  } catch {
    // A proxy's HTML error page: handled as an error without a code.
  }
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {}
  if (!response.ok) {
    const error = record.error as { code?: unknown } | undefined
    const code = typeof error?.code === 'string' ? (error.code as WireAuthErrorCode) : BACKEND_UNREACHABLE
    return { ok: false, code, status: response.status }
  }
  return { ok: true, principal: readPrincipal(record.principal), regions: readResults(record.regions) }
}

/**
 * After a cross-origin request failed without an answer: is the backend up
 * but refusing this page's origin (no CORS grant), rather than down or in a
 * transient failure? The browser hides which it was, so ask twice, without
 * credentials: the elements bundle, which the backend serves to every origin
 * (`Access-Control-Allow-Origin: *`), and `GET /auth/me`, which it grants
 * only to allowed origins. Only "the first answers, the second is refused"
 * means `ERR_ORIGIN_NOT_ALLOWED`; anything else stays "unreachable" (the
 * regions stay pending and retry).
 */
async function refusesThisOrigin(origin: string): Promise<boolean> {
  if (typeof location === 'undefined' || location.origin === origin) return false
  try {
    const up = await fetch(`${origin}/wire-auth.js`, { method: 'HEAD', credentials: 'omit', cache: 'no-store' })
    if (!up.ok) return false
  } catch {
    return false
  }
  try {
    await fetch(`${origin}/auth/me`, { credentials: 'omit', cache: 'no-store' })
    return false
  } catch {
    return true
  }
}
