import type { PrincipalSummary, WireAuthErrorCode } from '@wire-auth/core'

/** What a guard or region currently shows. */
export type RegionStatus = 'pending' | 'allowed' | 'denied' | 'redirect'

/** Detail of `wire-auth-change`: a region's status or content changed. */
export interface WireAuthChangeDetail {
  status: RegionStatus
  /** Why it was denied (or redirected), when it was. */
  code?: WireAuthErrorCode
}

/** Detail of `wire-auth-denied`: the server denied a region or guard. */
export interface WireAuthDeniedDetail {
  code: WireAuthErrorCode
}

/** Detail of `wire-auth-error`: something failed; the element fails closed. */
export interface WireAuthErrorDetail {
  code: WireAuthErrorCode
  message?: string
}

/** Every wire-auth event and its detail. */
export interface WireAuthEventMap {
  'wire-auth-change': CustomEvent<WireAuthChangeDetail>
  'wire-auth-denied': CustomEvent<WireAuthDeniedDetail>
  'wire-auth-principal': CustomEvent<PrincipalSummary>
  'wire-auth-error': CustomEvent<WireAuthErrorDetail>
}

declare global {
  // Region events are dispatched on the element; connection-level events
  // (principal changes, errors without a region) on `document.documentElement`.
  // All bubble and are composed, so `document` and `window` hear them too.
  interface HTMLElementEventMap extends WireAuthEventMap {}
  interface DocumentEventMap extends WireAuthEventMap {}
  interface WindowEventMap extends WireAuthEventMap {}
}

/**
 * Dispatches a bubbling, composed wire-auth event.
 * @internal
 */
export function emit<K extends keyof WireAuthEventMap>(
  target: EventTarget,
  type: K,
  detail: WireAuthEventMap[K]['detail'],
): void {
  target.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }))
}
