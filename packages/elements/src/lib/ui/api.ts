import type { PrincipalSummary } from '@wire-auth/core'

/**
 * What the UI elements need from the page's wire-auth: the shared
 * connection (principal, live updates) and a way to make every element
 * follow a sign-in or sign-out. It is `WireAuth` of the bundle that loaded
 * the UI module, handed over by {@link useWireAuth}, so the UI module never
 * carries a second copy of the socket code.
 */
export interface UiWireAuth {
  connection(backend?: string): {
    readonly origin: string
    readonly principal: PrincipalSummary | undefined
    subscribe(listener: (principal: PrincipalSummary) => void): () => void
    open(): void
  }
  reconnect(backend?: string): void
}

let wireAuth: UiWireAuth | undefined
const waiting: Array<(api: UiWireAuth) => void> = []

/** Hands the page's `WireAuth` to the UI elements (the bundle does it when it loads this module). */
export function useWireAuth(api: UiWireAuth): void {
  wireAuth = api
  for (const resolve of waiting.splice(0)) resolve(api)
}

/** The page's `WireAuth`, once handed over. @internal */
export function whenWireAuth(): Promise<UiWireAuth> {
  return wireAuth === undefined ? new Promise((resolve) => waiting.push(resolve)) : Promise.resolve(wireAuth)
}

/** What a call to a wire-auth route produced: the JSON body, or a coded failure. */
export type CallResult = { ok: true; body: Record<string, unknown> } | { ok: false; code: string; status: number }

/**
 * Calls a documented wire-auth route on `origin` with the page's cookies
 * (`credentials: 'include'`: the backend's CORS and Origin checks apply as
 * to every call). Never throws: failures come back as a code.
 * @internal
 */
export async function call(origin: string, path: string, body?: Record<string, unknown>): Promise<CallResult> {
  let response: Response
  try {
    response = await fetch(`${origin}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      credentials: 'include',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch {
    return { ok: false, code: 'ERR_BACKEND_UNREACHABLE', status: 0 }
  }
  let json: unknown = null
  try {
    json = response.status === 204 ? {} : await response.json()
  } catch {
    // Not JSON (a proxy's error page): coded below by status.
  }
  const record = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {}
  if (response.ok) return { ok: true, body: record }
  const error = record.error as { code?: unknown } | undefined
  return { ok: false, code: typeof error?.code === 'string' ? error.code : 'ERR_INTERNAL', status: response.status }
}

/** `GET /auth/account/capabilities` (issue 18), or null when the server has no such route. */
export interface Capabilities {
  passwordReset?: boolean
  passwordChange?: boolean
  emailChange?: boolean
  passkeys?: boolean
}

const capabilities = new Map<string, Promise<Capabilities | null>>()

/** The account flows `origin` offers, asked once per page. @internal */
export function capabilitiesOf(origin: string): Promise<Capabilities | null> {
  let pending = capabilities.get(origin)
  if (pending === undefined) {
    pending = call(origin, '/auth/account/capabilities').then((result) => (result.ok ? (result.body as Capabilities) : null))
    capabilities.set(origin, pending)
  }
  return pending
}
