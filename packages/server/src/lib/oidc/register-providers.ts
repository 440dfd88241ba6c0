import type {} from '@fastify/cookie'
import { InvalidOption, isWireAuthError, WireAuthError } from '@wire-auth/core'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { escapeControlChars } from '../control-chars.js'
import type { AuthContext } from '../context.js'
import { Unauthenticated } from '../errors.js'
import { principalOf } from '../request-state.js'
import { linkProviderIdentity } from './account-linking.js'
import { OidcCallbackFailed, OidcStateMismatch, ProviderNotFound } from './errors.js'
import { LOGIN_STATE_TTL_MS, loginStateCookieName, openLoginState, sameString, sealLoginState } from './login-state.js'
import type { AuthProvider } from './oidc-provider.js'
import { providerPayload } from './provider-payload.js'

/** What `GET /auth/providers` lists, and `app.authProviders` holds, per provider. */
export interface ProviderInfo {
  readonly name: string
  readonly displayName: string
  /** Absolute URL of `GET /auth/{name}/login`; add `?returnTo=…`. */
  readonly loginUrl: string
}

/** One entry of `GET /auth/account/identities`: a provider identity linked to the caller. */
export interface LinkedIdentityInfo {
  /** The configured provider of that issuer (its `name`), or null when none is configured any more. */
  readonly provider: string | null
  /** Its `displayName`, or null likewise. */
  readonly displayName: string | null
  /** The issuer identifier. */
  readonly issuer: string
  /** When it was linked (epoch ms). */
  readonly linkedAt: number
}

/** An issuer identifier without its trailing slashes (`URL.href` adds one to a bare origin, an ID token's `iss` may not). */
const issuerKey = (issuer: string): string => issuer.replace(/\/+$/, '')

/** The longest callback query accepted, in characters. */
const MAX_CALLBACK_QUERY = 8192
const MAX_RETURN_TO = 2048

interface MountedProvider {
  provider: AuthProvider
  info: ProviderInfo
  redirectUri: string
  cookieName: string
  cookiePath: string
}

function isAuthProvider(value: unknown): value is AuthProvider {
  if (typeof value !== 'object' || value === null) return false
  const p = value as Partial<AuthProvider>
  return typeof p.name === 'string' && typeof p.displayName === 'string' && typeof p.beginLogin === 'function' &&
    typeof p.completeLogin === 'function' && typeof p.mapClaims === 'function'
}

function rawQuery(request: FastifyRequest): string {
  const url = request.raw.url ?? ''
  const at = url.indexOf('?')
  return at === -1 ? '' : url.slice(at + 1)
}

function withErrorCode(target: string, code: string): string {
  return `${target}${target.includes('?') ? '&' : '?'}error=${encodeURIComponent(code)}`
}

/**
 * Mounts the OpenID Connect routes:
 * - `GET /auth/providers` → `{ providers: [{ name, displayName, loginUrl }] }`
 * - `GET /auth/account/identities` (signed in) → `{ identities: [{ provider, displayName, issuer, linkedAt }], hasPassword }`
 * - `GET /auth/{provider}/login?returnTo=…` → 302 to the provider, with the
 *   state, nonce and PKCE verifier in a signed, HttpOnly cookie bound to
 *   that provider and its callback path
 * - `GET /auth/{provider}/callback` → validates, links the identity by
 *   (issuer, subject), starts a fresh session, 302 to `returnTo` (or `/`).
 *
 * Call it even with no providers (the list is then empty and every
 * `/auth/{x}/login` answers 404 `ERR_PROVIDER_NOT_FOUND`). Needs
 * `@fastify/cookie` registered and an error handler that answers
 * `WireAuthError`s as `{ error: { code, message } }`.
 *
 * @returns the providers, for `app.authProviders`.
 * @throws `ERR_INVALID_OPTION` for a malformed `providers` array, a
 *   duplicate name or an `errorRedirect` off the allowed origins.
 * @internal
 */
