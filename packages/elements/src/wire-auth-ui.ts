/**
 * The served UI module (`/wire-auth-ui.js`), imported by `/wire-auth.js`
 * only when the page holds one of the UI elements. It carries no socket
 * code: `start()` receives the page's `WireAuth` from the bundle.
 */
import type { UiWireAuth } from './lib/ui/api.js'
import { useWireAuth } from './lib/ui/api.js'
import { defineUiElements } from './lib/ui/define-ui.js'

/** Called by `/wire-auth.js` with its `WireAuth`. */
export function start(wireAuth: UiWireAuth): void {
  useWireAuth(wireAuth)
  defineUiElements()
}

export { WireAuthSignIn, safeReturnTo } from './lib/ui/sign-in.js'
export { WireAuthUserButton } from './lib/ui/user-button.js'
export { WireAuthAccount, WireAuthSignedOut } from './lib/ui/account.js'
export { DEFAULT_STRINGS } from './lib/ui/strings.js'
export { resolveSafeRedirect } from '@wire-auth/core'
