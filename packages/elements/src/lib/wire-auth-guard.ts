import type { PropertyDeclarations } from '@lit/reactive-element'
import type { RegionSpec } from './connection.js'
import { MAX_REGION_URL, type RegionResult } from '@wire-auth/core'
import { SpecError, WireAuthElement } from './wire-auth-element.js'

/**
 * Guards a page. While authorizing it shows its `slot="pending"` (or
 * unslotted) children. When the server answers `redirect` it calls
 * `location.replace()` with the server-chosen location (the `redirect`
 * attribute if the server accepts it, else the login URL with `returnTo`);
 * when allowed it renders the named fragment, if any, in light DOM. It stays
 * live: a revoked session or claim redirects at once.
 *
 * @element wire-auth-guard
 * @attr {string} policy - A named policy that must allow.
 * @attr {string} claims - Claims that must hold: `role=admin, beta` or JSON pairs.
 * @attr {string} redirect - Where to send a denied visitor (checked by the server).
 * @attr {string} fragment - Server fragment to render once allowed.
 * @attr {string} params - JSON object handed to the fragment's policies, `load` and `render`.
 * @attr {string} backend - Backend URL; default: where the bundle came from.
 * @slot pending - Shown while authorizing (unslotted children too).
 * @slot else - Shown if the server denies without a redirect.
 * @slot allowed - `<template slot="allowed">`: protected markup written in place. Only on a page the
 *   backend serves (`staticRoot`, `app.page()`), which cuts it out and sends it after the guard allowed; on
 *   any other page it is never shown and the element fails closed (`ERR_PROTECTED_MARKUP_UNPROCESSED`).
 * @slot denied - `<template slot="denied">`: the same, for the denied branch (sent only on denial).
 * @fires {CustomEvent<WireAuthChangeDetail>} wire-auth-change - The status or content changed.
 * @fires {CustomEvent<WireAuthDeniedDetail>} wire-auth-denied - The guard denied (fired before redirecting).
 * @fires {CustomEvent<WireAuthErrorDetail>} wire-auth-error - The request failed; the guard fails closed.
 * @example
 * ```html
 * <wire-auth-guard policy="AdminOnly" fragment="admin-dashboard">
 *   <p>Checking your access…</p>
 * </wire-auth-guard>
 * ```
 */
export class WireAuthGuard extends WireAuthElement {
  static override properties: PropertyDeclarations = { redirect: {} }

  /** Where to send a denied visitor; the server only accepts safe, allowed locations. */
  declare redirect: string | undefined

  protected readonly kind = 'guard'

  protected override buildSpec(): RegionSpec {
    const spec = super.buildSpec()
    const redirect = this.redirect
    if (redirect !== undefined && (redirect.trim() === '' || redirect.length > MAX_REGION_URL)) {
      throw new SpecError('ERR_GUARD_SPEC_INVALID', `"redirect" must be 1..${MAX_REGION_URL} characters`)
    }
    // Without the #fragment (issue 13 C7): it may hold what the page keeps out
    // of requests on purpose (an OAuth implicit-flow token, a share secret),
    // and the login URL would carry it to the server, its logs and the referrer.
    const returnTo = location.href.split('#', 1)[0]
    return { ...spec, redirect: redirect?.trim(), returnTo: returnTo.length > MAX_REGION_URL ? undefined : returnTo }
  }

  override apply(result: RegionResult): void {
    super.apply(result)
    if (result.status !== 'redirect') return
    // The server chose the location; refuse anything but http(s) anyway.
    let target: URL
    try {
      target = new URL(result.location, document.baseURI)
    } catch {
      return
    }
    if (target.protocol === 'http:' || target.protocol === 'https:') location.replace(target.href)
  }
}
