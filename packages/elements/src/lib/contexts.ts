import { createContext } from '@lit/context'
import type { PrincipalSummary } from '@wire-auth/core'
import type { WireAuthHub } from './hub.js'

/**
 * The document's {@link WireAuthHub}, provided from `document.documentElement`.
 * The key is a registered symbol so that two copies of this library on one
 * page (an npm build and the served bundle) find each other and share one
 * socket per backend.
 */
export const hubContext = createContext<WireAuthHub>(Symbol.for('wire-auth.hub'))

/**
 * The signed-in user's summary `{ authenticated, id, name }`, or `undefined`
 * until the server said. Every `<wire-auth-guard>` and `<wire-auth-region>`
 * provides it (for its backend) to the components inside it; the document
 * root provides it for the default backend.
 *
 * @example
 * ```ts
 * class UserBadge extends LitElement {
 *   user = new ContextConsumer(this, { context: principalContext, subscribe: true })
 *   render() { return html`${this.user.value?.name ?? 'Guest'}` }
 * }
 * ```
 */
export const principalContext = createContext<PrincipalSummary | undefined>(Symbol.for('wire-auth.principal'))
