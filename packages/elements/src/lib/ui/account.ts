import { css, ReactiveElement, type PropertyDeclarations } from '@lit/reactive-element'
import type { PrincipalSummary } from '@wire-auth/core'
import { html, nothing } from 'lit-html'
import { passkey } from '../lazy.js'
import { call, capabilitiesOf, whenWireAuth, type Capabilities } from './api.js'
import { fill, messageOf } from './strings.js'
import { baseStyles, UiElement, whoAmI } from './ui-element.js'

let ids = 0

/** One entry of `GET /auth/sessions`. */
interface Session {
  id: string
  current: boolean
  createdAt: number
  lastSeenAt: number
  userAgent: string | null
}

/** A short device label from a User-Agent: browser and system, no version numbers. @internal */
export function deviceOf(userAgent: string | null): string | null {
  if (userAgent === null || userAgent === '') return null
  const browser = /Edg\//.test(userAgent) ? 'Edge' : /Firefox\//.test(userAgent) ? 'Firefox' : /Chrom(e|ium)\//.test(userAgent) ? 'Chrome' : /Safari\//.test(userAgent) ? 'Safari' : null
  const system = /Android/.test(userAgent) ? 'Android' : /iPhone|iPad/.test(userAgent) ? 'iOS' : /Windows/.test(userAgent) ? 'Windows' : /Mac OS X/.test(userAgent) ? 'macOS' : /Linux/.test(userAgent) ? 'Linux' : null
  if (browser === null && system === null) return userAgent.slice(0, 40)
  return [browser, system].filter(Boolean).join(' on ')
}

/** One entry of `GET /auth/account/identities`. */
interface Identity {
  displayName: string | null
  issuer: string
  linkedAt: number
}

/** One entry of `GET /auth/passkeys`. */
interface Passkey {
  id: string
  name: string
  createdAt: number
  lastUsedAt: number | null
}

/**
 * The signed-in user's account: every session (this device marked) with
 * "Sign out" per session and "Sign out everywhere" (`GET /auth/sessions`,
 * `POST /auth/sessions/{id}/revoke`, `/auth/sessions/revoke-all`). A
 * session ended here turns that browser anonymous at once; the list
 * follows sign-in and sign-out live. Then, as the server offers them
 * (`GET /auth/account/capabilities`): the linked sign-in providers
 * (`GET /auth/account/identities`), passkeys to add, rename and remove
 * (`passkeys`; `/auth/passkeys/*`, the ceremony by `@simplewebauthn/browser`,
 * loaded on the first "Add a passkey"), a change-e-mail form (`emailChange`)
 * and a change-password form (`passwordChange`), both only for an account
 * that has a password. Anonymous visitors see a sign-in hint.
 *
 * @element wire-auth-account
 * @attr {string} backend - Backend URL. Default: the bundle's origin.
 * @fires wire-auth-session-ended - `{ id }` after a session was ended here.
 * @csspart title - each section heading
 * @csspart sessions - the session list
 * @csspart session - each session (`data-current` on this device's)
 * @csspart current - the "This device" badge
 * @csspart end - each "Sign out this session" button
 * @csspart end-all - the "Sign out everywhere" button
 * @csspart identities - the list of linked providers (shown when there is one)
 * @csspart identity - each linked provider
 * @csspart passkeys - the passkey list
 * @csspart passkey - each passkey
 * @csspart rename - each passkey's "Rename" button
 * @csspart remove - each passkey's "Remove" button
 * @csspart add-passkey - the "Add a passkey" button
 * @csspart email-form - the change-e-mail form
 * @csspart password-form - the change-password form
 * @csspart label - each field label of those forms
 * @csspart input - each field of those forms
 * @csspart submit - their submit buttons
 * @csspart signed-out - the hint anonymous visitors see
 * @csspart status - the result of the last action (`aria-live` polite)
 * @csspart error - an error (an `aria-live` alert)
 */
export class WireAuthAccount extends UiElement {
  static override properties: PropertyDeclarations = {
    ...UiElement.properties,
    sessions: { state: true },
    identities: { state: true },
    hasPassword: { state: true },
    passkeys: { state: true },
    caps: { state: true },
    error: { state: true },
    status: { state: true },
  }

