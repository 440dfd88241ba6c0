import { randomBytes } from 'node:crypto'
import cookie from '@fastify/cookie'
import cors from '@fastify/cors'
import fastifyHelmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import { ANONYMOUS, createPolicyEngine, parseGuardSpec, resolveSafeRedirect, type ClaimsPrincipal, type PolicyEngine } from '@wire-auth/core'
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { createAuthActions, type AuthActions } from './auth-actions.js'
import { registerBundleRoute } from './bundle-route.js'
import type { AuthChannel } from './channel/auth-channel.js'
import { LocalAuthChannel } from './channel/local-channel.js'
import type { AuthContext } from './context.js'
import { installErrorHandler } from './error-handler.js'
import { registerFragments } from './fragments/fragment-routes.js'
import { registerPages } from './pages/page-routes.js'
import { registerLiveSocket } from './live/live-socket.js'
import { registerLocalIdp } from './local-idp/routes.js'
import { registerProviders, type ProviderInfo } from './oidc/register-providers.js'
import { Forbidden, OriginNotAllowed, Unauthenticated } from './errors.js'
import { resolveOptions, type WireAuthOptions } from './options.js'
import { applySecurityHeaders, staticSecurityHeaders } from './security-headers.js'
import { createSessionManager } from './sessions.js'
import { createCookieSealer } from './cookie-sealer.js'
import { createCookieSigner } from './signer.js'
import type { AuthStore } from './store/auth-store.js'
import { formatMode } from './store/sqlite-files.js'
import { SqliteAuthStore } from './store/sqlite-store.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The principal of this request; {@link ANONYMOUS} when not signed in. Never null. */
    user: ClaimsPrincipal
    /** Hash of the request's valid session, or null (anonymous or bearer token). */
    sessionId: string | null
  }
  interface FastifyInstance {
    /** Grants, revocations and session control that reach every open tab. */
    auth: AuthActions
    authStore: AuthStore
    authChannel: AuthChannel
    authEngine: PolicyEngine
    /**
     * A preHandler for the host's own routes: 401 `ERR_UNAUTHENTICATED` for
     * anonymous users, 403 `ERR_FORBIDDEN` when the guard denies.
     * @example app.get('/admin/stats', { preHandler: app.requirePolicy('AdminOnly') }, handler)
     */
    requirePolicy(spec?: unknown): preHandlerAsyncHookHandler
    /** The configured OpenID providers (what `GET /auth/providers` lists). */
    authProviders: readonly ProviderInfo[]
  }
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** Reads the origin a browser request came from: Origin, else Referer's origin. */
function requestOrigin(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin
  if (typeof origin === 'string') return origin
  const referer = request.headers.referer
  if (typeof referer === 'string') {
    try {
      return new URL(referer).origin
    } catch {
      return 'null'
    }
  }
  return undefined
}

