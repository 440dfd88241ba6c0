import { css, type PropertyDeclarations } from '@lit/reactive-element'
import { resolveSafeRedirect } from '@wire-auth/core'
import { html, nothing } from 'lit-html'
import { passkey } from '../lazy.js'
import { call, capabilitiesOf } from './api.js'
import { fill, messageOf } from './strings.js'
import { baseStyles, UiElement } from './ui-element.js'

/** One entry of `GET /auth/providers`. */
interface Provider {
  name: string
  displayName: string
  loginUrl: string
}

let ids = 0

/**
 * Where to go after signing in: `value` if it is safe for this page (the
 * resolver the server applies to every redirect: same origin only, no
 * `//host`, no `javascript:`…), else null. Never back to `loginPath`.
 * @internal
 */
export function safeReturnTo(value: string | null | undefined, loginPath = location.pathname): string | null {
  if (value === null || value === undefined || value === '') return null
  const target = resolveSafeRedirect(value, { baseOrigin: location.origin, allowedOrigins: [] })
  if (target === null) return null
  const url = new URL(target, location.origin)
  return url.pathname === loginPath ? null : url.pathname + url.search + url.hash
}

/**
 * E-mail + password sign-in and sign-up (switchable), a button per
 * OpenID provider the backend lists (`GET /auth/providers`), and "Sign in
 * with a passkey" when the backend offers passkeys. After signing
 * in, every wire-auth element of the page and of the user's other tabs
 * updates without a reload; then the page goes to `?returnTo=` (checked
 * with `resolveSafeRedirect`) or the `return-to` attribute, if any.
 *
 * @element wire-auth-sign-in
 * @attr {"sign-in" | "sign-up" | "reset"} mode - Which form shows first. Default `sign-in`. `reset`: the page a
 *   password-reset mail links to (`mail.resetPasswordUrl`): reads `#token=` (and removes it from the
 *   address bar), asks for the new password, then shows the sign-in form.
 * @attr {string} return-to - Where to go after signing in when the URL has no safe `returnTo`. Default: stay.
 * @attr {string} forgot-href - A "Forgot your password?" link to this URL (shown only when set).
 * @attr {boolean} no-sign-up - Hides the switch to sign-up (registration closed).
 * @attr {string} backend - Backend URL. Default: the bundle's origin.
 * @fires wire-auth-signed-in - `{ user: { id, email, name } }` after a successful sign-in or sign-up.
 * @csspart form - the form
 * @csspart title - the heading
 * @csspart label - each field label
 * @csspart input - each field
 * @csspart submit - the submit button
 * @csspart switch - the sign-in / sign-up switch
 * @csspart forgot - the "Forgot your password?" link or button
 * @csspart status - a result message (`aria-live` polite), e.g. "a link is on its way"
 * @csspart error - the error message (an `aria-live` alert)
 * @csspart providers - the provider buttons' box
 * @csspart provider - each provider button (a link)
 * @csspart passkey - the "Sign in with a passkey" button (when the server offers passkeys)
 * @csspart signed-in - what shows when already signed in
 */
export class WireAuthSignIn extends UiElement {
  static override properties: PropertyDeclarations = {
    ...UiElement.properties,
    mode: { reflect: true },
    returnTo: { attribute: 'return-to' },
    forgotHref: { attribute: 'forgot-href' },
    noSignUp: { attribute: 'no-sign-up', type: Boolean },
    providers: { state: true },
    canReset: { state: true },
    canPasskey: { state: true },
    forgot: { state: true },
    status: { state: true },
    error: { state: true },
    busy: { state: true },
  }

  static override styles = [
    baseStyles,
    css`
      form { display: grid; gap: .35em; }
      h2 { margin: 0 0 .4em; font-size: 1.25em; }
      label { font-weight: 600; margin-top: .4em; }
      input { padding: .55em .7em; border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_bg); color: inherit; width: 100%; }
      .submit { margin-top: .8em; width: 100%; }
      .providers { display: grid; gap: .5em; margin-top: 1em; }
      .providers .button { width: 100%; }
      .divider { text-align: center; color: var(--_muted); font-size: .9em; margin-top: 1em; }
      .row { margin-top: .8em; display: flex; justify-content: space-between; gap: 1em; flex-wrap: wrap; }
    `,
  ]

