import type { FastifyInstance, FastifyReply } from 'fastify'
import type { AuthContext } from '../context.js'
import { isCodeChallenge } from './authorization-codes.js'
import type { LocalIdp, ResolvedLocalIdpOptions } from './local-idp.js'
import { installOAuthErrorHandler } from './oauth-errors.js'
import { routeLimits } from './route-limits.js'
import { principalOf, sessionIdOf } from '../request-state.js'
import { codedError } from '../errors.js'

/** Paths of the local IdP's OAuth endpoints, relative to `publicUrl`. */
export const OAUTH_PATHS = {
  authorization: '/auth/local/authorize',
  token: '/auth/local/token',
  revocation: '/auth/local/revoke',
  introspection: '/auth/local/verify-token',
  jwks: '/.well-known/jwks.json',
  sessionToken: '/auth/local/session-token',
} as const

/**
 * Authorization server metadata (RFC 8414), also served as OpenID Connect
 * discovery. wire-auth issues access tokens (RFC 9068 JWTs) and refresh
 * tokens, no ID tokens: `openid` is accepted as a scope so OpenID relying
 * parties can use the endpoints, and the access token's `sub` is the user.
 */
export interface AuthorizationServerMetadata {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  revocation_endpoint: string
  introspection_endpoint?: string
  jwks_uri: string
  response_types_supported: string[]
  response_modes_supported: string[]
  grant_types_supported: string[]
  code_challenge_methods_supported: string[]
  token_endpoint_auth_methods_supported: string[]
  revocation_endpoint_auth_methods_supported: string[]
  introspection_endpoint_auth_methods_supported?: string[]
  scopes_supported: string[]
  subject_types_supported: string[]
  id_token_signing_alg_values_supported: string[]
  authorization_response_iss_parameter_supported: boolean
}

/** The metadata document of a local IdP mounted at `publicUrl`. @internal */
export function authorizationServerMetadata(publicUrl: string, options: ResolvedLocalIdpOptions): AuthorizationServerMetadata {
  const at = (path: string) => `${publicUrl}${path}`
  const metadata: AuthorizationServerMetadata = {
    issuer: options.issuer,
    authorization_endpoint: at(OAUTH_PATHS.authorization),
    token_endpoint: at(OAUTH_PATHS.token),
    revocation_endpoint: at(OAUTH_PATHS.revocation),
    jwks_uri: at(OAUTH_PATHS.jwks),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: [...options.grants],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    scopes_supported: ['openid'],
    subject_types_supported: ['public'],
    // Required by OpenID discovery; no ID token is issued, access tokens use this algorithm.
    id_token_signing_alg_values_supported: [options.signingAlg],
    authorization_response_iss_parameter_supported: true,
  }
  if (options.resourceServers.length > 0) {
    metadata.introspection_endpoint = at(OAUTH_PATHS.introspection)
    metadata.introspection_endpoint_auth_methods_supported = ['client_secret_basic']
  }
  return metadata
}

interface AuthorizeQuery {
  response_type?: string
  client_id?: string
  redirect_uri?: string
  state?: string
  scope?: string
  code_challenge?: string
  code_challenge_method?: string
  nonce?: string
  prompt?: string
}

/** `base` with `params` appended to its query (RFC 6749 §3.1.2: keep the registered query). */
function withParams(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base)
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value)
  return url.href
}

/**
 * Mounts discovery (`/.well-known/openid-configuration`,
 * `/.well-known/oauth-authorization-server`), the authorization endpoint
 * (`GET /auth/local/authorize`, code flow with PKCE S256) and
 * `POST /auth/local/session-token` (a short-lived access token for the
 * signed-in session, for same-site pages' `WireAuth.getToken()`).
 *
 * Hand-written rather than `oidc-provider` mounted with an adapter: wire-auth
 * already owns the sign-in (sessions, every method), the tokens every
 * transport verifies (fast-jwt, `tokensMinVersion`, the denylist), the keys in
 * the store and refresh rotation; the missing piece is one endpoint and one
 * grant. `oidc-provider` would bring a second token format, key set, session
 * and storage model (a generic key-value adapter over the AuthStore) and an
 * engines range without Node 20. The flow is tested with `openid-client` as
 * the relying party.
 * @internal
 */
