import { ContextEvent, ContextProvider } from '@lit/context'
import { getDefaultBackend, setDefaultBackend, toBackendOrigin } from './backend.js'
import { WireAuthConnection } from './connection.js'
import { hubContext, principalContext } from './contexts.js'
import { loadTokens, type TokensModule } from './lazy.js'
import type { SignInOptions } from './tokens.js'

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

function originOf(backend?: string): string {
  const origin = backend === undefined ? getDefaultBackend() : toBackendOrigin(backend)
  if (origin === null) throw new TypeError('the backend must be an http(s) URL')
  return origin
}

function connectionFor(backend?: string): WireAuthConnection {
  return getHub(document.body ?? document.documentElement).connection(originOf(backend))
}

const renewTimers = new Map<string, ReturnType<typeof setTimeout>>()
/** The token helpers once loaded (a page that never asked for a token holds none to forget). */
let loaded: TokensModule | undefined
const tokens = (): Promise<TokensModule> => loadTokens().then((module) => (loaded = module))

/** Presents the code-flow token of `origin` on its connection and renews it before it expires. */
function present(origin: string, token: string | null): void {
  connectionFor(origin).setToken(token)
  clearTimeout(renewTimers.get(origin))
  const at = loaded?.renewAt(origin) ?? null
  if (token !== null && at !== null) renewTimers.set(origin, setTimeout(() => void loaded?.getToken(origin).then((next) => present(origin, next)), Math.max(1000, at - Date.now())))
}

/**
 * Page-level controls of wire-auth.
 *
 * @example
 * ```js
 * import { WireAuth } from 'https://auth.example.com/wire-auth.js'
 * // Cross-site page without third-party cookies: sign in with the code flow
 * // (popup); the elements then use the token, renewed before it expires.
 * button.onclick = () => WireAuth.signIn({ clientId: 'partner-page', redirectUri: 'https://partner.example/signed-in.html' })
 * // Same-site page calling its own API with the user's identity:
 * const token = await WireAuth.getToken()
 * await fetch('/api/orders', { headers: { authorization: `Bearer ${token}` } })
 * ```
 */
export const WireAuth = {
  /** The shared connection to `backend` (default: the backend the bundle came from). */
  connection: connectionFor,
  /**
   * Token mode: sends `{ t: 'auth', token }` as the first message of the
   * socket (reconnecting now if needed) and `Authorization: Bearer` on the
   * HTTP fallback. `null` returns to cookie mode. The token stays in memory:
   * prefer this (or {@link WireAuth.signIn}) to putting a token in markup,
   * where every script and extension on the page can read it.
   */
  setToken(token: string | null, backend?: string): void {
    connectionFor(backend).setToken(token)
  },
  /**
   * A short-lived access token (RFC 9068 JWT) for calling your own API with
   * the user's identity: the code-flow token after {@link WireAuth.signIn},
   * else one minted from the session cookie (`POST
   * /auth/local/session-token`, same-site pages whose origin is allowed).
   * Kept in memory, renewed when less than a minute is left; never written
   * to the DOM. Resolves null when nobody is signed in; rejects with a coded
   * `WireAuthTokenError` otherwise.
   */
  async getToken(backend?: string): Promise<string | null> {
    const origin = originOf(backend)
    return (await tokens()).getToken(origin)
  },
  /**
   * Cross-site sign-in (no third-party cookies needed): the authorization
   * code flow with PKCE in a popup (default; call it from a click) or this
   * tab (`mode: 'redirect'`). The user signs in on the backend any way it
   * offers (password, OpenID provider…); the registered redirect page calls
   * {@link WireAuth.completeSignIn}. The elements then present the token on
   * the socket, renewed with the refresh token before it expires.
   */
  async signIn(options: SignInOptions & { backend?: string }): Promise<string> {
    const origin = originOf(options.backend)
    const token = await (await tokens()).signInWithCode(origin, options)
    present(origin, token)
    return token
  },
  /**
   * Call it on the page registered as `redirectUri`: in the popup it hands
   * the answer back and closes; after a redirect-mode sign-in it finishes
   * it (the elements of this page get the token). Resolves true when it
   * finished a redirect-mode sign-in here.
   */
  async completeSignIn(): Promise<boolean> {
    const { completeCodeSignIn, getToken } = await tokens()
    const origin = await completeCodeSignIn()
    if (origin === null) return false
    void getToken(origin).then((token) => present(origin, token))
    return true
  },
  /** Forgets this page's tokens for `backend` and returns the elements to cookie mode. */
  signOut(backend?: string): void {
    const origin = originOf(backend)
    loaded?.forgetTokens(origin)
    present(origin, null)
  },
  /**
   * Reconnects to `backend` and re-mounts every region: call it after
   * signing in or out with `fetch`, so the socket picks up the new session
   * (and {@link WireAuth.getToken} mints a token for it).
   */
  reconnect(backend?: string): void {
    const origin = originOf(backend)
    loaded?.forgetTokens(origin, true)
    connectionFor(origin).reconnect()
  },
  /** The backend of elements without a `backend` attribute. */
  setDefaultBackend,
} as const