  /** Which form shows. */
  declare mode: 'sign-in' | 'sign-up' | 'reset'
  /** Where to go after signing in (when the URL has no safe `returnTo`). */
  declare returnTo: string | undefined
  /** URL of a password-reset page; shows "Forgot your password?" when set. */
  declare forgotHref: string | undefined
  /** Hides the switch to sign-up. */
  declare noSignUp: boolean
  declare private providers: Provider[]
  /** The server mails password-reset links (`passwordReset` capability). */
  declare private canReset: boolean
  /** The server signs in with passkeys (`passkeys` capability). */
  declare private canPasskey: boolean
  /** The "forgot password" form shows. */
  declare private forgot: boolean
  declare private status: string
  declare private error: string
  declare private busy: boolean
  #id = `wa-sign-in-${++ids}`
  /** The reset link's token (mode `reset`), taken out of the URL. */
  #token: string | null = null

  constructor() {
    super()
    this.mode = 'sign-in'
    this.noSignUp = false
    this.providers = []
    this.canReset = false
    this.canPasskey = false
    this.forgot = false
    this.status = ''
    this.error = ''
    this.busy = false
  }

  override connectedCallback(): void {
    super.connectedCallback()
    // A provider sign-in that failed comes back with ?error=<code> (the provider's errorRedirect).
    const code = new URLSearchParams(location.search).get('error')
    if (code !== null && /^ERR_[A-Z_]{1,60}$/.test(code)) this.error = messageOf(this.text, code)
    if (this.mode === 'reset' && this.#token === null) {
      this.#token = new URLSearchParams(location.hash.slice(1)).get('token')
      // The link's secret leaves the address bar (and so history and later Referer-less copies).
      if (this.#token !== null) history.replaceState(history.state, '', location.pathname + location.search)
      else this.error = messageOf(this.text, 'ERR_LINK_INVALID')
    }
  }

  async #reset(event: SubmitEvent): Promise<void> {
    event.preventDefault()
    if (this.busy) return
    const form = event.currentTarget as HTMLFormElement
    const password = String(new FormData(form).get('password') ?? '')
    this.busy = true
    this.error = this.status = ''
    const result = await call(this.origin, '/auth/account/password/reset', { token: this.#token ?? '', password })
    this.busy = false
    form.reset()
    if (!result.ok) {
      this.error = messageOf(this.text, result.code)
      form.querySelector('input')?.focus()
      return
    }
    this.#token = null
    this.mode = 'sign-in'
    this.status = this.text.passwordReset
    void this.updateComplete.then(() => this.renderRoot.querySelector('input')?.focus())
  }

  protected override principalChanged(): void {
    if (this.providers.length === 0) void this.#loadProviders()
    void capabilitiesOf(this.origin).then((c) => {
      this.canReset = c?.passwordReset === true
      this.canPasskey = c?.passkeys === true
    })
  }

  async #loadProviders(): Promise<void> {
    const result = await call(this.origin, '/auth/providers')
    if (!result.ok || !Array.isArray(result.body.providers)) return
    this.providers = (result.body.providers as Provider[]).filter(
      (p) => typeof p?.name === 'string' && typeof p.displayName === 'string' && typeof p.loginUrl === 'string' && /^https?:/.test(new URL(p.loginUrl, this.origin).protocol),
    )
  }

  /** The safe place to go after signing in, or null to stay. */
  get target(): string | null {
    return safeReturnTo(new URLSearchParams(location.search).get('returnTo')) ?? safeReturnTo(this.returnTo)
  }

  #providerHref(provider: Provider): string {
    const url = new URL(provider.loginUrl, this.origin)
    // The backend accepts its own origin or an allowed one: send an absolute URL of this page's origin.
    url.searchParams.set('returnTo', new URL(this.target ?? location.pathname + location.search, document.baseURI).href)
    return url.href
  }

