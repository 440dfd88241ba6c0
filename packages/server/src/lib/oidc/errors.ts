import { WireAuthError, type WireAuthErrorOptions } from '@wire-auth/core'
import { fromTable } from '../errors.js'

/** `/auth/{provider}/…` names no configured provider. Code `ERR_PROVIDER_NOT_FOUND`. */
export class ProviderNotFound extends WireAuthError {
  constructor(message?: string, options?: WireAuthErrorOptions) {
    super(...fromTable('ERR_PROVIDER_NOT_FOUND', message, options))
  }
}

/**
 * The provider could not be reached or answered nonsense (discovery, token
 * or userinfo endpoint; an issuer that does not match its discovery
 * document). Only that provider is affected. Code `ERR_PROVIDER_UNAVAILABLE`.
 */
export class ProviderUnavailable extends WireAuthError {
  constructor(message: string, options?: WireAuthErrorOptions) {
    super(...fromTable('ERR_PROVIDER_UNAVAILABLE', message, options))
  }
}

/**
 * The callback's `state` is missing, does not match the login cookie of this
 * browser and provider, or the login cookie is missing, forged or expired.
 * Code `ERR_OIDC_STATE_MISMATCH`.
 */
export class OidcStateMismatch extends WireAuthError {
  constructor(message: string, options?: WireAuthErrorOptions) {
    super(...fromTable('ERR_OIDC_STATE_MISMATCH', message, options))
  }
}

/**
 * The provider's answer failed validation (nonce, PKCE, code, issuer,
 * audience, signature) or reported an error such as `access_denied`.
 * The openid-client error is the `cause`. Code `ERR_OIDC_CALLBACK_FAILED`.
 */
export class OidcCallbackFailed extends WireAuthError {
  constructor(message: string, options?: WireAuthErrorOptions) {
    super(...fromTable('ERR_OIDC_CALLBACK_FAILED', message, options))
  }
}

/** OAuth error codes that mean the client is misconfigured, not that the user did wrong. */
const CLIENT_CONFIG_ERRORS = new Set(['invalid_client', 'unauthorized_client', 'unsupported_grant_type'])

function isNetworkFailure(err: unknown): boolean {
  if (err instanceof TypeError) {
    // openid-client's argument errors are coded TypeErrors; fetch's network failures are not.
    const code = (err as { code?: unknown }).code
    return typeof code !== 'string' || !code.startsWith('ERR_INVALID_ARG')
  }
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')
}

function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const status = (err as { status?: unknown }).status
  if (typeof status === 'number') return status
  const cause = (err as { cause?: unknown }).cause
  if (typeof cause === 'object' && cause !== null && typeof (cause as { status?: unknown }).status === 'number') {
    return (cause as { status: number }).status
  }
  return undefined
}

/** The OAuth `error` of a response body error or of a WWW-Authenticate challenge. */
function oauthErrorOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const direct = (err as { error?: unknown }).error
  if (typeof direct === 'string') return direct
  const challenges = (err as { cause?: unknown }).cause
  if (Array.isArray(challenges)) {
    for (const challenge of challenges) {
      const value = (challenge as { parameters?: { error?: unknown } } | null)?.parameters?.error
      if (typeof value === 'string') return value
    }
  }
  return undefined
}

/**
 * Turns an error thrown by openid-client while completing a login into a
 * coded error: the provider being down, broken or rejecting our client
 * credentials is a 502 for that provider; anything about this particular
 * authorization response (nonce, PKCE, code, issuer, audience, signature,
 * `error=access_denied`) is a 400.
 * @internal
 */
export function toCallbackError(err: unknown, provider: string): WireAuthError {
  if (err instanceof WireAuthError) return err
  if (isNetworkFailure(err)) {
    return new ProviderUnavailable(`provider "${provider}" could not be reached`, { cause: err })
  }
  const status = httpStatusOf(err)
  const oauthError = oauthErrorOf(err)
  if (oauthError !== undefined && CLIENT_CONFIG_ERRORS.has(oauthError)) {
    return new ProviderUnavailable(`provider "${provider}" rejected the client (${oauthError}); check clientId and clientSecret`, { cause: err })
  }
  if (status !== undefined && status >= 500) {
    return new ProviderUnavailable(`provider "${provider}" answered HTTP ${status}`, { cause: err })
  }
  const detail = oauthError !== undefined ? ` (${oauthError})` : ''
  return new OidcCallbackFailed(`the sign-in with "${provider}" could not be completed${detail}`, { cause: err })
}
