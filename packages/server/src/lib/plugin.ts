import { randomBytes } from 'node:crypto'
import cookie from '@fastify/cookie'
import rateLimit from '@fastify/rate-limit'
import { ANONYMOUS, InvalidOption, createPolicyEngine, parseGuardSpec, resolveSafeRedirect, type ClaimsPrincipal, type PolicyEngine } from '@wire-auth/core'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, preHandlerAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { createAuthActions } from './auth-actions.js'
import { registerBundleRoute } from './bundle-route.js'
import type { AuthChannel } from './channel/auth-channel.js'
import { LocalAuthChannel } from './channel/local-channel.js'
import type { AuthContext } from './context.js'
import { corsHook } from './cors.js'
import { kRegistered, resolveDecoratorNames, type ResolvedDecoratorNames } from './decorators.js'
import { installErrorHandler } from './error-handler.js'
import { Forbidden, OriginNotAllowed, Unauthenticated } from './errors.js'
import type { FragmentRegistration, RequirePolicy, WireAuthAppDecorators } from './fastify-types.js'
import type { FragmentOptions, FragmentRender } from './fragments/fragment-definition.js'
import { createFragmentRegistry, registerFragments } from './fragments/fragment-routes.js'
import { registerLiveSocket, registerWebsocketPlugin } from './live/live-socket.js'
import { isLocalIdp } from './local-idp/local-idp.js'
import { registerLocalIdp } from './local-idp/routes.js'
import { AccountService } from './account/account-service.js'
import { registerAccountRoutes } from './account/account-routes.js'
import { Passkeys } from './account/passkeys.js'
import { registerPasskeyRoutes } from './account/passkey-routes.js'
import { Mailer } from './mail/mailer.js'
import { registerProviders } from './oidc/register-providers.js'
import { registerPages } from './pages/page-routes.js'
import { registerHealthRoute } from './health.js'
import { createMetrics, registerMetricsRoute, type MetricsRecorder } from './metrics.js'
import { resolveOptions, type WireAuthOptions } from './options.js'
import { foreignUnsafeRequest } from './origin-check.js'
import { registerSessionRoutes } from './account-sessions/session-routes.js'
import { kPrincipal, kSessionId, principalOf, sessionIdOf, setPrincipal, setSessionId } from './request-state.js'
import { securityHeaders, wireAuthHelmetOptions } from './security-headers.js'
import { createSessionManager } from './sessions.js'
import { createCookieSealer } from './cookie-sealer.js'
import { createCookieSigner } from './signer.js'
import type { AuthStore } from './store/auth-store.js'
import { formatMode } from './store/sqlite-files.js'
import { SqliteAuthStore } from './store/sqlite-store.js'

/**
 * Set by `createServer`: the app is wire-auth's own (the standalone server),
 * so its CORS, headers, error handler and origin check cover every route,
 * the site's included. A host's app never sets it.
 * @internal
 */
export const kWholeApp: unique symbol = Symbol('wire-auth.wholeApp')

/** Marks the routes of wire-auth's own scope in their config. @internal */
export const kOwnRoute: unique symbol = Symbol('wire-auth.ownRoute')

/** Body cap of wire-auth's routes that set none themselves (the fragment batch sets its own). */
const OWN_BODY_LIMIT = 64 * 1024

/** What each app wire-auth is registered on holds, whatever the decorators are named. */
const registrations = new WeakMap<FastifyInstance, WireAuthAppDecorators>()

function isOwnRoute(request: FastifyRequest): boolean {
  return (request.routeOptions.config as unknown as Record<symbol, unknown> | undefined)?.[kOwnRoute] === true
}