  static override styles = [
    baseStyles,
    css`
      h2 { font-size: 1.15em; margin: 1.5em 0 .6em; }
      h2:first-child { margin: 0 0 .6em; }
      ul { list-style: none; margin: 0 0 1em; padding: 0; display: grid; gap: .5em; }
      li { display: flex; align-items: center; justify-content: space-between; gap: 1em; flex-wrap: wrap; padding: .7em .9em; border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_bg); }
      li[data-current] { border-color: var(--_accent); }
      .badge { display: inline-block; margin-left: .5em; padding: .1em .5em; border-radius: 999px; font-size: .8em; background: var(--_accent); color: var(--wire-auth-accent-text, #ffffff); }
      .device { font-weight: 600; }
      form { display: grid; gap: .35em; max-width: 24em; }
      li form { display: flex; flex-wrap: wrap; align-items: center; gap: .5em; max-width: none; width: 100%; }
      li form > span { flex: 1; }
      input { padding: .55em .7em; border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_bg); color: inherit; }
      label { font-weight: 600; margin-top: .4em; }
      form .button { justify-self: start; margin-top: .6em; }
    `,
  ]

  declare private sessions: Session[] | undefined
  declare private identities: Identity[] | undefined
  /** False for an account without a password (made by a provider): no form asks for it. */
  declare private hasPassword: boolean
  declare private passkeys: Passkey[] | undefined
  /** What the server offers (`GET /auth/account/capabilities`), null when it says nothing. */
  declare private caps: Capabilities | null
  #id = `wa-account-${++ids}`
  declare private error: string
  declare private status: string

  constructor() {
    super()
    this.error = ''
    this.status = ''
    this.caps = null
    this.hasPassword = false
  }

  protected override principalChanged(): void {
    this.sessions = this.identities = this.passkeys = undefined
    if (this.principal?.authenticated === true) {
      void this.refresh()
      void capabilitiesOf(this.origin).then((caps) => {
        this.caps = caps
        if (caps?.passkeys === true) void this.#loadPasskeys()
      })
    }
  }

  /** Reloads the session list and the linked providers from the server. */
  async refresh(): Promise<void> {
    const [result, identities] = await Promise.all([call(this.origin, '/auth/sessions'), call(this.origin, '/auth/account/identities')])
    if (identities.ok) this.identities = identities.body.identities as Identity[]
    // A server without the route: offer the forms, as before it.
    this.hasPassword = !identities.ok || identities.body.hasPassword !== false
    if (result.ok && Array.isArray(result.body.sessions)) {
      this.sessions = result.body.sessions as Session[]
    } else if (!result.ok && result.code !== 'ERR_UNAUTHENTICATED') {
      this.error = messageOf(this.text, result.code)
    }
  }