  #switch(): void {
    this.mode = this.mode === 'sign-up' ? 'sign-in' : 'sign-up'
    this.#focusForm()
  }

  #showForgot(forgot: boolean): void {
    this.forgot = forgot
    this.#focusForm()
  }

  #focusForm(): void {
    this.error = this.status = ''
    void this.updateComplete.then(() => this.renderRoot.querySelector('input')?.focus())
  }

  async #sendReset(event: SubmitEvent): Promise<void> {
    event.preventDefault()
    if (this.busy) return
    const email = String(new FormData(event.currentTarget as HTMLFormElement).get('email') ?? '')
    this.busy = true
    this.error = this.status = ''
    const result = await call(this.origin, '/auth/account/password/forgot', { email })
    this.busy = false
    if (result.ok) this.status = this.text.linkSent
    else this.error = messageOf(this.text, result.code)
  }

  async #submit(event: SubmitEvent): Promise<void> {
    event.preventDefault()
    if (this.busy) return
    const form = event.currentTarget as HTMLFormElement
    const data = new FormData(form)
    const email = String(data.get('email') ?? '')
    const password = String(data.get('password') ?? '')
    const signUp = this.mode === 'sign-up'
    const body: Record<string, unknown> = { email, password }
    if (signUp && String(data.get('name') ?? '').trim() !== '') body.name = String(data.get('name')).trim()
    this.busy = true
    this.error = ''
    const result = await call(this.origin, signUp ? '/auth/local/register' : '/auth/local/login', body)
    this.busy = false
    if (!result.ok) {
      this.error = messageOf(this.text, result.code)
      // Keep the e-mail, clear the password, and put the focus where the user fixes it.
      const field = form.querySelector<HTMLInputElement>(result.code === 'ERR_INVALID_EMAIL' || result.code === 'ERR_ACCOUNT_EXISTS' ? 'input[name=email]' : 'input[name=password]')
      const passwordField = form.querySelector<HTMLInputElement>('input[name=password]')
      if (passwordField !== null) passwordField.value = ''
      field?.focus()
      return
    }
    form.reset()
    // Next time (after signing out) this person signs in rather than up.
    if (signUp) this.mode = 'sign-in'
    if (result.body.verificationRequired === true) {
      // requireVerifiedEmail: no session yet; the mailed link comes first.
      this.status = this.text.verifyFirst
      return
    }
    this.#signedIn(result.body.user)
  }

  /** Signs in with a discoverable passkey (the browser offers the ones it has for this site). */
  async #passkey(): Promise<void> {
    this.busy = true
    this.error = this.status = ''
    const result = await passkey(this.origin, 'login')
    this.busy = false
    // Cancelled in the browser's dialog: the user knows, nothing to announce.
    if (result === null) return
    if (result.ok) this.#signedIn(result.body.user)
    else this.error = messageOf(this.text, result.code)
  }

  #signedIn(user: unknown): void {
    this.follow()
    this.dispatchEvent(new CustomEvent('wire-auth-signed-in', { detail: { user }, bubbles: true, composed: true }))
    const target = this.target
    if (target !== null) location.assign(target)
  }

  #renderReset() {
    const t = this.text
    const id = this.#id
    return html`
      <form part="form" aria-labelledby="${id}-title" aria-describedby="${id}-error" @submit=${(e: SubmitEvent) => void this.#reset(e)}>
        <h2 part="title" id="${id}-title">${t.resetTitle}</h2>
        <label part="label" for="${id}-password">${t.newPassword}</label>
        <input part="input" id="${id}-password" name="password" type="password" autocomplete="new-password" required aria-describedby="${id}-hint">
        <p class="muted" id="${id}-hint">${t.passwordHint}</p>
        <p part="error" class="error" id="${id}-error" role="alert" aria-live="assertive">${this.error}</p>
        <button part="submit" class="button primary submit" type="submit" ?disabled=${this.busy || this.#token === null}>${this.busy ? t.working : t.resetSubmit}</button>
      </form>
    `
  }

  #renderForgot() {
    const t = this.text
    const id = this.#id
    return html`
      <form part="form" aria-labelledby="${id}-title" aria-describedby="${id}-error" @submit=${(e: SubmitEvent) => void this.#sendReset(e)}>
        <h2 part="title" id="${id}-title">${t.forgotTitle}</h2>
        <p class="muted">${t.forgotHint}</p>
        <label part="label" for="${id}-email">${t.email}</label>
        <input part="input" id="${id}-email" name="email" type="email" autocomplete="username" required maxlength="1024">
        <p part="status" class="muted" role="status" aria-live="polite">${this.status}</p>
        <p part="error" class="error" id="${id}-error" role="alert" aria-live="assertive">${this.error}</p>
        <button part="submit" class="button primary submit" type="submit" ?disabled=${this.busy}>${this.busy ? t.working : t.sendLink}</button>
      </form>
      <div class="row"><button part="switch" class="link" type="button" @click=${() => this.#showForgot(false)}>${t.backToSignIn}</button></div>
    `
  }

  protected override render() {
    const t = this.text
    const id = this.#id
    // A reset link works signed in or out (the token is the proof).
    if (this.mode === 'reset') return this.#renderReset()
    const user = this.principal
    if (user?.authenticated === true) {
      return html`<p part="signed-in">${fill(t.signedInAs, { name: user.name ?? user.id ?? '' })}</p>`
    }
    if (this.forgot) return this.#renderForgot()
    const signUp = this.mode === 'sign-up' && !this.noSignUp
    const title = signUp ? t.signUpTitle : t.signInTitle
    return html`
      <form part="form" aria-labelledby="${id}-title" aria-describedby="${id}-error" @submit=${(e: SubmitEvent) => void this.#submit(e)}>
        <h2 part="title" id="${id}-title">${title}</h2>
        ${signUp
          ? html`<label part="label" for="${id}-name">${t.name}</label>
              <input part="input" id="${id}-name" name="name" autocomplete="name" maxlength="256">`
          : nothing}
        <label part="label" for="${id}-email">${t.email}</label>
        <input part="input" id="${id}-email" name="email" type="email" autocomplete="${signUp ? 'email' : 'username'}" required maxlength="1024">
        <label part="label" for="${id}-password">${t.password}</label>
        <input part="input" id="${id}-password" name="password" type="password" autocomplete="${signUp ? 'new-password' : 'current-password'}" required aria-describedby=${signUp ? `${id}-hint` : nothing}>
        ${signUp ? html`<p class="muted" id="${id}-hint">${t.passwordHint}</p>` : nothing}
        <p part="status" class="muted" role="status" aria-live="polite">${this.status}</p>
        <p part="error" class="error" id="${id}-error" role="alert" aria-live="assertive">${this.error}</p>
        <button part="submit" class="button primary submit" type="submit" ?disabled=${this.busy} aria-busy=${this.busy ? 'true' : 'false'}>
          ${this.busy ? t.working : signUp ? t.signUp : t.signIn}
        </button>
      </form>
      ${this.canPasskey && !signUp
        ? html`<button part="passkey" class="button submit" type="button" ?disabled=${this.busy} @click=${() => void this.#passkey()}>${t.signInWithPasskey}</button>`
        : nothing}
      <div class="row">
        ${this.noSignUp ? nothing : html`<button part="switch" class="link" type="button" @click=${() => this.#switch()}>${signUp ? t.toSignIn : t.toSignUp}</button>`}
        ${signUp
          ? nothing
          : this.forgotHref !== undefined
            ? html`<a part="forgot" href=${this.forgotHref}>${t.forgotPassword}</a>`
            : this.canReset
              ? html`<button part="forgot" class="link" type="button" @click=${() => this.#showForgot(true)}>${t.forgotPassword}</button>`
              : nothing}
      </div>
      ${this.providers.length === 0
        ? nothing
        : html`<p class="divider">${t.orContinueWith}</p>
            <div part="providers" class="providers">
              ${this.providers.map(
                (p) => html`<a part="provider" class="button" data-provider=${p.name} href=${this.#providerHref(p)}>${fill(t.continueWith, { provider: p.displayName })}</a>`,
              )}
            </div>`}
    `
  }
}
