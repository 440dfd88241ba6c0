import { ContextConsumer } from '@lit/context'
import { ReactiveElement, type PropertyDeclarations } from '@lit/reactive-element'
import type { PrincipalSummary } from '@wire-auth/core'
import { getDefaultBackend } from './backend.js'
import { principalContext } from './contexts.js'
import { getHub } from './hub.js'

/**
 * Shows one field of the signed-in user's summary as text, live. Inside a
 * guard or region it follows that element's backend, elsewhere the default
 * backend (whose socket it opens). Until the server answers it shows its
 * own children.
 *
 * @element wire-auth-user
 * @attr {"name" | "id"} field - Which field to show. Default `name`.
 * @example `<span>Signed in as <wire-auth-user field="name">…</wire-auth-user></span>`
 */
export class WireAuthUser extends ReactiveElement {
  static override properties: PropertyDeclarations = { field: {} }

  /** Which field of the principal summary to show. */
  declare field: 'name' | 'id'

  #user = new ContextConsumer(this, { context: principalContext, subscribe: true })

  constructor() {
    super()
    this.field = 'name'
  }

  protected override createRenderRoot(): HTMLElement {
    return this
  }

  override connectedCallback(): void {
    super.connectedCallback()
    getHub(this).connection(getDefaultBackend()).open()
  }

  protected override update(changed: Map<PropertyKey, unknown>): void {
    super.update(changed)
    const user: PrincipalSummary | undefined = this.#user.value
    if (user !== undefined) this.textContent = (this.field === 'id' ? user.id : user.name) ?? ''
  }
}
