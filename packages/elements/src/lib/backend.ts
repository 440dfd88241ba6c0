/**
 * Where the wire-auth backend lives. The bundle is served by the backend
 * (`<script type="module" src="https://auth.example.com/wire-auth.js">`), so
 * the origin of this module's own URL is the right default. Applications
 * that bundle `@wire-auth/elements` themselves call
 * `WireAuth.setDefaultBackend()` or set a `backend` attribute.
 */
let defaultBackend: string | undefined

function moduleOrigin(): string {
  try {
    const origin = new URL(import.meta.url).origin
    if (origin.startsWith('http')) return origin
  } catch {
    // Not a hierarchical URL (blob:, data:): fall through to the page.
  }
  return location.origin
}

/**
 * Normalises a backend URL to its origin (`https://auth.example.com`).
 * Relative values resolve against the document; only http(s) is accepted.
 *
 * @returns The origin, or null when `value` is not an http(s) URL.
 */
export function toBackendOrigin(value: string): string | null {
  try {
    const url = new URL(value, document.baseURI)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null
  } catch {
    return null
  }
}

/** The backend used by elements without a `backend` attribute. */
export function getDefaultBackend(): string {
  return (defaultBackend ??= moduleOrigin())
}

/**
 * Changes the backend used by elements without a `backend` attribute.
 * Call it before the first element connects.
 *
 * @throws TypeError when `url` is not an http(s) URL.
 */
export function setDefaultBackend(url: string): void {
  const origin = toBackendOrigin(url)
  if (origin === null) throw new TypeError('setDefaultBackend() needs an http(s) URL')
  defaultBackend = origin
}