export async function registerAuthorizationRoutes(scope: FastifyInstance, ctx: AuthContext, idp: LocalIdp): Promise<void> {
  const options = idp.options
  const publicUrl = ctx.options.publicUrl
  const clients = new Map(options.clients.map((c) => [c.clientId, c]))
  const metadata = authorizationServerMetadata(publicUrl, options)
  const { lenient } = routeLimits(options)

  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    scope.get(path, { config: { wireAuth: 'public' } }, async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      reply.header('access-control-allow-origin', '*')
      return metadata
    })
  }

  await scope.register(async function authorizeRoutes(oauth) {
    installOAuthErrorHandler(oauth, { authenticatesClients: false })
    oauth.addHook('onSend', async (_request, reply, payload) => {
      reply.header('cache-control', 'no-store')
      reply.header('referrer-policy', 'no-referrer')
      return payload
    })

    const str = (max: number) => ({ type: 'string', maxLength: max })
    oauth.get<{ Querystring: AuthorizeQuery }>(
      OAUTH_PATHS.authorization,
      {
        ...lenient,
        schema: {
          querystring: {
            type: 'object',
            properties: {
              response_type: str(64),
              client_id: str(256),
              redirect_uri: str(2048),
              state: str(1024),
              scope: str(1024),
              code_challenge: str(256),
              code_challenge_method: str(32),
              nonce: str(1024),
              prompt: str(64),
            },
          },
        },
      },
      async (request, reply: FastifyReply) => {
        const q = request.query
        // RFC 6749 §4.1.2.1: an unknown client or a redirect URI not registered
        // for it is told to the user agent, never redirected to.
        const client = q.client_id === undefined ? undefined : clients.get(q.client_id)
        if (client === undefined) throw codedError('ERR_INVALID_CLIENT', 'unknown client_id')
        if (q.redirect_uri === undefined || !client.redirectUris.includes(q.redirect_uri)) {
          throw codedError('ERR_INVALID_REDIRECT_URI', 'redirect_uri is not registered for this client (exact match)')
        }
        const redirectUri = q.redirect_uri
        const back = (params: Record<string, string | undefined>) => reply.redirect(withParams(redirectUri, { ...params, state: q.state, iss: options.issuer }), 303)
        if (q.response_type !== 'code') return back({ error: 'unsupported_response_type', error_description: 'response_type must be "code"' })
        if (q.code_challenge_method !== 'S256' || !isCodeChallenge(q.code_challenge)) {
          return back({ error: 'invalid_request', error_description: 'PKCE is required: code_challenge (S256, base64url) and code_challenge_method=S256' })
        }
        // Only a session signs the user in here: a bearer token must not turn into a new token family.
        if (sessionIdOf(request) === null || !principalOf(request).isAuthenticated) {
          if (q.prompt === 'none') return back({ error: 'login_required', error_description: 'no signed-in session' })
          const loginUrl = ctx.options.loginUrl
          const returnTo = `${ctx.options.publicOrigin}${request.url}`
          return reply.redirect(`${loginUrl}${loginUrl.includes('?') ? '&' : '?'}returnTo=${encodeURIComponent(returnTo)}`, 303)
        }
        const userId = principalOf(request).userId as string
        const code = await idp.issueAuthorizationCode({
          clientId: client.clientId,
          redirectUri,
          codeChallenge: q.code_challenge,
          userId,
          scope: q.scope ?? '',
          nonce: q.nonce ?? null,
        })
        await ctx.audit(request, { action: 'authorization.code', actorId: userId, targetId: userId, detail: { clientId: client.clientId } })
        return back({ code })
      },
    )

    oauth.post(OAUTH_PATHS.sessionToken, { ...lenient, bodyLimit: 1024 }, async (request) => {
      // Same-site pages only: the request must say where it comes from, and that must be allowed.
      const origin = request.headers.origin
      if (typeof origin !== 'string' || !ctx.isAllowedOrigin(origin)) throw codedError('ERR_ORIGIN_NOT_ALLOWED', 'a session token needs an allowed Origin')
      if (sessionIdOf(request) === null || !principalOf(request).isAuthenticated) throw codedError('ERR_UNAUTHENTICATED', 'sign-in required')
      const user = await ctx.store.getUser(principalOf(request).userId as string)
      if (user === null || user.disabled) throw codedError('ERR_UNAUTHENTICATED', 'sign-in required')
      return idp.issueAccessToken(user)
    })
  })
}