export async function registerProviders(app: FastifyInstance, ctx: AuthContext, providers: readonly AuthProvider[] | undefined): Promise<readonly ProviderInfo[]> {
  if (providers !== undefined && !Array.isArray(providers)) throw new InvalidOption('"options.providers" must be an array')
  const base = ctx.options.publicUrl.replace(/\/+$/, '')
  const mounted = new Map<string, MountedProvider>()
  for (const [index, provider] of (providers ?? []).entries()) {
    if (!isAuthProvider(provider)) throw new InvalidOption(`"options.providers[${index}]" must be a GoogleProvider, an OidcProvider or another AuthProvider`)
    if (mounted.has(provider.name)) throw new InvalidOption(`"options.providers[${index}]" repeats the provider name "${provider.name}"`)
    if (provider.errorRedirect !== undefined && ctx.safeRedirect(provider.errorRedirect) === null) {
      throw new InvalidOption(`"options.providers[${index}].errorRedirect" must be an absolute path or a URL on an allowed origin`)
    }
    if (provider.allowInsecureRequests) {
      ctx.log.warn({ provider: provider.name }, 'wire-auth: provider allows plain-http requests (allowInsecureRequests); never use this in production')
    }
    const redirectUri = `${base}/auth/${provider.name}/callback`
    mounted.set(provider.name, {
      provider,
      redirectUri,
      cookieName: loginStateCookieName(provider.name, ctx.options.session.secure),
      // `__Host-` requires Path=/; on plain-http loopback the cookie stays on the callback path.
      cookiePath: ctx.options.session.secure ? '/' : new URL(redirectUri).pathname,
      info: Object.freeze({ name: provider.name, displayName: provider.displayName, loginUrl: `${base}/auth/${provider.name}/login` }),
    })
  }
  const list = Object.freeze([...mounted.values()].map((m) => m.info))

  const lookup = (name: string): MountedProvider => {
    const found = mounted.get(name)
    if (found === undefined) throw new ProviderNotFound(`no provider named "${name.slice(0, 64)}" is configured`)
    return found
  }

  app.get('/auth/providers', { config: { wireAuth: 'public' } }, async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    return { providers: list }
  })

  // The caller's linked provider identities (what <wire-auth-account> lists): which provider
  // and since when. Never the subject: it is the user's id at the provider, of no use to a page.
  const byIssuer = new Map<string, ProviderInfo>()
  for (const m of mounted.values()) {
    const issuer = (m.provider as { issuer?: unknown }).issuer
    if (typeof issuer === 'string' && !byIssuer.has(issuerKey(issuer))) byIssuer.set(issuerKey(issuer), m.info)
  }
  app.get('/auth/account/identities', { config: { wireAuth: 'guarded' } }, async (request, reply) => {
    const principal = principalOf(request)
    if (!principal.isAuthenticated || principal.userId === null) throw new Unauthenticated()
    reply.header('cache-control', 'no-store')
    const [user, linked] = await Promise.all([ctx.store.getUser(principal.userId), ctx.store.listIdentities(principal.userId)])
    if (user === null) throw new Unauthenticated()
    const identities: LinkedIdentityInfo[] = linked.map((identity) => {
      const info = byIssuer.get(issuerKey(identity.issuer))
      return { provider: info?.name ?? null, displayName: info?.displayName ?? null, issuer: identity.issuer, linkedAt: identity.createdAt }
    })
    // Whether the account has a password too: an account made by a provider has none, so the
    // account element offers no form that asks for the current one.
    return { identities, hasPassword: user.passwordHash !== null }
  })

  app.get<{ Params: { provider: string }; Querystring: Record<string, unknown> }>('/auth/:provider/login', { config: { wireAuth: 'public' } }, async (request, reply) => {
    const m = lookup(request.params.provider)
    const returnTo = safeReturnTo(ctx, request, m.provider.name)
    const pending = await m.provider.beginLogin(m.redirectUri)
    const sealed = await sealLoginState(ctx.sealer, {
      provider: m.provider.name,
      state: pending.state,
      nonce: pending.nonce,
      codeVerifier: pending.codeVerifier,
      returnTo,
      expiresAt: Date.now() + LOGIN_STATE_TTL_MS,
    })
    reply.setCookie(m.cookieName, sealed, {
      path: m.cookiePath,
      httpOnly: true,
      secure: ctx.options.session.secure,
      // Lax: the provider sends the browser back with a top-level GET.
      sameSite: 'lax',
      maxAge: LOGIN_STATE_TTL_MS / 1000,
    })
    reply.header('cache-control', 'no-store')
    return reply.redirect(pending.url.href, 302)
  })

  app.get<{ Params: { provider: string } }>('/auth/:provider/callback', { config: { wireAuth: 'public' } }, async (request, reply) => {
    const m = lookup(request.params.provider)
    // One attempt per login: the state cookie goes whatever happens next.
    reply.clearCookie(m.cookieName, { path: m.cookiePath, httpOnly: true, secure: ctx.options.session.secure, sameSite: 'lax' })
    reply.header('cache-control', 'no-store')
    const pending = await openLoginState(ctx.sealer, request.cookies?.[m.cookieName], m.provider.name, Date.now())
    try {
      const query = rawQuery(request)
      if (query.length > MAX_CALLBACK_QUERY) throw new OidcCallbackFailed('the callback query is too long')
      const params = new URLSearchParams(query)
      const states = params.getAll('state')
      if (pending === null) throw new OidcStateMismatch(`no valid login in progress with "${m.provider.name}" in this browser (missing, forged or expired login cookie)`)
      if (states.length !== 1 || !sameString(states[0], pending.state)) throw new OidcStateMismatch('the callback state does not match this browser\'s login')
      const identity = await m.provider.completeLogin(m.redirectUri, params, pending)
      const { user, created } = await linkProviderIdentity(ctx.store, m.provider, identity)
      await ctx.sessions.start(request, reply, user, providerPayload(m.provider.name, identity))
      await ctx.audit(request, {
        action: 'login.success',
        actorId: user.id,
        targetId: user.id,
        detail: { method: 'oidc', provider: m.provider.name, issuer: identity.issuer, created },
      })
      return reply.redirect(ctx.safeRedirect(pending.returnTo) ?? '/', 302)
    } catch (err) {
      return handleCallbackError(ctx, request, reply, m, pending !== null, err)
    }
  })

  return list
}

