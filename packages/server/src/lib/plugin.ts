import cookie from '@fastify/cookie'
import rateLimit from '@fastify/rate-limit'
import { InvalidOption, parseGuardSpec, type ClaimsPrincipal, type PolicyEngine } from '@wire-auth/core'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, preHandlerAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { registerAccountRoutes } from './account/account-routes.js'
import { AccountService } from './account/account-service.js'
import { registerPasskeyRoutes } from './account/passkey-routes.js'
import { Passkeys } from './account/passkeys.js'
import { registerSessionRoutes } from './account-sessions/session-routes.js'
import { createAuthActions, type AuthActions } from './auth-actions.js'
import { createAuthentication } from './authenticate.js'
import { registerBundleRoute } from './bundle-route.js'
import { createAuthContext, type AuthContext } from './context.js'
import { corsHook } from './cors.js'
import { kRegistered, resolveDecoratorNames, type ResolvedDecoratorNames } from './decorators.js'
import { installErrorHandler } from './error-handler.js'
import { codedError, Forbidden, Unauthenticated } from './errors.js'
import type { FragmentRegistration, RequirePolicy, WireAuthAppDecorators } from './fastify-types.js'
import type { FragmentOptions, FragmentRender } from './fragments/fragment-definition.js'
import { createFragmentRegistry, registerFragments } from './fragments/fragment-routes.js'
import { registerHealthRoute } from './health.js'
import { registerLiveSocket, registerWebsocketPlugin } from './live/live-socket.js'
import type { LocalIdp } from './local-idp/local-idp.js'
import { registerLocalIdp } from './local-idp/routes.js'
import { Mailer } from './mail/mailer.js'
import { registerMetricsRoute } from './metrics.js'
import { registerProviders } from './oidc/register-providers.js'
import { resolveOptions, type WireAuthOptions } from './options.js'
import { registerPages } from './pages/page-routes.js'
import { kPrincipal, kSessionId, principalOf, sessionIdOf, setPrincipal, setSessionId } from './request-state.js'
import { securityHeaders, wireAuthHelmetOptions } from './security-headers.js'

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

  // The composition root, in dependency order: the shared services (context.ts), then what is built on them.
  const ctx = await createAuthContext(app, rawOptions, options)
  const { store, channel, engine, localIdp, metrics } = ctx
  const actions = createAuthActions(ctx)
  const account = localIdp === null ? null : createAccountService(app, ctx, localIdp, actions)
  const passkeys = account === null || options.passkeys === null ? null : new Passkeys({ store, signer: ctx.signer, options: options.passkeys, origins: [...ctx.origins], audit: ctx.audit })
  const registry = createFragmentRegistry(ctx)
  const { authenticate, checkOriginThenAuthenticate } = createAuthentication({ sessions: ctx.sessions, tokens: localIdp, isAllowedOrigin: ctx.isAllowedOrigin })

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

  if (wholeApp) {
    // createServer: wire-auth owns the app, so its defaults cover the site's routes too.
    for (const hook of ownHooks) app.addHook('onRequest', hook)
    app.addHook('onRequest', checkOriginThenAuthenticate)
    installErrorHandler(app)
    if (!app.hasReplyDecorator('setCookie')) await app.register(cookie)
  } else {
    // The host's routes get the principal; wire-auth's own get it after the origin check (in their scope).
    app.addHook('onRequest', async (request) => {
      if (!isOwnRoute(request)) await authenticate(request)
    })
  }

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
    localIdp,
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
  app.decorate(names.localIdp, localIdp)

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
      scope.addHook('onRequest', checkOriginThenAuthenticate)
      installErrorHandler(scope)
    }
    if (!scope.hasReplyDecorator('setCookie')) await scope.register(cookie)
    await scope.register(rateLimit, {
      global: false,
      // The limit headers go on the 429 only (docs/http.md): not on every answer within the limit.
      addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
      // Thrown by the plugin: the error handler of the route's scope answers it (429 from the table).
      errorResponseBuilder: (_request, context) => codedError('ERR_RATE_LIMITED', `too many requests, retry in ${Math.ceil(context.ttl / 1000)} s`),
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

    if (localIdp !== null && account !== null) {
      await registerLocalIdp(scope, ctx, localIdp, account)
      // The account flows (issue 18): e-mail verification, password reset and change.
      await registerAccountRoutes(scope, ctx, account)
      if (passkeys !== null) await registerPasskeyRoutes(scope, ctx, passkeys, actions, account)
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
          handler: (_request, reply) => reply.send(codedError('ERR_NOT_FOUND', 'no such route')),
        })
      }
    })
  })

  app.decorate(names.authProviders, decorators.authProviders)
}

/**
 * The account flows' service over the local IdP: mail when `options.mail`
 * is set (closed with `app`), else links only (the CLI prints them).
 */
function createAccountService(app: FastifyInstance, ctx: AuthContext, idp: LocalIdp, actions: AuthActions): AccountService {
  const { options } = ctx
  const mailer = options.mail === null ? null : new Mailer(options.mail)
  if (mailer !== null) app.addHook('onClose', async () => mailer.close())
  else app.log.info({ code: 'ERR_MAIL_NOT_CONFIGURED' }, 'wire-auth: "options.mail" is not set: e-mail verification and password reset are off')
  return new AccountService({ store: ctx.store, idp, mailer, actions, audit: ctx.audit, log: ctx.log, requireVerifiedEmail: options.requireVerifiedEmail, passkeys: options.passkeys !== null, publicUrl: options.publicUrl })
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
