import { ContextProvider } from '@lit/context'
import { ReactiveElement, type PropertyDeclarations, type PropertyValues } from '@lit/reactive-element'
import { MAX_REGION_STRING, isWireAuthError, parseClaimsAttribute, parseGuardAttributes, parseParams, parseParamsText, type ParamsProblem, type RegionResult, type WireAuthErrorCode } from '@wire-auth/core'
import { getDefaultBackend, toBackendOrigin } from './backend.js'
import type { RegionClient, RegionSpec, WireAuthConnection } from './connection.js'
import { principalContext } from './contexts.js'
import { emit, type RegionStatus } from './events.js'
import { getHub } from './hub.js'
import { sanitizeFragment } from './sanitize.js'
import { diagnose } from './warnings.js'

/** A `params` attribute refused by the one params rule (core's `parseParams`): the element fails closed with its code. */
const refusedParams = new WeakMap<object, ParamsProblem>()

const paramsConverter = {
  fromAttribute(value: string | null): Record<string, unknown> | undefined {
    if (value === null) return undefined
    const parsed = parseParamsText(value)
    if (parsed.ok) return parsed.params
    const marker = Object.freeze({})
    refusedParams.set(marker, parsed)
    return marker
  },
}

/** `slot` values of the in-place protected-markup marker (`<template slot="allowed|denied">`). */
const PROTECTED_SLOTS = new Set(['allowed', 'denied'])
/** Codes already reported in this document's console (each is said once). */
const reported = new Set<WireAuthErrorCode>()

const UNPROCESSED_MESSAGE =
  'holds <template slot="allowed"> (or slot="denied"): protected markup written in place, which only a page ' +
  'served by the wire-auth backend may hold (its staticRoot or app.page()), where the server cuts it out and sends ' +
  'it only after the guard allows. This page did not come through the backend, so that markup reached every ' +
  'visitor: it is not shown and the element is denied. Fix: serve this page with app.page() / staticRoot, or move ' +
  'the content into a server fragment (app.fragment(name, guard, render)) and name it with fragment="name".'

/** A request the element refuses to send; it fails closed with `code`. @internal */
export class SpecError extends Error {
  constructor(readonly code: WireAuthErrorCode, message: string) {
    super(message)
  }
}

/**
 * What `<wire-auth-guard>` and `<wire-auth-region>` share: reading their
 * attributes into a region request, mounting it on the document's shared
 * connection, and showing the server's verdict in light DOM.
 *
 * Inline children are public: those with `slot="pending"` or no slot show
 * while authorizing, those with `slot="else"` on denial. The element renders
 * in light DOM (no shadow root) so the page's CSS styles fragment content;
 * its `status` attribute (`pending`, `allowed`, `denied`, `redirect`)
 * is there for CSS too, and on denial its `code` attribute holds the reason
 * (`ERR_DENIED`, `ERR_FRAGMENT_NOT_FOUND`…). A code that means the site is
 * misconfigured is also explained once in the console, with the fix.
 *
 * @internal Base class; use the concrete elements.
 */
export abstract class WireAuthElement extends ReactiveElement implements RegionClient {
  static override properties: PropertyDeclarations = {
    policy: {},
    claims: {},
    fragment: {},
    params: { converter: paramsConverter },
    backend: {},
  }

  /** A named policy that must also allow (adds to the fragment's own guard). */
  declare policy: string | undefined
  /** Claims that must also hold: `role=admin, beta` or JSON `[["role","admin"]]`. */
  declare claims: string | undefined
  /** Name of the server fragment to render when allowed. */
  declare fragment: string | undefined
  /** Plain JSON object handed to the server's policies, `load` and `render` (attribute: JSON). */
  declare params: Record<string, unknown> | undefined
  /** Backend URL; default: the origin the bundle was loaded from. */
  declare backend: string | undefined

  /** The kind of region request this element sends. */
  protected abstract readonly kind: 'region' | 'guard'

  #status: RegionStatus = 'pending'
  #pending: Node[] | undefined
  #else: Node[] = []
  #connection: WireAuthConnection | undefined
  #id: string | undefined
  #specKey = ''
  #shown = ''
  #unsubscribe: (() => void) | undefined
  /** The page was not processed by the backend: an in-place marker reached the browser. */
  #unprocessed = false
  #principal = new ContextProvider(this, { context: principalContext, initialValue: undefined })

  /** What the element shows now. */
  get status(): RegionStatus {
    return this.#status
  }

  protected override createRenderRoot(): HTMLElement {
    return this
  }