  async #loadPasskeys(): Promise<void> {
    const result = await call(this.origin, '/auth/passkeys')
    if (result.ok) this.passkeys = result.body.passkeys as Passkey[]
  }

  /**
   * POSTs `body` to `path` with `button` disabled meanwhile; on failure shows
   * the code's message (a wrong password as "your current password is not
   * right") and resolves false.
   */
  async #post(button: HTMLButtonElement | null, path: string, body: Record<string, unknown>): Promise<boolean> {
    this.error = this.status = ''
    if (button !== null) button.disabled = true
    const result = await call(this.origin, path, body)
    if (button !== null) button.disabled = false
    if (!result.ok) this.error = result.code === 'ERR_INVALID_CREDENTIALS' ? this.text.wrongCurrentPassword : messageOf(this.text, result.code)
    return result.ok
  }

  /** Submits one of the account forms: its fields as the JSON body. */
  async #submit(event: SubmitEvent, path: string, done: (form: HTMLFormElement, body: Record<string, string>) => unknown): Promise<void> {
    event.preventDefault()
    const form = event.currentTarget as HTMLFormElement
    const body = Object.fromEntries([...new FormData(form)].map(([key, value]) => [key, String(value)]))
    if (await this.#post(form.querySelector('button[type=submit]'), path, body)) {
      form.reset()
      await done(form, body)
    } else {
      // The field to fix: the current password when it was wrong, a refused new password, else the first field.
      const wrong = this.error === this.text.wrongCurrentPassword
      ;(form.querySelector<HTMLInputElement>(wrong ? 'input[type=password]' : '[autocomplete=new-password]') ?? form.querySelector('input'))?.focus()
    }
  }

  async #addPasskey(button: HTMLButtonElement): Promise<void> {
    this.error = this.status = ''
    button.disabled = true
    const result = await passkey(this.origin, 'register', deviceOf(navigator.userAgent) ?? undefined)
    button.disabled = false
    if (result === null) this.error = this.text.passkeyCancelled
    else if (!result.ok) this.error = messageOf(this.text, result.code)
    else {
      this.status = this.text.passkeyAdded
      await this.#loadPasskeys()
    }
  }

  async #passkeyAction(passkey: Passkey, action: 'rename' | 'delete', body: Record<string, unknown>, button: HTMLButtonElement | null): Promise<void> {
    if (await this.#post(button, `/auth/passkeys/${encodeURIComponent(passkey.id)}/${action}`, body)) {
      this.status = action === 'rename' ? this.text.passkeyRenamed : this.text.passkeyRemoved
      await this.#loadPasskeys()
      // A removed passkey's button had the focus and is gone: keep the keyboard user in the section.
      if (action === 'delete') this.renderRoot.querySelector<HTMLElement>('[part~=add-passkey]')?.focus()
    }
  }

  async #end(session: Session, button: HTMLButtonElement): Promise<void> {
    if (!(await this.#post(button, session.current ? '/auth/logout' : `/auth/sessions/${encodeURIComponent(session.id)}/revoke`, {}))) return
    this.dispatchEvent(new CustomEvent('wire-auth-session-ended', { detail: { id: session.id }, bubbles: true, composed: true }))
    if (session.current) {
      this.follow()
      return
    }
    this.status = this.text.sessionEnded
    await this.refresh()
    // The button that had the focus is gone: keep the keyboard user in the list.
    this.renderRoot.querySelector<HTMLElement>('[part~=end], [part~=end-all]')?.focus()
  }

  async #endAll(button: HTMLButtonElement): Promise<void> {
    if (await this.#post(button, '/auth/sessions/revoke-all', {})) this.follow()
  }

  protected override render() {
    const t = this.text
    const user = this.principal
    if (user === undefined) return html`<p class="muted" role="status">${t.loading}</p>`
    if (!user.authenticated) return html`<p part="signed-out">${t.signInRequired}</p>`
    const id = this.#id
    const date = (ms: number) => new Date(ms).toLocaleString()
    const caps = this.caps
    // Each passkey's name is a field of its own small form: edit it and "Rename" submits it.
    const passkeyRow = (p: Passkey, i: number) =>
      html`<li part="passkey"><form @submit=${(e: SubmitEvent) => {
        e.preventDefault()
        const form = e.currentTarget as HTMLFormElement
        void this.#passkeyAction(p, 'rename', { name: new FormData(form).get('name') }, form.querySelector('button'))
      }}>
        <span>
          <input part="input" id="${id}-pk${i}" name="name" .value=${p.name} required maxlength="64" aria-label=${t.passkeyName}>
          <br><span class="muted">${fill(t.passkeyCreated, { date: date(p.createdAt) })}, ${p.lastUsedAt === null ? t.neverUsed : fill(t.lastUsed, { date: date(p.lastUsedAt) })}</span>
        </span>
        <button part="rename" class="button" type="submit" aria-describedby="${id}-pk${i}">${t.rename}</button>
        <button part="remove" class="button danger" type="button" aria-describedby="${id}-pk${i}" @click=${(e: Event) => void this.#passkeyAction(p, 'delete', {}, e.currentTarget as HTMLButtonElement)}>${t.remove}</button>
      </form></li>`
    const field = (name: string, label: string, type: string, autocomplete: string, hint?: string) =>
      html`<label part="label" for="${id}-${name}">${label}</label>
        <input part="input" id="${id}-${name}" name=${name} type=${type} autocomplete=${autocomplete} required aria-describedby=${hint === undefined ? nothing : `${id}-${name}-hint`}>
        ${hint === undefined ? nothing : html`<p class="muted" id="${id}-${name}-hint">${hint}</p>`}`
    return html`
      <h2 part="title">${t.sessions}</h2>
      ${this.sessions === undefined
        ? html`<p class="muted">${t.loading}</p>`
        : html`<ul part="sessions">
            ${this.sessions.map(
              (s) => html`<li part="session" ?data-current=${s.current}>
                <span>
                  <span class="device">${deviceOf(s.userAgent) ?? t.unknownDevice}</span>
                  ${s.current ? html`<span part="current" class="badge">${t.thisDevice}</span>` : nothing}
                  <br><span class="muted">${fill(t.signedInAt, { date: date(s.createdAt) })}, ${fill(t.lastSeen, { date: date(s.lastSeenAt) })}</span>
                </span>
                <button part="end" class="button" type="button" @click=${(e: Event) => void this.#end(s, e.currentTarget as HTMLButtonElement)}>${s.current ? t.signOut : t.endSession}</button>
              </li>`,
            )}
          </ul>`}
      <button part="end-all" class="button danger" type="button" @click=${(e: Event) => void this.#endAll(e.currentTarget as HTMLButtonElement)}>${t.signOutEverywhere}</button>
      ${this.identities?.length
        ? html`<h2 part="title">${t.linkedProviders}</h2>
            <ul part="identities">
              ${this.identities.map((i) => html`<li part="identity"><span><span class="device">${i.displayName ?? i.issuer}</span><br><span class="muted">${fill(t.linkedAt, { date: date(i.linkedAt) })}</span></span></li>`)}
            </ul>`
        : nothing}
      ${caps?.passkeys === true
        ? html`<h2 part="title">${t.passkeys}</h2>
            ${this.passkeys?.length ? html`<ul part="passkeys">${this.passkeys.map(passkeyRow)}</ul>` : html`<p class="muted">${t.noPasskeys}</p>`}
            <button part="add-passkey" class="button primary" type="button" @click=${(e: Event) => void this.#addPasskey(e.currentTarget as HTMLButtonElement)}>${t.addPasskey}</button>`
        : nothing}
      ${caps?.emailChange === true && this.hasPassword
        ? html`<h2 part="title" id="${id}-em">${t.changeEmail}</h2>
            <form part="email-form" aria-labelledby="${id}-em" @submit=${(e: SubmitEvent) => void this.#submit(e, '/auth/account/email/change', (_f, body) => (this.status = fill(t.emailChangeSent, { email: body.email! })))}>
              ${field('email', t.newEmail, 'email', 'email')} ${field('password', t.currentPassword, 'password', 'current-password')}
              <button part="submit" class="button" type="submit">${t.changeEmail}</button>
            </form>`
        : nothing}
      ${caps?.passwordChange === true && this.hasPassword
        ? html`<h2 part="title" id="${id}-pw">${t.changePassword}</h2>
            <form part="password-form" aria-labelledby="${id}-pw" @submit=${(e: SubmitEvent) => void this.#submit(e, '/auth/account/password/change', async () => {
              this.status = t.passwordChanged
              await this.refresh()
            })}>
              ${field('currentPassword', t.currentPassword, 'password', 'current-password')} ${field('newPassword', t.newPassword, 'password', 'new-password', t.passwordHint)}
              <button part="submit" class="button" type="submit">${t.changePassword}</button>
            </form>`
        : nothing}
      <p part="status" class="muted" role="status" aria-live="polite">${this.status}</p>
      <p part="error" class="error" role="alert" aria-live="assertive">${this.error}</p>
    `
  }
}

/**
 * Content for anonymous visitors only (e.g. "Create an account"): shown
 * while nobody is signed in, hidden as soon as someone is, live. Light
 * DOM, so the page styles it. Write it with `hidden` so that it stays
 * hidden until the server said who is there:
 * `<wire-auth-signed-out hidden>…</wire-auth-signed-out>`.
 *
 * @element wire-auth-signed-out
 * @attr {string} backend - Backend URL. Default: the bundle's origin.
 */
export class WireAuthSignedOut extends ReactiveElement {
  static override properties: PropertyDeclarations = { backend: {} }
  /** Backend URL; default: the origin the bundle was loaded from. */
  declare backend: string | undefined
  #unsubscribe: (() => void) | undefined

  protected override createRenderRoot(): HTMLElement {
    return this
  }

  override connectedCallback(): void {
    super.connectedCallback()
    void whenWireAuth().then((api) => {
      if (!this.isConnected || this.#unsubscribe !== undefined) return
      const connection = api.connection(this.backend)
      const show = (principal: PrincipalSummary | undefined) => (this.hidden = principal?.authenticated !== false)
      this.#unsubscribe = connection.subscribe(show)
      connection.open()
      show(connection.principal)
      if (connection.principal === undefined) void whoAmI(connection.origin).then((p) => p !== null && connection.principal === undefined && show(p))
    })
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
  }
}
