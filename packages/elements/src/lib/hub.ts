import { ContextEvent, ContextProvider } from '@lit/context'
import { getDefaultBackend, setDefaultBackend, toBackendOrigin } from './backend.js'
import { WireAuthConnection } from './connection.js'
import { hubContext, principalContext } from './contexts.js'

/**
 * The connections of one document, one per backend origin. Each document
 * (a tab, or an iframe) has its own hub and so its own socket per backend.
 */
export class WireAuthHub {
  #connections = new Map<string, WireAuthConnection>()
  #root: HTMLElement
  #rootPrincipal: ContextProvider<typeof principalContext> | undefined

  /** @internal use {@link getHub}. */
  constructor(root: HTMLElement) {
    this.#root = root
  }

  /** The shared connection to `origin` (created on first use). */
  connection(origin: string): WireAuthConnection {
    let connection = this.#connections.get(origin)
    if (connection === undefined) {
      connection = new WireAuthConnection(origin, this.#root)
      this.#connections.set(origin, connection)
      if (origin === getDefaultBackend()) {
        const provider = this.#rootPrincipal
        connection.subscribe((principal) => provider?.setValue(principal))
      }
    }
    return connection
  }

  /** @internal */
  provideFrom(root: HTMLElement): void {
    new ContextProvider(root, { context: hubContext, initialValue: this })
    this.#rootPrincipal = new ContextProvider(root, { context: principalContext, initialValue: undefined })
  }
}

const hubs = new WeakMap<Document, WireAuthHub>()

/**
 * The hub for `element`'s document: the one a provider above it answers
 * with (possibly another copy of this library), else this copy's hub for
 * that document, provided from `document.documentElement` on first use.
 * @internal
 */
export function getHub(element: Element): WireAuthHub {
  let hub: WireAuthHub | undefined
  element.dispatchEvent(new ContextEvent(hubContext, element, (value) => (hub = value), false))
  if (hub !== undefined) return hub
  const doc = element.ownerDocument
  hub = hubs.get(doc)
  if (hub === undefined) {
    hub = new WireAuthHub(doc.documentElement)
    hub.provideFrom(doc.documentElement)
    hubs.set(doc, hub)
  }
  return hub
}

function connectionFor(backend?: string): WireAuthConnection {
  const origin = backend === undefined ? getDefaultBackend() : toBackendOrigin(backend)
  if (origin === null) throw new TypeError('the backend must be an http(s) URL')
  return getHub(document.body ?? document.documentElement).connection(origin)
}

/**
 * Page-level controls of wire-auth.
 *
 * @example
 * ```js
 * import { WireAuth } from 'https://auth.example.com/wire-auth.js'
 * // Cross-site page without third-party cookies: present a local IdP token.
 * WireAuth.setToken(accessToken)
 * ```
 */
export const WireAuth = {
  /** The shared connection to `backend` (default: the backend the bundle came from). */
  connection: connectionFor,
  /**
   * Token mode: sends `{ t: 'auth', token }` as the first message of the
   * socket (reconnecting now if needed) and `Authorization: Bearer` on the
   * HTTP fallback. `null` returns to cookie mode.
   */
  setToken(token: string | null, backend?: string): void {
    connectionFor(backend).setToken(token)
  },
  /**
   * Reconnects to `backend` and re-mounts every region: call it after
   * signing in or out with `fetch`, so the socket picks up the new session.
   */
  reconnect(backend?: string): void {
    connectionFor(backend).reconnect()
  },
  /** The backend of elements without a `backend` attribute. */
  setDefaultBackend,
} as const
