import type { WireAuthErrorCode } from '@wire-auth/core'

// Kept small on purpose (the bundle has a size budget): one request helper,
// one cache per backend origin, short messages (the code is the contract).

/** A token is renewed when less than this much of its life is left, ms. */
const MARGIN_MS = 60_000
/** BroadcastChannel and sessionStorage name of a pending sign-in. */
const KEY = 'wire-auth-sign-in'

/** An error of the token helpers; match on `code`. */
export interface WireAuthTokenError extends Error {
  code: WireAuthErrorCode
}

function fail(code: WireAuthErrorCode, what: string): never {
  throw Object.assign(new Error(`wire-auth ${code}: ${what}`), { code }) as WireAuthTokenError
}

interface Held {
  token: string
  /** Epoch ms. */
  expiresAt: number
  /** Code flow only. */
  refresh?: string
  clientId?: string
}

/** Options of `WireAuth.signIn()`. */
export interface SignInOptions {
  /** The `client_id` registered in the backend's `localIdp.clients`. */
  clientId: string
  /** A redirect URI registered for it: a page of this origin that calls `WireAuth.completeSignIn()`. */
  redirectUri: string
  /** `"popup"` (default: the page stays) or `"redirect"` (this tab goes to the backend and comes back). */
  mode?: 'popup' | 'redirect'
}

interface Pending {
  origin: string
  state: string
  verifier: string
  clientId: string
  redirectUri: string
}

/** Tokens per backend origin: `s` from the session cookie, `c` from the code flow. In memory only. */
const held = new Map<string, Held>()
const inFlight = new Map<string, Promise<string | null>>()

const b64 = (bytes: ArrayBuffer | Uint8Array) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
const random = () => b64(crypto.getRandomValues(new Uint8Array(32)))

/** POSTs to a token endpoint of `origin`; null when the session is not signed in. */
async function request(origin: string, path: string, form?: Record<string, string>): Promise<Held | null> {
  let response: Response
  try {
    response = await fetch(origin + path, form === undefined ? { method: 'POST', credentials: 'include' } : { method: 'POST', body: new URLSearchParams(form) })
  } catch {
    fail('ERR_BACKEND_UNREACHABLE', origin)
  }
  const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; refresh_token?: string; code?: WireAuthErrorCode }
  if (response.status === 401 && form === undefined) return null
  if (!response.ok || body.access_token === undefined) fail(body.code ?? 'ERR_INVALID_TOKEN', String(response.status))
  return { token: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 0) * 1000, refresh: body.refresh_token, clientId: form?.client_id }
}

/**
 * The access token for `origin`: the code-flow one (renewed with its
 * refresh token) or one minted from the session cookie, renewed when less
 * than a minute is left. Null when nobody is signed in.
 * @internal use `WireAuth.getToken()`.
 */
export function getToken(origin: string): Promise<string | null> {
  const h = held.get(origin)
  if (h !== undefined && h.expiresAt - Date.now() > MARGIN_MS) return Promise.resolve(h.token)
  let pending = inFlight.get(origin)
  if (pending === undefined) {
    const next =
      h?.refresh !== undefined
        ? request(origin, '/auth/local/token', { grant_type: 'refresh_token', refresh_token: h.refresh, client_id: h.clientId ?? '' }).catch(() => null)
        : h?.clientId !== undefined
          ? Promise.resolve(null)
          : request(origin, '/auth/local/session-token')
    pending = next
      .then((fresh) => {
        if (fresh === null) held.delete(origin)
        else held.set(origin, fresh)
        return fresh?.token ?? null
      })
      .finally(() => inFlight.delete(origin))
    inFlight.set(origin, pending)
  }
  return pending
}

/** Forgets the tokens of `origin` (only a session-minted one with `sessionOnly`). @internal */
export function forgetTokens(origin: string, sessionOnly?: boolean): void {
  if (!sessionOnly || held.get(origin)?.clientId === undefined) held.delete(origin)
}

/** Epoch ms when the token of `origin` should be renewed, or null. @internal */
export function renewAt(origin: string): number | null {
  const h = held.get(origin)
  return h === undefined ? null : h.expiresAt - MARGIN_MS
}

async function exchange(p: Pending, back: URL): Promise<string> {
  const q = back.searchParams
  if (q.get('state') !== p.state) fail('ERR_OIDC_STATE_MISMATCH', 'state')
  if (q.has('error')) fail(q.get('error') === 'login_required' ? 'ERR_UNAUTHENTICATED' : 'ERR_INVALID_GRANT', String(q.get('error')))
  const issuer = q.get('iss')
  if (issuer !== null && new URL(issuer).origin !== p.origin) fail('ERR_INVALID_GRANT', 'iss')
  const got = (await request(p.origin, '/auth/local/token', {
    grant_type: 'authorization_code',
    code: q.get('code') ?? '',
    redirect_uri: p.redirectUri,
    client_id: p.clientId,
    code_verifier: p.verifier,
  })) as Held
  held.set(p.origin, got)
  return got.token
}

/**
 * The authorization code flow with PKCE (S256) in a popup or this tab.
 * @internal use `WireAuth.signIn()`.
 */
export async function signInWithCode(origin: string, options: SignInOptions): Promise<string> {
  const p: Pending = { origin, state: random(), verifier: random(), clientId: options.clientId, redirectUri: options.redirectUri }
  const url = new URL('/auth/local/authorize', origin)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: p.clientId,
    redirect_uri: p.redirectUri,
    state: p.state,
    code_challenge: b64(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(p.verifier))),
    code_challenge_method: 'S256',
  }).toString()
  if (options.mode === 'redirect') {
    // This tab leaves: the pending request waits in this origin's sessionStorage (this tab only).
    sessionStorage.setItem(KEY, JSON.stringify(p))
    location.assign(url)
    return new Promise<string>(() => undefined)
  }
  // A BroadcastChannel, not window.opener: the backend's pages send
  // Cross-Origin-Opener-Policy, which severs the opener.
  const channel = new BroadcastChannel(KEY)
  const back = new Promise<URL>((resolve) => {
    channel.onmessage = (event: MessageEvent<string>) => {
      const answer = new URL(String(event.data))
      if (answer.searchParams.get('state') === p.state) resolve(answer)
    }
  })
  if (window.open(url, KEY, 'popup,width=520,height=720') === null) {
    channel.close()
    fail('ERR_UNAUTHENTICATED', 'popup blocked')
  }
  try {
    return await exchange(p, await back)
  } finally {
    channel.close()
  }
}

/**
 * On the redirect page: hands the answer to the popup's opener page and
 * closes, or finishes a redirect-mode sign-in (returning its origin).
 * @internal use `WireAuth.completeSignIn()`.
 */
export async function completeCodeSignIn(): Promise<string | null> {
  const here = new URL(location.href)
  if (!here.searchParams.has('state')) return null
  history.replaceState(null, '', here.pathname)
  const p = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Pending | null
  if (p?.state !== here.searchParams.get('state')) {
    const channel = new BroadcastChannel(KEY)
    channel.postMessage(here.href)
    channel.close()
    window.close()
    return null
  }
  sessionStorage.removeItem(KEY)
  await exchange(p as Pending, here)
  return (p as Pending).origin
}