async function wireAuthPlugin(app: FastifyInstance, rawOptions: WireAuthOptions): Promise<void> {
  const options = resolveOptions(rawOptions)
  // Before anything is opened: a collision is one coded error naming the option to set.
  const names: ResolvedDecoratorNames = resolveDecoratorNames(app, rawOptions.decorators)
  const wholeApp = (rawOptions as { [kWholeApp]?: boolean })[kWholeApp] === true

  // Before the store opens: a missing prom-client is a coded error with nothing to close.
  const metrics: MetricsRecorder | null = options.metrics === null ? null : await createMetrics(options.metrics)
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
    metrics,
    sealer,
    isAllowedOrigin: (origin) => typeof origin === 'string' && allowed.has(origin),
    safeRedirect: (value) => resolveSafeRedirect(value, { allowedOrigins: options.allowedOrigins, baseOrigin: options.publicOrigin }),
    async audit(request, record) {
      if (metrics !== null) countAudit(metrics, record)
      try {
        await store.appendAudit({ ...record, at: record.at ?? Date.now(), ip: request?.ip ?? null })
      } catch (err) {
        app.log.warn({ code: 'ERR_STORE_UNAVAILABLE', action: record.action, err }, 'audit record not written')
      }
    },
  }

  /**
   * Resolves the request's principal: a bearer token, else the session
   * cookie. On wire-auth's routes (`originCheckThenPrincipal`) an unsafe request from a
   * foreign origin was refused before this runs. On the host's routes such a
   * request is not refused (the host's CORS and partners are its business)
   * but the cookie does not authenticate it: cross-site request forgery
   * gains nobody's principal.
   */
  async function resolvePrincipal(request: FastifyRequest): Promise<void> {
    const authorization = request.headers.authorization
    if (typeof authorization === 'string' && /^bearer /i.test(authorization)) {
      if (ctx.tokens === null) return
      setPrincipal(request, (await ctx.tokens.verifyAccessToken(authorization.slice(7).trim())) ?? ANONYMOUS)
      return
    }
    const raw = sessions.readRawId(request)
    if (raw === null) return
    const foreign = foreignUnsafeRequest(request, ctx.isAllowedOrigin)
    if (foreign !== null) {
      request.log.debug({ code: 'ERR_ORIGIN_NOT_ALLOWED' }, 'session cookie ignored on a foreign state-changing request')
      return
    }
    const now = Date.now()
    const resolved = await sessions.load(sessions.hash(raw), now)
    if (resolved === null) return
    setPrincipal(request, resolved.principal)
    setSessionId(request, resolved.session.id)
    await sessions.touchIfDue(resolved, now)
  }

  // The principal is the one global thing: every request of the host gets it.
  app.decorateRequest(kPrincipal, null)
  app.decorateRequest(kSessionId, null)
  app.decorateRequest(names.user, {
    getter(this: FastifyRequest) {
      return principalOf(this)
    },
    setter(this: FastifyRequest, value: ClaimsPrincipal) {
      setPrincipal(this, value)
    },
  })
  app.decorateRequest(names.sessionId, {
    getter(this: FastifyRequest) {
      return sessionIdOf(this)
    },
    setter(this: FastifyRequest, value: string | null) {
      setSessionId(this, value)
    },
  })

  const ownHooks: onRequestHookHandler[] = []
  if (options.helmet) ownHooks.push(securityHeaders(wireAuthHelmetOptions(options.allowedOrigins)))
  // After the headers: a preflight answered here carries them too.
  ownHooks.push(corsHook(ctx))
  const originCheckThenPrincipal = async (request: FastifyRequest) => {
    // CSRF: every state-changing browser request to wire-auth's routes comes from an allowed origin
    // (login CSRF included, so not only requests that carry the cookie).
    const foreign = foreignUnsafeRequest(request, ctx.isAllowedOrigin)
    if (foreign !== null) throw new OriginNotAllowed(foreign)
    await resolvePrincipal(request)
  }

  if (wholeApp) {
    // createServer: wire-auth owns the app, so its defaults cover the site's routes too.
    for (const hook of ownHooks) app.addHook('onRequest', hook)
    app.addHook('onRequest', originCheckThenPrincipal)
    installErrorHandler(app)
    if (!app.hasReplyDecorator('setCookie')) await app.register(cookie)
  } else {
    app.addHook('onRequest', async (request) => {
      if (!isOwnRoute(request)) await resolvePrincipal(request)
    })
  }

  const actions = createAuthActions(ctx)
  const registry = createFragmentRegistry(ctx)
  // Served pages and `config.authGuard` host routes: their guard hook follows the principal hook (both on the root).
  registerPages(app, ctx, registry, names.page)
  const requirePolicy: RequirePolicy = function requirePolicy(spec) {
    const guard = parseGuardSpec(spec)
    return async function requirePolicyHandler(request: FastifyRequest, _reply: FastifyReply) {
      const user = principalOf(request)
      if (!user.isAuthenticated) throw new Unauthenticated()
      const decision = await engine.evaluateGuard(guard, user, { request, params: {} })
      if (!decision.allowed) throw new Forbidden(`denied (${decision.code ?? 'ERR_DENIED'})`)
    } as preHandlerAsyncHookHandler
  }
  const fragment = function fragment(this: FastifyInstance, name: string, guard: unknown, render: unknown) {
    registry.register(name, guard as FragmentOptions, render as FragmentRender)
    return this
  } as FragmentRegistration

  const decorators: WireAuthAppDecorators = {
    auth: actions,
    authStore: store,
    authChannel: channel,
    authEngine: engine,
    requirePolicy,
    fragment,
    localIdp: null,
    authProviders: [],
  }
  registrations.set(app, decorators)
  app.decorate(kRegistered, true)
  app.decorate(names.auth, actions)
  app.decorate(names.authStore, store)
  app.decorate(names.authChannel, channel)
  app.decorate(names.authEngine, engine)
  app.decorate(names.requirePolicy, requirePolicy)
  app.decorate(names.fragment, fragment)

  const ownWebsocket = await registerWebsocketPlugin(app, ctx)

  // wire-auth's own routes, in an encapsulated scope: its CORS, headers,
  // error handler, body and rate limits, origin check stay here.
  await app.register(async function wireAuthRoutes(scope) {
    const urls = new Set<string>()
    scope.addHook('onRoute', (route) => {
      // `cors: false` and `helmet.skipRoute` are how @fastify/cors and @fastify/helmet let a route opt
      // out: a host that registered them globally before wire-auth leaves its routes to wire-auth's own.
      route.config = { ...route.config, [kOwnRoute]: true, cors: false, helmet: { skipRoute: true } } as typeof route.config
      if (route.bodyLimit === undefined) route.bodyLimit = OWN_BODY_LIMIT
      const methods = Array.isArray(route.method) ? route.method : [route.method]
      if (!methods.includes('OPTIONS')) urls.add(route.url)
    })
    if (!wholeApp) {
      for (const hook of ownHooks) scope.addHook('onRequest', hook)
      scope.addHook('onRequest', originCheckThenPrincipal)
      installErrorHandler(scope)
    }
    if (!scope.hasReplyDecorator('setCookie')) await scope.register(cookie)
    await scope.register(rateLimit, {
      global: false,
      // The limit headers go on the 429 only (docs/http.md): not on every answer within the limit.
      addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        error: { code: 'ERR_RATE_LIMITED', message: `too many requests, retry in ${Math.ceil(context.ttl / 1000)} s` },
      }),
    })
    if (metrics !== null) {
      scope.addHook('onResponse', async (_request, reply) => {
        if (reply.statusCode === 429) metrics.throttle('http')
      })
    }
    // @fastify/websocket destroys the socket of a refused upgrade only when its
    // own onRequest hook ran; the hooks above run first and throw when the
    // store is down, which left the socket half-open for good (a leak per
    // reconnect attempt, and app.close() waiting on it forever).
    scope.addHook('onResponse', async (request) => {
      // `upgrade` is set by node's HTTP parser on requests dispatched through the 'upgrade' event.
      if ((request.raw as { upgrade?: boolean }).upgrade === true && !request.raw.socket.destroyed) request.raw.socket.destroy()
    })

    scope.get('/auth/me', { config: { wireAuth: 'public' } }, async (request) => principalOf(request).toSummary())
    scope.post('/auth/logout', { config: { wireAuth: 'public' } }, async (request, reply) => {
      await actions.signOut(request, reply)
      return reply.code(204).send()
    })
    // `GET /auth/sessions`, `POST /auth/sessions/{id}/revoke`, `/auth/sessions/revoke-all` (issue 17).
    registerSessionRoutes(scope, actions)

    // Sets ctx.tokens (bearer tokens on HTTP, `auth` on the live socket) when options.localIdp is given.
    await registerLocalIdp(scope, ctx)
    if (isLocalIdp(ctx.tokens)) {
      // The account flows (issue 18): e-mail verification, password reset and change.
      const mailer = options.mail === null ? null : new Mailer(options.mail)
      if (mailer !== null) app.addHook('onClose', async () => mailer.close())
      else app.log.info({ code: 'ERR_MAIL_NOT_CONFIGURED' }, 'wire-auth: "options.mail" is not set: e-mail verification and password reset are off')
      ctx.account = new AccountService({ store, idp: ctx.tokens, mailer, actions, audit: ctx.audit, log: app.log, requireVerifiedEmail: options.requireVerifiedEmail, passkeys: options.passkeys !== null, publicUrl: options.publicUrl })
      await registerAccountRoutes(scope, ctx, ctx.account)
      if (options.passkeys !== null) {
        const passkeys = new Passkeys({ store, signer, options: options.passkeys, origins: [...allowed], audit: ctx.audit })
        await registerPasskeyRoutes(scope, ctx, passkeys, actions, ctx.account)
      }
    }
    // `/auth/providers`, `/auth/{provider}/login` and `/callback` (an empty list without providers).
    decorators.authProviders = await registerProviders(scope, ctx, rawOptions.providers)
    registerFragments(scope, ctx, registry)
    const hub = await registerLiveSocket(scope, ctx, registry, ownWebsocket)
    registerBundleRoute(scope, ctx)
    registerHealthRoute(scope, ctx)
    if (metrics !== null) {
      metrics.gauges({ sockets: () => hub.size, regions: () => hub.regionCount() })
      registerMetricsRoute(scope, metrics)
    }

    // Preflights of wire-auth's URLs (answered by the CORS hook for allowed origins). A plugin of its
    // own, registered last: it loads after the modules' own nested scopes, so every URL is known.
    await scope.register(async function preflights(preflight) {
      for (const url of urls) {
        preflight.route({
          method: 'OPTIONS',
          url,
          config: { wireAuth: 'public' },
          handler: (_request, reply) => reply.code(404).send({ error: { code: 'ERR_NOT_FOUND', message: 'no such route' } }),
        })
      }
    })
  })

  decorators.localIdp = isLocalIdp(ctx.tokens) ? ctx.tokens : null
  app.decorate(names.localIdp, decorators.localIdp)
  app.decorate(names.authProviders, decorators.authProviders)
}

