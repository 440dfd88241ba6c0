import { WireAuthGuard } from './wire-auth-guard.js'
import { WireAuthRegion } from './wire-auth-region.js'
import { WireAuthUser } from './wire-auth-user.js'

/**
 * Defines `<wire-auth-guard>`, `<wire-auth-region>` and `<wire-auth-user>`
 * in `registry` (default: the global one). Names already defined — by
 * another copy of this library — are left alone. The served bundle
 * (`/wire-auth.js`) calls this itself; npm users call it once.
 *
 * @example
 * ```ts
 * import { defineWireAuthElements } from '@wire-auth/elements'
 * defineWireAuthElements()
 * ```
 */
export function defineWireAuthElements(registry: CustomElementRegistry = customElements): void {
  const elements: Array<[string, CustomElementConstructor]> = [
    ['wire-auth-guard', WireAuthGuard],
    ['wire-auth-region', WireAuthRegion],
    ['wire-auth-user', WireAuthUser],
  ]
  for (const [name, element] of elements) {
    if (registry.get(name) === undefined) registry.define(name, element)
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'wire-auth-guard': WireAuthGuard
    'wire-auth-region': WireAuthRegion
    'wire-auth-user': WireAuthUser
  }
}
