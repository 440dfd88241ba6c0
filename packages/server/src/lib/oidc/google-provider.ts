import { InvalidOption } from '@wire-auth/core'
import type { ClaimMapper, ProviderClaims } from './claims-mapping.js'
import { OidcCallbackFailed } from './errors.js'
import { OidcProvider } from './oidc-provider.js'

/** Options of {@link GoogleProvider}. */
export interface GoogleProviderOptions {
  /** OAuth client id from the Google Cloud console ("Web application"). */
  clientId: string
  clientSecret: string
  /** Default `google` (so the callback is `/auth/google/callback`). */
  name?: string
  /** Default `Google`. */
  displayName?: string
  /** Default `['openid', 'email', 'profile']`. */
  scopes?: string[]
  /** See {@link OidcProviderOptions.mapClaims}. */
  mapClaims?: ClaimMapper
  /** See {@link OidcProviderOptions.claimTypes}. */
  claimTypes?: string[]
  /**
   * Only accept accounts of this Google Workspace domain: sent as `hd` and
   * checked against the ID token's `hd` claim (the parameter alone is only
   * a hint).
   */
  hostedDomain?: string
  /** Extra parameters, e.g. `{ prompt: 'select_account' }`. */
  authorizationParams?: Record<string, string>
  /** See {@link OidcProviderOptions.errorRedirect}. */
  errorRedirect?: string
  /** See {@link OidcProviderOptions.timeoutMs}. */
  timeoutMs?: number
}

/**
 * "Sign in with Google": an {@link OidcProvider} preset for
 * `https://accounts.google.com`. Google puts `email`, `email_verified` and
 * `name` in the ID token, so no userinfo request is made.
 *
 * @example
 * ```ts
 * new GoogleProvider({ clientId: process.env.GOOGLE_CLIENT_ID!, clientSecret: process.env.GOOGLE_CLIENT_SECRET! })
 * ```
 * @throws `ERR_INVALID_OPTION` for malformed options.
 */
export class GoogleProvider extends OidcProvider {
  /** The Workspace domain accounts must belong to, if any. */
  readonly hostedDomain: string | undefined

  constructor(options: GoogleProviderOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidOption('GoogleProvider options must be an object')
    const { hostedDomain, authorizationParams, ...rest } = options
    if (hostedDomain !== undefined && (typeof hostedDomain !== 'string' || !/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(hostedDomain))) {
      throw new InvalidOption('GoogleProvider "options.hostedDomain" must be a domain name')
    }
    super({
      ...rest,
      name: options.name ?? 'google',
      displayName: options.displayName ?? 'Google',
      issuer: 'https://accounts.google.com',
      userInfo: false,
      authorizationParams: hostedDomain === undefined ? authorizationParams : { ...authorizationParams, hd: hostedDomain },
    })
    this.hostedDomain = hostedDomain?.toLowerCase()
  }

  protected override verifyClaims(claims: ProviderClaims): void {
    super.verifyClaims(claims)
    if (this.hostedDomain !== undefined && (typeof claims.hd !== 'string' || claims.hd.toLowerCase() !== this.hostedDomain)) {
      throw new OidcCallbackFailed(`the Google account is not in the "${this.hostedDomain}" domain`)
    }
  }
}