/** Sign-ins and throttled sign-ins, from the audit records every identity provider writes. */
function countAudit(metrics: MetricsRecorder, record: { action: string; detail?: Record<string, unknown> | null }): void {
  if (record.action !== 'login.success' && record.action !== 'login.failure') return
  const detail = record.detail ?? {}
  const via = typeof detail.via === 'string' ? detail.via.slice(0, 32) : 'unknown'
  metrics.login(record.action === 'login.success' ? 'success' : 'failure', via)
  if (detail.reason === 'throttled') metrics.throttle(`login:${typeof detail.scope === 'string' ? detail.scope.slice(0, 32) : 'unknown'}`)
}

/**
 * The wire-auth Fastify plugin. Prefer {@link connectAuth}, which registers it
 * and returns the policy engine.
 */
export const wireAuth = fp(wireAuthPlugin, { fastify: '5.x', name: '@wire-auth/server' })

/**
 * Registers wire-auth on a Fastify 5 app and returns its policy engine.
 *
 * What it adds to the whole app is the principal: every request gets
 * `request.user` and `request.sessionId` (renamable, `options.decorators`).
 * Its CORS, security headers, error handler, body and rate limits and origin
 * check cover its own routes only (`/auth/*`, the bundle); the host's routes
 * keep the host's. Register it before or after the host's other plugins.
 *
 * @example
 * ```ts
 * const app = Fastify()
 * const engine = await connectAuth(app, { localIdp: true, allowedOrigins: ['https://www.example.com'] })
 * engine.addPolicy('AdminOnly', { requiresClaim: ['role', 'admin'] })
 * ```
 * @throws `ERR_INVALID_OPTION` for a bad option, `ERR_DECORATOR_COLLISION` for a
 *   decorator name another plugin already took, before the app starts.
 */
export async function connectAuth(app: FastifyInstance, options: WireAuthOptions = {}): Promise<PolicyEngine> {
  await app.register(wireAuth, options)
  return wireAuthOf(app).authEngine
}

/**
 * What wire-auth decorated on `app`, whatever names `options.decorators`
 * gave them: typed access for a host that renamed them.
 *
 * @example
 * ```ts
 * await connectAuth(app, { decorators: { auth: 'wireAuth' } })   // @fastify/auth owns app.auth
 * const { auth, fragment } = wireAuthOf(app)
 * ```
 * @throws `ERR_INVALID_OPTION` when wire-auth is not registered on `app` (yet).
 */
export function wireAuthOf(app: FastifyInstance): WireAuthAppDecorators {
  let instance: FastifyInstance | null = app
  while (instance !== null) {
    const found = registrations.get(instance)
    if (found !== undefined) return found
    const parent = Object.getPrototypeOf(instance) as FastifyInstance | null
    instance = parent !== null && typeof parent === 'object' && 'register' in parent ? parent : null
  }
  throw new InvalidOption('wire-auth is not registered on this app: await connectAuth(app, options) first')
}
