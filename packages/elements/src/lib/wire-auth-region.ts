import type { RegionSpec } from './connection.js'
import { SpecError, WireAuthElement } from './wire-auth-element.js'

/**
 * A part of the page the server decides about. While authorizing it shows
 * its `slot="pending"` (or unslotted) children; when allowed, the named
 * server fragment, rendered in light DOM; when denied, the fragment's else
 * output or its own `slot="else"` children. It re-renders live when the
 * user's claims or session change.
 *
 * @element wire-auth-region
 * @attr {string} fragment - Name of the server fragment (required).
 * @attr {string} policy - A named policy that must also allow.
 * @attr {string} claims - Claims that must also hold: `role=admin, beta` or JSON pairs.
 * @attr {string} params - JSON object handed to the fragment's policies, `load` and `render`.
 * @attr {string} backend - Backend URL; default: where the bundle came from.
 * @slot pending - Shown while authorizing (unslotted children too).
 * @slot else - Shown on denial when the fragment has no else output.
 * @slot allowed - `<template slot="allowed">`: protected markup written in place. Only on a page the
 *   backend serves (`staticRoot`, `app.page()`), which cuts it out and sends it after the guard allowed; on
 *   any other page it is never shown and the element fails closed (`ERR_PROTECTED_MARKUP_UNPROCESSED`).
 * @slot denied - `<template slot="denied">`: the same, for the denied branch (sent only on denial).
 * @fires {CustomEvent<WireAuthChangeDetail>} wire-auth-change - The status or content changed.
 * @fires {CustomEvent<WireAuthDeniedDetail>} wire-auth-denied - The server denied the region.
 * @fires {CustomEvent<WireAuthErrorDetail>} wire-auth-error - The request failed; the region fails closed.
 * @example
 * ```html
 * <wire-auth-region fragment="beta-panel" policy="BetaTesters" params='{"itemId":"42"}'>
 *   <p slot="pending">Checking access…</p>
 *   <p slot="else">Join the beta to see this.</p>
 * </wire-auth-region>
 * ```
 */
export class WireAuthRegion extends WireAuthElement {
  protected readonly kind = 'region'

  protected override buildSpec(): RegionSpec {
    const spec = super.buildSpec()
    if (spec.fragment === undefined) throw new SpecError('ERR_VALIDATION', 'a region needs a "fragment"')
    return spec
  }
}
