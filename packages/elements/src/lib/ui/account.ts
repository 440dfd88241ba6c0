import { css, ReactiveElement, type PropertyDeclarations } from '@lit/reactive-element'
import type { PrincipalSummary } from '@wire-auth/core'
import { html, nothing } from 'lit-html'
import { call, capabilitiesOf, whenWireAuth } from './api.js'
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

/**
 * The signed-in user's account: every session (this device marked) with
 * "Sign out" per session and "Sign out everywhere" (`GET /auth/sessions`,
 * `POST /auth/sessions/{id}/revoke`, `/auth/sessions/revoke-all`). A
 * session ended here turns that browser anonymous at once; the list
 * follows sign-in and sign-out live. With the server's `passwordChange`
 * capability, a change-password form. Anonymous visitors see a sign-in hint.
 *
 * @element wire-auth-account
 * @attr {string} backend - Backend URL. Default: the bundle's origin.
 * @fires wire-auth-session-ended - `{ id }` after a session was ended here.
 * @csspart title - the heading
 * @csspart sessions - the list
 * @csspart session - each session (`data-current` on this device's)
 * @csspart current - the "This device" badge
 * @csspart end - each "Sign out this session" button
 * @csspart end-all - the "Sign out everywhere" button
 * @csspart password-form - the change-password form (when the server offers it)
 * @csspart label - each field label of that form
 * @csspart input - each field of that form
 * @csspart submit - its submit button
 * @csspart signed-out - the hint anonymous visitors see
 * @csspart status - the result of the last action (`aria-live` polite)
 * @csspart error - an error (an `aria-live` alert)
 */
export class WireAuthAccount extends UiElement {
  static override properties: PropertyDeclarations = {
    ...UiElement.properties,
    sessions: { state: true },
    canChange: { state: true },
    error: { state: true },
    status: { state: true },
  }

  static override styles = [
    baseStyles,
    css`
      h2 { font-size: 1.15em; margin: 0 0 .6em; }
      ul { list-style: none; margin: 0 0 1em; padding: 0; display: grid; gap: .5em; }
      li { display: flex; align-items: center; justify-content: space-between; gap: 1em; flex-wrap: wrap; padding: .7em .9em; border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_bg); }
      li[data-current] { border-color: var(--_accent); }
      .badge { display: inline-block; margin-left: .5em; padding: .1em .5em; border-radius: 999px; font-size: .8em; background: var(--_accent); color: var(--wire-auth-accent-text, #ffffff); }
      .device { font-weight: 600; }
      .password { display: grid; gap: .35em; max-width: 24em; margin-top: 1.5em; }
      .password input { padding: .55em .7em; border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_bg); color: inherit; }
      .password label { font-weight: 600; margin-top: .4em; }
      .password button { justify-self: start; margin-top: .6em; }
    `,
  ]

  declare private sessions: Session[] | undefined
  /** The server offers password change (`passwordChange` capability). */
  declare private canChange: boolean
  #id = `wa-account-${++ids}`
  declare private error: string
  declare private status: string

  constructor() {
    super()
    this.error = ''
    this.status = ''
    this.canChange = false
  }

  protected override principalChanged(): void {
    this.sessions = undefined
    if (this.principal?.authenticated === true) {
      void this.refresh()
      void capabilitiesOf(this.origin).then((c) => (this.canChange = c?.passwordChange === true))
    }
  }

  async #changePassword(event: SubmitEvent): Promise<void> {
    event.preventDefault()
    const form = event.currentTarget as HTMLFormElement
    const data = new FormData(form)
    this.error = this.status = ''
    const button = form.querySelector('button')
    if (button !== null) button.disabled = true
    const result = await call(this.origin, '/auth/account/password/change', { currentPassword: String(data.get('currentPassword') ?? ''), newPassword: String(data.get('newPassword') ?? '') })
    if (button !== null) button.disabled = false
    if (!result.ok) {
      this.error = result.code === 'ERR_INVALID_CREDENTIALS' ? this.text.wrongCurrentPassword : messageOf(this.text, result.code)
      form.querySelector<HTMLInputElement>(result.code === 'ERR_INVALID_CREDENTIALS' ? 'input[name=currentPassword]' : 'input[name=newPassword]')?.focus()
      return
    }
    form.reset()
    this.status = this.text.passwordChanged
    await this.refresh()
  }

  /** Reloads the session list from the server. */
  async refresh(): Promise<void> {
    const result = await call(this.origin, '/auth/sessions')
    if (result.ok && Array.isArray(result.body.sessions)) {
      this.sessions = result.body.sessions as Session[]
    } else if (!result.ok && result.code !== 'ERR_UNAUTHENTICATED') {
      this.error = messageOf(this.text, result.code)
    }
  }

  async #end(session: Session, button: HTMLButtonElement): Promise<void> {
    this.error = this.status = ''
    button.disabled = true
    const result = session.current ? await call(this.origin, '/auth/logout', {}) : await call(this.origin, `/auth/sessions/${encodeURIComponent(session.id)}/revoke`, {})
    button.disabled = false
    if (!result.ok) {
      this.error = messageOf(this.text, result.code)
      return
    }
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
    this.error = this.status = ''
    button.disabled = true
    const result = await call(this.origin, '/auth/sessions/revoke-all', {})
    button.disabled = false
    if (!result.ok) {
      this.error = messageOf(this.text, result.code)
      return
    }
    this.follow()
  }

  protected override render() {
    const t = this.text
    const user = this.principal
    if (user === undefined) return html`<p class="muted" role="status">${t.loading}</p>`
    if (!user.authenticated) return html`<p part="signed-out">${t.signInRequired}</p>`
    const date = (ms: number) => new Date(ms).toLocaleString()
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
      ${this.canChange
        ? html`<form part="password-form" class="password" aria-labelledby="${this.#id}-pw" @submit=${(e: SubmitEvent) => void this.#changePassword(e)}>
            <h2 part="title" id="${this.#id}-pw">${t.changePassword}</h2>
            <label part="label" for="${this.#id}-current">${t.currentPassword}</label>
            <input part="input" id="${this.#id}-current" name="currentPassword" type="password" autocomplete="current-password" required>
            <label part="label" for="${this.#id}-new">${t.newPassword}</label>
            <input part="input" id="${this.#id}-new" name="newPassword" type="password" autocomplete="new-password" required aria-describedby="${this.#id}-hint">
            <p class="muted" id="${this.#id}-hint">${t.passwordHint}</p>
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
