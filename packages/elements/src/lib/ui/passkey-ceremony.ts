import { startAuthentication, startRegistration } from '@simplewebauthn/browser'
import { call, type CallResult } from './api.js'

/**
 * One passkey ceremony against `origin` (`/auth/passkeys/*`): the server's
 * options, the browser's dialog (`@simplewebauthn/browser`), the answer back
 * to the server. `register` adds a passkey named `name` to the signed-in
 * account; `login` signs in with a discoverable passkey. Loaded only when a
 * user starts one (the served `/wire-auth-webauthn.js`).
 * @returns the server's answer, or null when the user cancelled the dialog (or it timed out).
 * @internal
 */
export async function passkeyCeremony(origin: string, kind: 'register' | 'login', name?: string): Promise<CallResult | null> {
  const options = await call(origin, `/auth/passkeys/${kind}/options`, {})
  if (!options.ok) return options
  let credential: unknown
  try {
    const optionsJSON = options.body as never
    credential = kind === 'register' ? await startRegistration({ optionsJSON }) : await startAuthentication({ optionsJSON })
  } catch (err) {
    if (['NotAllowedError', 'AbortError'].includes((err as Error).name)) return null
    return { ok: false, code: 'ERR_PASSKEY_INVALID', status: 0 }
  }
  return call(origin, `/auth/passkeys/${kind}/verify`, { credential, name })
}
