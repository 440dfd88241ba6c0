/**
 * The UI elements (issue 17): `<wire-auth-sign-in>`, `<wire-auth-user-button>`,
 * `<wire-auth-account>` and `<wire-auth-signed-out>`. npm users:
 * `import { defineWireAuthUiElements } from '@wire-auth/elements/ui'`. The
 * served bundle loads `/wire-auth-ui.js` by itself when a page uses one.
 */
import { WireAuth } from './lib/hub.js'
import { useWireAuth } from './lib/ui/api.js'
import { defineUiElements } from './lib/ui/define-ui.js'

export { WireAuthSignIn, safeReturnTo } from './lib/ui/sign-in.js'
export { WireAuthUserButton } from './lib/ui/user-button.js'
export { WireAuthAccount, WireAuthSignedOut } from './lib/ui/account.js'
export { DEFAULT_STRINGS, type WireAuthStrings, type WireAuthStringOverrides } from './lib/ui/strings.js'
export { resolveSafeRedirect } from '@wire-auth/core'

/** Defines the UI elements in `registry` (default: the global one), wired to this copy's `WireAuth`. */
export function defineWireAuthUiElements(registry: CustomElementRegistry = customElements): void {
  useWireAuth(WireAuth)
  defineUiElements(registry)
}
