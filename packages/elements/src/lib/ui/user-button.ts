import { css, type PropertyDeclarations } from '@lit/reactive-element'
import { html } from 'lit-html'
import { call } from './api.js'
import { messageOf } from './strings.js'
import { baseStyles, initialsOf, UiElement } from './ui-element.js'

let ids = 0

/**
 * The signed-in user's initials and name, opening a menu with a link to the
 * account page and "Sign out"; a "Sign in" link when anonymous. Live: it
 * follows sign-in and sign-out in this tab and the user's other tabs.
 * Keyboard: Enter, Space or ↓ open the menu on its first item, ↑ on its
 * last; ↑/↓/Home/End move; Escape closes it and returns to the button; Tab
 * closes it.
 *
 * @element wire-auth-user-button
 * @attr {string} account-href - The account page. Default `/account`.
 * @attr {string} sign-in-href - The sign-in page (`?returnTo=` this page is added). Default `/login`.
 * @attr {string} backend - Backend URL. Default: the bundle's origin.
 * @fires wire-auth-signed-out - after "Sign out" succeeded.
 * @csspart sign-in - the "Sign in" link (anonymous)
 * @csspart button - the menu button
 * @csspart avatar - the initials
 * @csspart name - the user's name
 * @csspart menu - the menu
 * @csspart item - each menu item
 * @csspart error - a sign-out failure (an `aria-live` alert)
 */
export class WireAuthUserButton extends UiElement {
  static override properties: PropertyDeclarations = {
    ...UiElement.properties,
    accountHref: { attribute: 'account-href' },
    signInHref: { attribute: 'sign-in-href' },
    open: { state: true },
    error: { state: true },
  }

  static override styles = [
    baseStyles,
    css`
      :host { display: inline-block; position: relative; }
      .avatar {
        display: inline-grid; place-items: center; width: 1.9em; height: 1.9em; border-radius: 50%;
        background: var(--_accent); color: var(--wire-auth-accent-text, #ffffff); font-size: .85em; font-weight: 700;
      }
      .trigger { padding: .25em .7em .25em .3em; border-radius: 999px; }
      [role='menu'] {
        position: absolute; right: 0; top: calc(100% + .3em); min-width: 12em; z-index: var(--wire-auth-menu-z, 10);
        margin: 0; padding: .3em; list-style: none; background: var(--_bg); border: 1px solid var(--_border);
        border-radius: var(--_radius); box-shadow: 0 6px 24px rgba(0, 0, 0, .15);
      }
      [role='menuitem'] {
        display: block; width: 100%; text-align: left; padding: .5em .7em; border: 0; border-radius: calc(var(--_radius) - 2px);
        background: none; color: inherit; text-decoration: none; cursor: pointer;
      }
      [role='menuitem']:hover, [role='menuitem']:focus { background: var(--wire-auth-hover, rgba(47, 91, 211, .1)); }
      .error { position: absolute; right: 0; white-space: nowrap; }
    `,
  ]

  /** The account page. */
  declare accountHref: string
  /** The sign-in page. */
  declare signInHref: string
  declare private open: boolean
  declare private error: string
  #id = `wa-user-${++ids}`

  constructor() {
    super()
    this.accountHref = '/account'
    this.signInHref = '/login'
    this.open = false
    this.error = ''
  }

  override connectedCallback(): void {
    super.connectedCallback()
    document.addEventListener('click', this.#outside)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    document.removeEventListener('click', this.#outside)
  }

  #outside = (event: Event): void => {
    if (this.open && !event.composedPath().includes(this)) this.open = false
  }

  protected override principalChanged(): void {
    this.open = false
    this.error = ''
  }

