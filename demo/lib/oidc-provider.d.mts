import type { Server } from 'node:http'
import type Provider from 'oidc-provider'

/** A client registered at the test provider. */
export interface TestOidcClient {
  clientId: string
  /** Omit for a public client (`token_endpoint_auth_method: none`). */
  clientSecret?: string
  /** Exact redirect URIs, e.g. `${backendUrl}/auth/demo/callback`. */
  redirectUris: string[]
  /** Default `client_secret_basic`, or `none` without a secret. */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | 'none'
}

/** Claims of one account, returned for the scopes granted (`sub` is added). */
export type TestAccountClaims = Record<string, unknown>

export interface StartOidcProviderOptions {
  /** Default `127.0.0.1`. */
  host?: string
  /** Default 0 (a free port). */
  port?: number
  /** Shortcut for one client: default id `wire-auth-test`. */
  clientId?: string
  /** Default `wire-auth-test-secret`. */
  clientSecret?: string
  /** Redirect URIs of the shortcut client. */
  redirectUris?: string[]
  /** Several clients instead of the shortcut one. */
  clients?: TestOidcClient[]
  /**
   * Claims per account id. The dev login form accepts any login; an unknown
   * account gets `{ email: '<login>@example.test', email_verified: true, name: '<login>' }`.
   */
  accounts?: Record<string, TestAccountClaims>
  /**
   * `form` (default): oidc-provider's dev interactions (a login form taking
   * any login/password, then a consent form). `auto`: every interaction is
   * completed at once for `autoLogin`, with consent — no forms.
   */
  login?: 'form' | 'auto'
  /** Account id for `login: 'auto'`, or a function of the interaction details. Default `demo-user`. */
  autoLogin?: string | ((details: unknown) => string | Promise<string>)
  /**
   * Put scope claims (email, name…) in the ID token, as Google does. Default
   * true; false leaves them to the userinfo endpoint (oidc-provider's default).
   */
  idTokenClaims?: boolean
  /** Merged over the helper's oidc-provider configuration. */
  configuration?: Record<string, unknown>
  /** Receives provider-side errors (server_error, failed auto interactions). */
  onError?: (err: unknown) => void
}

export interface TestOidcProvider {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  issuer: string
  port: number
  provider: Provider
  server: Server
  clientId: string
  clientSecret: string | undefined
  /** Replaces the claims of an account (takes effect at its next login). */
  setAccount(accountId: string, claims: TestAccountClaims): void
  /** Closes the server and every open connection. */
  close(): Promise<void>
}

/** Starts oidc-provider on loopback with a test client. */
export function startOidcProvider(options?: StartOidcProviderOptions): Promise<TestOidcProvider>

/**
 * A plain `http.Server` listening on a free port, to learn a backend's URL
 * before building it (Fastify `serverFactory`).
 */
export function listenOnFreePort(host?: string): Promise<{ server: Server; port: number; url: string }>
