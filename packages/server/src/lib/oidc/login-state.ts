import { timingSafeEqual } from 'node:crypto'
import type { CookieSealer } from '../cookie-sealer.js'

/** What one browser's login with one provider must remember until the callback. @internal */
export interface LoginState {
  /** Provider name the state is bound to. */
  provider: string
  state: string
  nonce: string
  codeVerifier: string
  /** Already checked with `safeRedirect`; checked again at the callback. */
  returnTo: string
  /** Epoch ms after which the callback is refused. */
  expiresAt: number
}

/** How long a login may take from `/login` to `/callback`. */
export const LOGIN_STATE_TTL_MS = 10 * 60 * 1000

/**
 * The cookie holding the login state of `provider` (one per provider):
 * `__Host-wa_oidc_<name>` when cookies are secure (host-locked: no
 * `Domain`, `Path=/`, `Secure` — a sibling subdomain cannot plant or
 * overwrite it), else `wa_oidc_<name>`.
 * @internal
 */
export function loginStateCookieName(provider: string, secure: boolean): string {
  return `${secure ? '__Host-' : ''}wa_oidc_${provider}`
}

/** Serialises and encrypts a login state for its cookie (F12: the verifier and nonce are not readable). @internal */
export function sealLoginState(sealer: CookieSealer, state: LoginState): Promise<string> {
  return sealer.seal(JSON.stringify({ p: state.provider, s: state.state, n: state.nonce, v: state.codeVerifier, r: state.returnTo, e: state.expiresAt }))
}

function isShortString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 4096
}

/**
 * Decrypts, authenticates and parses a login-state cookie. Null when
 * missing, forged, edited, malformed, bound to another provider or expired
 * — the caller answers `ERR_OIDC_STATE_MISMATCH` in every case.
 * @internal
 */
export async function openLoginState(sealer: CookieSealer, cookie: unknown, provider: string, now: number): Promise<LoginState | null> {
  const payload = await sealer.open(cookie)
  if (payload === null) return null
  let data: unknown
  try {
    data = JSON.parse(payload)
  } catch {
    return null
  }
  if (typeof data !== 'object' || data === null) return null
  const { p, s, n, v, r, e } = data as Record<string, unknown>
  if (p !== provider || !isShortString(s) || !isShortString(n) || !isShortString(v) || !isShortString(r)) return null
  if (typeof e !== 'number' || !(now < e)) return null
  return { provider: p, state: s, nonce: n, codeVerifier: v, returnTo: r, expiresAt: e }
}

/** Constant-time string equality. @internal */
export function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length === y.length && timingSafeEqual(x, y)
}