  #items(): HTMLElement[] {
    return [...this.renderRoot.querySelectorAll<HTMLElement>('[role=menuitem]')]
  }

  async #show(focus: 'first' | 'last'): Promise<void> {
    this.open = true
    await this.updateComplete
    const items = this.#items()
    items[focus === 'first' ? 0 : items.length - 1]?.focus()
  }

  #close(returnFocus: boolean): void {
    this.open = false
    if (returnFocus) void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('.trigger')?.focus())
  }

  #onTriggerKey(event: KeyboardEvent): void {
    if (event.key === 'ArrowDown' || event.key === 'Enter' || event.key === ' ') {
      event.preventDefault()
      void this.#show('first')
    } else if (event.key === 'ArrowUp') {
      event.preventDefault()
      void this.#show('last')
    } else if (event.key === 'Escape' && this.open) {
      this.#close(true)
    }
  }

  #onMenuKey(event: KeyboardEvent): void {
    const items = this.#items()
    const index = items.indexOf((this.renderRoot as ShadowRoot).activeElement as HTMLElement)
    let next: number | null = null
    if (event.key === 'ArrowDown') next = (index + 1) % items.length
    else if (event.key === 'ArrowUp') next = (index - 1 + items.length) % items.length
    else if (event.key === 'Home') next = 0
    else if (event.key === 'End') next = items.length - 1
    else if (event.key === 'Escape') {
      event.preventDefault()
      this.#close(true)
      return
    } else if (event.key === 'Tab') {
      this.#close(false)
      return
    } else if (event.key === ' ' && event.target instanceof HTMLAnchorElement) {
      event.preventDefault()
      event.target.click()
      return
    }
    if (next !== null) {
      event.preventDefault()
      items[next]?.focus()
    }
  }

  async #signOut(): Promise<void> {
    this.error = ''
    const result = await call(this.origin, '/auth/logout', {})
    if (!result.ok) {
      this.error = messageOf(this.text, result.code)
      return
    }
    this.#close(false)
    this.follow()
    this.dispatchEvent(new CustomEvent('wire-auth-signed-out', { bubbles: true, composed: true }))
  }

  #signInUrl(): string {
    // document.baseURI, not location: an about:srcdoc frame has no usable location to resolve against.
    let url: URL
    try {
      url = new URL(this.signInHref, document.baseURI)
    } catch {
      return this.signInHref
    }
    const here = new URL(document.baseURI)
    if (url.origin === here.origin && url.pathname !== location.pathname) url.searchParams.set('returnTo', location.pathname + location.search)
    return url.origin === here.origin ? url.pathname + url.search + url.hash : url.href
  }

  protected override render() {
    const t = this.text
    const user = this.principal
    if (user === undefined) return html``
    if (!user.authenticated) return html`<a part="sign-in" class="button primary" href=${this.#signInUrl()}>${t.signIn}</a>`
    const name = user.name ?? user.id ?? ''
    const id = this.#id
    return html`
      <button
        part="button"
        class="button trigger"
        id="${id}-button"
        type="button"
        aria-haspopup="menu"
        aria-expanded=${this.open ? 'true' : 'false'}
        aria-controls="${id}-menu"
        @click=${() => (this.open ? this.#close(false) : void this.#show('first'))}
        @keydown=${(e: KeyboardEvent) => this.#onTriggerKey(e)}
      >
        <span part="avatar" class="avatar" aria-hidden="true">${initialsOf(name)}</span>
        <span part="name">${name}</span>
      </button>
      <ul part="menu" role="menu" id="${id}-menu" aria-labelledby="${id}-button" ?hidden=${!this.open} @keydown=${(e: KeyboardEvent) => this.#onMenuKey(e)}>
        <li role="none"><a part="item" role="menuitem" tabindex="-1" href=${this.accountHref}>${t.account}</a></li>
        <li role="none"><button part="item" role="menuitem" tabindex="-1" type="button" @click=${() => void this.#signOut()}>${t.signOut}</button></li>
      </ul>
      <p part="error" class="error" role="alert" aria-live="assertive">${this.error}</p>
    `
  }
}

