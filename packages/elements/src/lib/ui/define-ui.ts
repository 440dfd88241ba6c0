import { WireAuthAccount, WireAuthSignedOut } from './account.js'
import { WireAuthSignIn } from './sign-in.js'
import { WireAuthUserButton } from './user-button.js'

/** Tag names of the UI elements: a page holding one makes the bundle load the UI module. */
export const UI_TAGS = ['wire-auth-sign-in', 'wire-auth-user-button', 'wire-auth-account', 'wire-auth-signed-out'] as const

/** Defines the UI elements (names already defined are left alone). @internal */
export function defineUiElements(registry: CustomElementRegistry = customElements): void {
  const elements: Array<[string, CustomElementConstructor]> = [
    ['wire-auth-sign-in', WireAuthSignIn],
    ['wire-auth-user-button', WireAuthUserButton],
    ['wire-auth-account', WireAuthAccount],
    ['wire-auth-signed-out', WireAuthSignedOut],
  ]
  for (const [name, element] of elements) {
    if (registry.get(name) === undefined) registry.define(name, element)
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'wire-auth-sign-in': WireAuthSignIn
    'wire-auth-user-button': WireAuthUserButton
    'wire-auth-account': WireAuthAccount
    'wire-auth-signed-out': WireAuthSignedOut
  }
}