  override connectedCallback(): void {
    super.connectedCallback()
    if (this.#pending === undefined) {
      this.#pending = []
      for (const node of [...this.childNodes]) {
        if (node instanceof HTMLTemplateElement && PROTECTED_SLOTS.has(node.getAttribute('slot') ?? '')) {
          // Never shown, not even by a later re-render: it fails closed (see buildSpec).
          node.remove()
          this.#unprocessed = true
          continue
        }
        ;(node instanceof Element && node.getAttribute('slot') === 'else' ? this.#else : this.#pending).push(node)
      }
      if (this.#unprocessed && !reported.has('ERR_PROTECTED_MARKUP_UNPROCESSED')) {
        reported.add('ERR_PROTECTED_MARKUP_UNPROCESSED')
        console.error(`wire-auth ERR_PROTECTED_MARKUP_UNPROCESSED: <${this.localName}> ${UNPROCESSED_MESSAGE}`, this)
      }
      this.#setStatus('pending', this.#pending)
    }
    if (this.hasAttribute('token')) {
      // Issue 13 C3: a token in markup switched the whole connection and stayed
      // readable by every script on the page. It is ignored and removed.
      this.removeAttribute('token')
      if (!reported.has('ERR_TOKEN_ATTRIBUTE_IGNORED')) {
        reported.add('ERR_TOKEN_ATTRIBUTE_IGNORED')
        console.error('wire-auth ERR_TOKEN_ATTRIBUTE_IGNORED: use WireAuth.setToken() or WireAuth.signIn()', this)
      }
    }
    this.#attach()
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this.#detach()
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (!this.isConnected) return
    if (changed.has('backend') && this.#connection?.origin !== this.#origin()) {
      this.#detach()
      this.#attach()
      return
    }
    this.#remount()
  }

  /** The region request of the current attributes. @throws SpecError */
  protected buildSpec(): RegionSpec {
    if (this.#unprocessed) throw new SpecError('ERR_PROTECTED_MARKUP_UNPROCESSED', `<${this.localName}> ${UNPROCESSED_MESSAGE}`)
    let claims
    try {
      parseGuardAttributes({ policy: this.policy, claims: this.claims })
      claims = this.claims === undefined ? undefined : parseClaimsAttribute(this.claims)
    } catch (err) {
      throw new SpecError(isWireAuthError(err) ? err.code : 'ERR_GUARD_SPEC_INVALID', (err as Error).message)
    }
    let params = this.params
    if (params !== undefined) {
      // The same rule as the server's, whether set as an attribute or a property.
      const parsed = (typeof params === 'object' && params !== null && refusedParams.get(params)) || parseParams(params)
      if (!parsed.ok) throw new SpecError(parsed.code, parsed.message)
      params = parsed.params
    }
    const fragment = this.fragment
    if (fragment !== undefined && (fragment === '' || fragment.length > MAX_REGION_STRING)) {
      throw new SpecError('ERR_VALIDATION', `"fragment" must be 1..${MAX_REGION_STRING} characters`)
    }
    return { kind: this.kind, fragment, policy: this.policy?.trim(), claims, params }
  }

  /** Shows the server's verdict. @internal */
  apply(result: RegionResult): void {
    if (result.status === 'allowed') {
      this.#setStatus('allowed', result.html)
    } else {
      this.#setStatus(result.status, result.status === 'denied' && result.html !== '' ? result.html : this.#else, result.code)
    }
  }

  /** Fails closed: shows the else content and reports the code. @internal */
  fail(code: WireAuthErrorCode, message?: string): void {
    emit(this, 'wire-auth-error', { code, message })
    this.#setStatus('denied', this.#else, code)
  }

  /**
   * Shows `content` (fragment HTML, sanitized, or kept inline nodes) and
   * reports the change. A redirect is shown by the subclass.
   */
  #setStatus(status: RegionStatus, content: string | Node[], code?: WireAuthErrorCode): void {
    const key = `${status}\u0000${typeof content === 'string' ? content : ''}`
    if (key === this.#shown && typeof content === 'string') return
    const changed = key !== this.#shown
    this.#shown = key
    this.#status = status
    this.setAttribute('status', status)
    if (code !== undefined && status !== 'allowed' && status !== 'pending') this.setAttribute('code', code)
    else this.removeAttribute('code')
    if (status !== 'redirect') {
      this.replaceChildren(...(typeof content === 'string' ? [sanitizeFragment(content, this.ownerDocument)] : content))
    }
    if (!changed || status === 'pending') return
    if (code !== undefined && status !== 'allowed') diagnose(code, this, this.#connection?.origin ?? this.#origin())
    emit(this, 'wire-auth-change', { status, code })
    if (code !== undefined && status !== 'allowed') emit(this, 'wire-auth-denied', { code })
  }

  #origin(): string | null {
    return this.backend === undefined ? getDefaultBackend() : toBackendOrigin(this.backend)
  }

  #attach(): void {
    const origin = this.#origin()
    if (origin === null) {
      this.fail('ERR_VALIDATION', '"backend" must be an http(s) URL')
      return
    }
    const connection = (this.#connection = getHub(this).connection(origin))
    this.#principal.setValue(connection.principal)
    this.#unsubscribe = connection.subscribe((principal) => this.#principal.setValue(principal))
    this.#specKey = ''
    this.#remount()
  }

  #detach(): void {
    this.#unsubscribe?.()
    if (this.#id !== undefined) this.#connection?.unmount(this.#id)
    this.#id = this.#connection = this.#unsubscribe = undefined
  }

  #remount(): void {
    const connection = this.#connection
    if (connection === undefined) return
    let spec: RegionSpec
    try {
      spec = this.buildSpec()
    } catch (err) {
      const { code, message } = err instanceof SpecError ? err : new SpecError('ERR_VALIDATION', String(err))
      if (this.#id !== undefined) connection.unmount(this.#id)
      this.#id = undefined
      this.#specKey = ''
      this.fail(code, message)
      return
    }
    const key = JSON.stringify(spec)
    if (key === this.#specKey) return
    this.#specKey = key
    if (this.#id === undefined) this.#id = connection.mount(this, spec)
    else connection.update(this.#id, spec)
  }
}