async function wireAuthPlugin(app: FastifyInstance, rawOptions: WireAuthOptions): Promise<void> {
  const options = resolveOptions(rawOptions)
  const store: AuthStore = rawOptions.store ?? new SqliteAuthStore(rawOptions.sqlitePath ?? 'wire-auth.sqlite')
  await store.init()
  for (const loose of store.loosePermissions?.() ?? []) {
    app.log.warn(
      { code: 'ERR_STORE_PERMISSIONS', path: loose.path, mode: formatMode(loose.mode), expected: formatMode(loose.expected) },
      'wire-auth: the store holds the signing keys and the cookie secret but group or others may reach this path; restrict it (chmod)',
    )
  }
  const channel: AuthChannel = rawOptions.channel ?? new LocalAuthChannel()
  app.addHook('onClose', async () => {
    await channel.close()
    await store.close()
  })

  const engine = createPolicyEngine({ timeoutMs: options.policyTimeoutMs, logger: app.log })
  for (const [name, requirement] of Object.entries(rawOptions.policies ?? {})) engine.addPolicy(name, requirement)

  const secret = rawOptions.secret ?? (await store.getSecret('cookie-signing', () => randomBytes(32).toString('base64url')))
  const signer = createCookieSigner(Buffer.from(secret, 'utf8'))
  const sealer = createCookieSealer(Buffer.from(secret, 'utf8'), 'oidc-login-state')
  const sessions = createSessionManager({
    store,
    options,
    // Signing in again in the same browser ends the old session: say so to its sockets (issue 13 F7).
    async onReplaced(userId, sessionHash, version) {
      try {
        await channel.publish({ type: 'sessions-revoked', userId, version, sessionIds: [sessionHash], all: false })
      } catch (err) {
        app.log.warn({ code: 'ERR_CHANNEL_UNAVAILABLE', err }, 'auth event not published')
      }
    },
  })
  const allowed = new Set([options.publicOrigin, ...options.allowedOrigins])

  const ctx: AuthContext = {
    options,
    store,
    engine,
    channel,
    sessions,
    tokens: null,
    log: app.log,
    signer,
    sealer,
    isAllowedOrigin: (origin) => typeof origin === 'string' && allowed.has(origin),
    safeRedirect: (value) => resolveSafeRedirect(value, { allowedOrigins: options.allowedOrigins, baseOrigin: options.publicOrigin }),
    async audit(request, record) {
      try {
        await store.appendAudit({ ...record, at: record.at ?? Date.now(), ip: request?.ip ?? null })
      } catch (err) {
        app.log.warn({ code: 'ERR_STORE_UNAVAILABLE', action: record.action, err }, 'audit record not written')
      }
    },
  }

  if (!app.hasReplyDecorator('setCookie')) await app.register(cookie)
  // Before CORS: its preflight answers from its own onRequest hook, and gets the headers too.
  if (options.helmet) {
    // Computed once: helmet's output is the same for every request (see security-headers.ts).
    const headers = staticSecurityHeaders({
      // The bundle and fragments are meant to be embedded by allowed origins.
      crossOriginResourcePolicy: { policy: 'cross-origin' },
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          connectSrc: ["'self'", ...options.allowedOrigins],
          imgSrc: ["'self'", 'data:'],
          styleSrc: ["'self'", "'unsafe-inline'"],
          frameAncestors: ["'self'", ...options.allowedOrigins],
          formAction: ["'self'"],
        },
      },
    })
    app.addHook('onRequest', (_request, reply, done) => {
      applySecurityHeaders(reply.raw, headers)
      done()
    })
    // Not global: the hook above covers every response; @fastify/helmet stays for
    // host routes that want their own per-route policy (`{ helmet: {...} }`, nonces).
    await app.register(fastifyHelmet, { global: false })
  }
  await app.register(cors, {
    origin: (origin, cb) => cb(null, origin !== undefined && ctx.isAllowedOrigin(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['content-type', 'authorization'],
    maxAge: 600,
  })
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: { code: 'ERR_RATE_LIMITED', message: `too many requests, retry in ${Math.ceil(context.ttl / 1000)} s` },
    }),
  })
  installErrorHandler(app)

  app.decorateRequest('user', null as unknown as ClaimsPrincipal)
  app.decorateRequest('sessionId', null)

  app.addHook('onRequest', async (request) => {
    request.user = ANONYMOUS
    request.sessionId = null
    // CSRF: a state-changing browser request must come from an allowed origin.
    if (UNSAFE_METHODS.has(request.method)) {
      const origin = requestOrigin(request)
      if (origin !== undefined && !ctx.isAllowedOrigin(origin)) throw new OriginNotAllowed(`origin ${JSON.stringify(origin).slice(0, 200)} is not allowed`)
      if (origin === undefined && request.headers['sec-fetch-site'] === 'cross-site') throw new OriginNotAllowed('cross-site request without an allowed origin')
    }
    const authorization = request.headers.authorization
    if (typeof authorization === 'string' && /^bearer /i.test(authorization)) {
      if (ctx.tokens === null) return
      request.user = (await ctx.tokens.verifyAccessToken(authorization.slice(7).trim())) ?? ANONYMOUS
      return
    }
    const raw = sessions.readRawId(request)
    if (raw === null) return
    const now = Date.now()
    const resolved = await sessions.load(sessions.hash(raw), now)
    if (resolved === null) return
    request.user = resolved.principal
    request.sessionId = resolved.session.id
    await sessions.touchIfDue(resolved, now)
  })
  // @fastify/websocket destroys the socket of a refused upgrade only when its
  // own onRequest hook ran; the hook above runs first and throws when the
  // store is down, which left the socket half-open for good (a leak per
  // reconnect attempt, and app.close() waiting on it forever).
  app.addHook('onResponse', async (request) => {
    // `upgrade` is set by node's HTTP parser on requests dispatched through the 'upgrade' event.
    if ((request.raw as { upgrade?: boolean }).upgrade === true && !request.raw.socket.destroyed) request.raw.socket.destroy()
  })

  const actions = createAuthActions(ctx)
  app.decorate('auth', actions)
  app.decorate('authStore', store)
  app.decorate('authChannel', channel)
  app.decorate('authEngine', engine)
  app.decorate('requirePolicy', function requirePolicy(spec?: unknown): preHandlerAsyncHookHandler {
    const guard = parseGuardSpec(spec)
    return async function requirePolicyHandler(request: FastifyRequest, _reply: FastifyReply) {
      if (!request.user.isAuthenticated) throw new Unauthenticated()
      const decision = await engine.evaluateGuard(guard, request.user, { request, params: {} })
      if (!decision.allowed) throw new Forbidden(`denied (${decision.code ?? 'ERR_DENIED'})`)
    }
  })

  app.get('/auth/me', { config: { wireAuth: 'public' } }, async (request) => request.user.toSummary())

  app.post('/auth/logout', { config: { wireAuth: 'public' } }, async (request, reply) => {
    await actions.signOut(request, reply)
    return reply.code(204).send()
  })

  // Sets ctx.tokens (bearer tokens on HTTP, `auth` on the live socket) when options.localIdp is given.
  await registerLocalIdp(app, ctx)
  // `/auth/providers`, `/auth/{provider}/login` and `/callback` (an empty list without providers).
  app.decorate('authProviders', await registerProviders(app, ctx, rawOptions.providers))
  const fragments = registerFragments(app, ctx)
  // Served pages and `config.authGuard` routes; its guard hook follows the principal hook.
  registerPages(app, ctx, fragments)
  await registerLiveSocket(app, ctx, fragments)
  registerBundleRoute(app, ctx)
}

/**
 * The wire-auth Fastify plugin. Prefer {@link connectAuth}, which registers it
 * and returns the policy engine.
 */
export const wireAuth = fp(wireAuthPlugin, { fastify: '5.x', name: '@wire-auth/server' })

/**
 * Registers wire-auth on a Fastify 5 app and returns its policy engine.
 *
 * @example
 * ```ts
 * const app = Fastify()
 * const engine = await connectAuth(app, { localIdp: true, allowedOrigins: ['https://www.example.com'] })
 * engine.addPolicy('AdminOnly', { requiresClaim: ['role', 'admin'] })
 * ```
 * @throws `ERR_INVALID_OPTION` for a bad option, before the app starts.
 */
export async function connectAuth(app: FastifyInstance, options: WireAuthOptions = {}): Promise<PolicyEngine> {
  await app.register(wireAuth, options)
  return app.authEngine
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * How a route is protected; every wire-auth route says it, and the route
     * table test fails on a route that says neither.
     */
    wireAuth?: 'public' | 'guarded'
  }
}