function safeReturnTo(ctx: AuthContext, request: FastifyRequest<{ Querystring: Record<string, unknown> }>, provider: string): string {
  const value = request.query?.returnTo
  if (value === undefined || value === '') return '/'
  const safe = typeof value === 'string' && value.length <= MAX_RETURN_TO ? ctx.safeRedirect(value) : null
  if (safe === null) {
    ctx.log.warn({ code: 'ERR_REDIRECT_NOT_ALLOWED', provider, returnTo: escapeControlChars(String(value).slice(0, 200)) }, 'wire-auth: unsafe returnTo replaced by "/"')
    return '/'
  }
  return safe
}

async function handleCallbackError(ctx: AuthContext, request: FastifyRequest, reply: FastifyReply, m: MountedProvider, attempted: boolean, err: unknown): Promise<FastifyReply> {
  const coded = err instanceof WireAuthError ? err : new OidcCallbackFailed(`the sign-in with "${m.provider.name}" failed`, { cause: err })
  const level = coded.statusCode >= 500 ? 'error' : 'warn'
  ctx.log[level]({ err: coded, code: coded.code, provider: m.provider.name }, 'wire-auth: provider callback failed')
  // Only real attempts (a valid login cookie of this browser) reach the audit
  // trail, so anonymous hits on the callback URL cannot flood it.
  if (attempted && !isWireAuthError(err, 'ERR_STORE_UNAVAILABLE')) {
    await ctx.audit(request, { action: 'login.failure', actorId: null, targetId: null, detail: { method: 'oidc', provider: m.provider.name, code: coded.code } })
  }
  if (m.provider.errorRedirect !== undefined) {
    const target = ctx.safeRedirect(m.provider.errorRedirect) ?? '/'
    return reply.redirect(withErrorCode(target, coded.code), 303)
  }
  throw coded
}
