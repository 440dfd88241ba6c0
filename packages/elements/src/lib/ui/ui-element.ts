import { css, ReactiveElement, type PropertyDeclarations, type PropertyValues } from '@lit/reactive-element'
import type { PrincipalSummary } from '@wire-auth/core'
import { render, type TemplateResult } from 'lit-html'
import { call, whenWireAuth, type UiWireAuth } from './api.js'
import { mergeStrings, type WireAuthStringOverrides, type WireAuthStrings } from './strings.js'

/**
 * The look every UI element shares, driven by CSS custom properties (set
 * them on the element or any ancestor) and `::part()` for the rest.
 * @internal
 */
export const baseStyles = css`
  :host {
    display: block;
    font: inherit;
    color: var(--wire-auth-text, #1f2328);
    --_accent: var(--wire-auth-accent, #2f5bd3);
    --_radius: var(--wire-auth-radius, 8px);
    --_border: var(--wire-auth-border, #c9ced6);
    --_bg: var(--wire-auth-background, #ffffff);
    --_muted: var(--wire-auth-muted, #57606a);
    --_danger: var(--wire-auth-danger, #b42318);
  }
  [hidden] { display: none !important; }
  *, *::before, *::after { box-sizing: border-box; }
  button, input, a { font: inherit; }
  .button {
    display: inline-flex; align-items: center; justify-content: center; gap: .5em;
    padding: .55em 1em; border-radius: var(--_radius); border: 1px solid var(--_border);
    background: var(--_bg); color: inherit; cursor: pointer; text-decoration: none; line-height: 1.2;
  }
  .button.primary { background: var(--_accent); border-color: var(--_accent); color: var(--wire-auth-accent-text, #ffffff); }
  .button.danger { color: var(--_danger); border-color: currentColor; }
  .button:disabled { opacity: .6; cursor: default; }
  .button:focus-visible, input:focus-visible, a:focus-visible, [role='menuitem']:focus-visible {
    outline: 3px solid var(--wire-auth-focus, #1a73e8); outline-offset: 2px;
  }
  .error { color: var(--_danger); margin: .5em 0; }
  /* Empty live regions take no room but stay in the accessibility tree, so what appears in them is announced. */
  [role='alert']:empty, [role='status']:empty { margin: 0; }
  .muted { color: var(--_muted); font-size: .9em; }
  .link { background: none; border: 0; padding: 0; color: var(--_accent); text-decoration: underline; cursor: pointer; }
`

/**
 * Base of the UI elements: renders a lit-html template into its shadow
 * root and follows the principal of its backend's shared connection.
 * @internal
 */
export abstract class UiElement extends ReactiveElement {
  static override properties: PropertyDeclarations = {
    backend: {},
    strings: { attribute: false },
    principal: { state: true },
  }

  /** Backend URL; default: the origin the bundle was loaded from. */
  declare backend: string | undefined
  /** Overrides of the element's texts and error messages (see `WireAuthStrings`). */
  declare strings: WireAuthStringOverrides | undefined
  /** The signed-in user's summary, once the server said. */
  declare protected principal: PrincipalSummary | undefined

  protected api: UiWireAuth | undefined
  #unsubscribe: (() => void) | undefined

  /** The texts with the overrides applied. */
  protected get text(): WireAuthStrings {
    return mergeStrings(this.strings)
  }

  /** The backend origin of this element's connection. */
  protected get origin(): string {
    return this.api!.connection(this.backend).origin
  }

  override connectedCallback(): void {
    super.connectedCallback()
    void whenWireAuth().then((api) => {
      if (!this.isConnected || this.#unsubscribe !== undefined) return
      this.api = api
      const connection = api.connection(this.backend)
      this.#unsubscribe = connection.subscribe((principal) => this.#setPrincipal(principal))
      connection.open()
      if (connection.principal !== undefined) this.#setPrincipal(connection.principal)
      // A page with no region mounted hears the principal on the socket only: ask once over
      // HTTP too, so the element is never left blank while the socket is down.
      else void whoAmI(connection.origin).then((principal) => principal !== null && this.principal === undefined && this.#setPrincipal(principal))
    })
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
  }

  #setPrincipal(principal: PrincipalSummary): void {
    const before = this.principal
    this.principal = principal
    if (before?.authenticated !== principal.authenticated || before?.id !== principal.id) this.principalChanged(before)
  }

  /** Called when the user signed in, out, or changed. */
  protected principalChanged(_before: PrincipalSummary | undefined): void {}

  /** After a sign-in or sign-out: every element of this page and of the user's other tabs follows. */
  protected follow(): void {
    this.api?.reconnect(this.backend)
  }

  protected abstract render(): TemplateResult

  protected override update(changed: PropertyValues): void {
    const template = this.render()
    super.update(changed)
    render(template, this.renderRoot as HTMLElement, { host: this })
  }
}

const whoAmIs = new Map<string, Promise<PrincipalSummary | null>>()

/** `GET /auth/me`, once per backend and page load. @internal */
export function whoAmI(origin: string): Promise<PrincipalSummary | null> {
  let pending = whoAmIs.get(origin)
  if (pending === undefined) {
    pending = call(origin, '/auth/me').then((result) => (result.ok && typeof result.body.authenticated === 'boolean' ? (result.body as unknown as PrincipalSummary) : null))
    whoAmIs.set(origin, pending)
  }
  return pending
}

/** Two letters of a name for an avatar. @internal */
export function initialsOf(name: string | null | undefined): string {
  const words = (name ?? '').trim().split(/\s+/).filter(Boolean)
  if (words.length === 0) return '?'
  const letters = words.length === 1 ? [...words[0]!].slice(0, 2) : [[...words[0]!][0], [...words[words.length - 1]!][0]]
  return letters.join('').toUpperCase()
}
