import rateLimit from '@fastify/rate-limit'
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuthContext } from '../context.js'
import type { UserRecord } from '../store/auth-store.js'
import { strictValidatorCompiler } from '../strict-validator.js'
import { parseForm } from './form-body.js'
import { registerAuthorizationRoutes } from './authorize-routes.js'
import type { ResolvedResourceServer } from './idp-options.js'
import { installOAuthErrorHandler } from './oauth-errors.js'
import { createLocalIdp, isLocalIdp, type LocalIdp } from './local-idp.js'
import type { ThrottleVerdict } from './throttle.js'
import { codedError } from '../errors.js'

/** Body cap of the local IdP's routes: a maximal password, JSON-escaped, fits. */
const BODY_LIMIT = 64 * 1024
const ONE_MINUTE = 60_000
const FORM_TYPE = 'application/x-www-form-urlencoded'
/** Lifetime of the device cookie: 90 days. */
const DEVICE_COOKIE_MAX_AGE_S = 90 * 24 * 60 * 60

interface Credentials {
  email: string
  password: string
}
interface RegisterBody extends Credentials {
  name?: string | null
}
interface TokenBody {
  grant_type: string
  username?: string
  password?: string
  refresh_token?: string
  scope?: string
  client_id?: string
  code?: string
  redirect_uri?: string
  code_verifier?: string
}
interface TokenOnlyBody {
  token: string
  token_type_hint?: string
}

function userView(user: UserRecord): { id: string; email: string | null; name: string | null } {
  return { id: user.id, email: user.email, name: user.name }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/**
 * The resource server named by an HTTP Basic `Authorization` header (RFC 6749
 * §2.3.1: form-urlencoded id and secret), or null. Secrets are compared as
 * SHA-256 digests in constant time.
 */
function authenticateResourceServer(header: unknown, servers: ReadonlyMap<string, ResolvedResourceServer>): ResolvedResourceServer | null {
  if (typeof header !== 'string' || header.length > 4096) return null
  const match = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
  if (match === null) return null
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return null
  // RFC 6749 §2.3.1 form-encodes both parts; many clients send them raw. Accept either.
  const formDecode = (value: string): string | null => {
    try {
      return decodeURIComponent(value.replace(/\+/g, ' '))
    } catch {
      return null
    }
  }
  const rawId = decoded.slice(0, colon)
  const rawSecret = decoded.slice(colon + 1)
  const server = servers.get(rawId) ?? servers.get(formDecode(rawId) ?? '')
  // Compare against something even for an unknown id, so timing tells nothing.
  const expected = sha256(server?.secret ?? 'wire-auth: no such resource server')
  const raw = timingSafeEqual(sha256(rawSecret), expected)
  const form = timingSafeEqual(sha256(formDecode(rawSecret) ?? ''), expected)
  return server !== undefined && (raw || form) ? server : null
}

function throttled(reply: FastifyReply, verdict: ThrottleVerdict): Error {
  reply.header('retry-after', String(verdict.retryAfterSeconds))
  return codedError('ERR_RATE_LIMITED', `too many failed attempts, retry in ${verdict.retryAfterSeconds} s`)
}

/**
 * Mounts the local identity provider: `POST /auth/local/{register,login,
 * token,verify-token,revoke}` and `GET /.well-known/jwks.json`.
 *
 * Call it from the plugin after `@fastify/rate-limit` (global: false), the
 * error handler and `@fastify/cookie` are registered, with `ctx` complete
 * except `tokens`. It creates the {@link LocalIdp} (unless `localIdp` is
 * given or `ctx.tokens` already is one), awaits its `init()` (signing key,
 * dummy hash, password list), sets `ctx.tokens` (the plugin decorates
 * `app.localIdp` with it), then mounts the routes in an encapsulated scope
 * (the form-body parser stays inside). Does nothing when
 * `ctx.options.localIdp` is null.
 * @internal
 */
export async function registerLocalIdp(app: FastifyInstance, ctx: AuthContext, localIdp?: LocalIdp): Promise<void> {
  const options = ctx.options.localIdp
  if (options === null) return
  const idp = localIdp ?? (isLocalIdp(ctx.tokens) ? ctx.tokens : createLocalIdp({ store: ctx.store, options, log: ctx.log }))
  await idp.init()
  ctx.tokens = idp

  const grants = new Set<string>(options.grants)
  const clients = new Map(options.clients.map((c) => [c.clientId, c]))
  const resourceServers = new Map(options.resourceServers.map((r) => [r.id, r]))
  // The device cookie (F3): a browser that signed in to an account before is
  // not throttled by other clients' failures on that account. Signed, HttpOnly,
  // host-locked when secure; it names the account only as a hash prefix.
  const { secure, sameSite } = ctx.options.session
  const deviceCookie = secure ? '__Host-wa_dev' : 'wa_dev'
  const deviceCookieOptions = { httpOnly: true, secure, sameSite, path: '/', maxAge: DEVICE_COOKIE_MAX_AGE_S } as const

  const strict = { config: { wireAuth: 'public' as const, rateLimit: { max: options.rateLimitPerMinute, timeWindow: ONE_MINUTE } } }
  const lenient = { config: { wireAuth: 'public' as const, rateLimit: { max: options.rateLimitPerMinute * 10, timeWindow: ONE_MINUTE } } }
  const passwordMax = options.passwordMaxLength * 4
  const credentialProps = {
    email: { type: 'string', maxLength: 1024 },
    password: { type: 'string', maxLength: passwordMax },
  }

  await app.register(async function localIdpRoutes(scope) {
    if (!scope.hasDecorator('rateLimit')) await scope.register(rateLimit, { global: false })
    // Wrong types are refused (400), never coerced into strings.
    scope.setValidatorCompiler(strictValidatorCompiler)

    if (options.allowRegistration) {
      scope.post<{ Body: RegisterBody }>(
        '/auth/local/register',
        {
          ...strict,
          bodyLimit: BODY_LIMIT,
          schema: {
            body: {
              type: 'object',
              required: ['email', 'password'],
              additionalProperties: false,
              properties: { ...credentialProps, name: { type: ['string', 'null'], maxLength: 256 } },
            },
          },
        },
        async (request, reply) => {
          // Reserved before the work (atomic): concurrent probes cannot all pass one check.
          const reserved = await idp.throttle.reserve(null, request.ip)
          if (!reserved.ok) throw throttled(reply, reserved.verdict)
          let user: UserRecord
          try {
            user = await idp.createUser({ email: request.body.email, password: request.body.password, name: request.body.name })
          } catch (err) {
            // Telling "taken" apart is the trade-off of a register form; it
            // costs the client one failure so enumeration hits the throttle.
            if ((err as { code?: unknown }).code !== 'ERR_ACCOUNT_EXISTS') await idp.throttle.cancel(reserved.reservation).catch(() => {})
            throw err
          }
          await idp.throttle.cancel(reserved.reservation)
          const account = ctx.account ?? null
          // With mail configured, the new address gets its verification link (in the background: the answer never waits on delivery).
          if (account?.capabilities().emailVerification) {
            await account.sendVerification(user, request, true).catch((err: unknown) => request.log.warn({ code: (err as { code?: unknown }).code, err }, 'wire-auth: no verification mail at sign-up'))
          }
          await ctx.audit(request, { action: 'user.register', actorId: user.id, targetId: user.id, detail: { via: 'local' } })
          // requireVerifiedEmail: no session until the address is verified.
          if (account !== null && !account.maySignIn(user)) return reply.code(201).send({ user: userView(user), verificationRequired: true })
          await ctx.sessions.start(request, reply, user)
          return reply.code(201).send({ user: userView(user) })
        },
      )
    }

    scope.post<{ Body: Credentials }>(
      '/auth/local/login',
      {
        ...strict,
        bodyLimit: BODY_LIMIT,
        schema: { body: { type: 'object', required: ['email', 'password'], additionalProperties: false, properties: credentialProps } },
      },
      async (request, reply) => {
        const presented = request.cookies?.[deviceCookie]
        const device = typeof presented === 'string' ? ctx.signer.unsign(presented) : null
        const result = await idp.signIn(request.body.email, request.body.password, request.ip, device)
        if (!result.ok) {
          if (result.reason === 'throttled') {
            await ctx.audit(request, { action: 'login.failure', actorId: null, targetId: null, detail: { via: 'local', reason: 'throttled', scope: result.verdict.scope } })
            throw throttled(reply, result.verdict)
          }
          await ctx.audit(request, { action: 'login.failure', actorId: null, targetId: result.userId, detail: { via: 'local', reason: result.reason } })
          throw codedError('ERR_INVALID_CREDENTIALS', 'invalid e-mail or password')
        }
        if (ctx.account && !ctx.account.maySignIn(result.user)) {
          await ctx.audit(request, { action: 'login.failure', actorId: null, targetId: result.user.id, detail: { via: 'local', reason: 'unverified' } })
          throw codedError('ERR_EMAIL_NOT_VERIFIED', 'verify your e-mail address first: follow the link we sent, or ask for a new one')
        }
        try {
          await ctx.sessions.start(request, reply, result.user)
        } catch (err) {
          // Disabled between the password check and the session insert (C4): the store refused
          // the session; answer exactly like a disabled account's sign-in.
          if ((err as { code?: unknown }).code !== 'ERR_USER_DISABLED') throw err
          await ctx.audit(request, { action: 'login.failure', actorId: null, targetId: result.user.id, detail: { via: 'local', reason: 'disabled' } })
          throw codedError('ERR_INVALID_CREDENTIALS', 'invalid e-mail or password')
        }
        reply.setCookie(deviceCookie, ctx.signer.sign(result.device), deviceCookieOptions)
        await ctx.audit(request, { action: 'login.success', actorId: result.user.id, targetId: result.user.id, detail: { via: 'local' } })
        return { user: userView(result.user) }
      },
    )

    scope.get('/.well-known/jwks.json', { config: { wireAuth: 'public' } }, async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return idp.jwks()
    })

    await registerAuthorizationRoutes(scope, ctx, idp)

    // OAuth-style endpoints take form bodies too (RFC 6749, 7009, 7662).
    // They set no cookie, so a cross-site form post gains nothing here.
    await scope.register(async function oauthRoutes(oauth) {
      if (!oauth.hasContentTypeParser(FORM_TYPE)) {
        oauth.addContentTypeParser(FORM_TYPE, { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
          try {
            done(null, parseForm(String(body)))
          } catch (err) {
            done(err as Error)
          }
        })
      }
      installOAuthErrorHandler(oauth)
      oauth.addHook('onSend', async (_request, reply, payload) => {
        reply.header('cache-control', 'no-store')
        reply.header('pragma', 'no-cache')
        return payload
      })

      oauth.post<{ Body: TokenBody }>(
        '/auth/local/token',
        {
          ...strict,
          bodyLimit: BODY_LIMIT,
          schema: {
            body: {
              type: 'object',
              required: ['grant_type'],
              additionalProperties: false,
              properties: {
                grant_type: { type: 'string', maxLength: 64 },
                username: { type: 'string', maxLength: 1024 },
                password: { type: 'string', maxLength: passwordMax },
                refresh_token: { type: 'string', maxLength: 1024 },
                scope: { type: 'string', maxLength: 1024 },
                client_id: { type: 'string', maxLength: 256 },
                code: { type: 'string', maxLength: 256 },
                redirect_uri: { type: 'string', maxLength: 2048 },
                code_verifier: { type: 'string', maxLength: 256 },
              },
            },
          },
        },
        async (request, reply) => {
          const body = request.body
          if (!grants.has(body.grant_type)) {
            throw codedError('ERR_UNSUPPORTED_GRANT_TYPE', `grant_type must be one of ${[...grants].map((g) => `"${g}"`).join(', ')}`)
          }
          if (body.grant_type === 'authorization_code') {
            if (body.code === undefined || body.redirect_uri === undefined || body.code_verifier === undefined) {
              throw codedError('ERR_VALIDATION', 'grant_type=authorization_code needs "code", "redirect_uri", "code_verifier" and "client_id"')
            }
            const client = body.client_id === undefined ? undefined : clients.get(body.client_id)
            if (client === undefined) throw codedError('ERR_INVALID_CLIENT', 'unknown client_id')
            const result = await idp.exchangeAuthorizationCode(body.code, client.clientId, body.redirect_uri, body.code_verifier)
            if (!result.ok) {
              if (result.reason === 'reuse') {
                await ctx.audit(request, { action: 'token.reuse', actorId: null, targetId: result.userId, detail: { grant: 'authorization_code', clientId: client.clientId } })
              }
              throw codedError('ERR_INVALID_GRANT', 'the authorization code is invalid, expired, used, or was issued for another client, redirect URI or verifier')
            }
            await ctx.audit(request, { action: 'token.issue', actorId: result.user.id, targetId: result.user.id, detail: { grant: 'authorization_code', clientId: client.clientId } })
            return result.tokens
          }
          if (body.grant_type === 'password') {
            if (body.username === undefined || body.password === undefined) throw codedError('ERR_VALIDATION', 'grant_type=password needs "username" and "password"')
            const result = await idp.signIn(body.username, body.password, request.ip)
            if (!result.ok) {
              if (result.reason === 'throttled') {
                await ctx.audit(request, { action: 'login.failure', actorId: null, targetId: null, detail: { via: 'token', reason: 'throttled', scope: result.verdict.scope } })
                throw throttled(reply, result.verdict)
              }
              await ctx.audit(request, { action: 'login.failure', actorId: null, targetId: result.userId, detail: { via: 'token', reason: result.reason } })
              throw codedError('ERR_INVALID_GRANT', 'invalid username or password')
            }
            if (ctx.account && !ctx.account.maySignIn(result.user)) throw codedError('ERR_EMAIL_NOT_VERIFIED', 'the e-mail address of this account is not verified')
            const tokens = await idp.issueTokens(result.user)
            await ctx.audit(request, { action: 'token.issue', actorId: result.user.id, targetId: result.user.id, detail: { grant: 'password' } })
            return tokens
          }
          // refresh_token
          if (body.refresh_token === undefined) throw codedError('ERR_VALIDATION', 'grant_type=refresh_token needs "refresh_token"')
          const result = await idp.refresh(body.refresh_token)
          if (!result.ok) {
            if (result.reason === 'reuse') {
              await ctx.audit(request, { action: 'token.reuse', actorId: null, targetId: result.userId, detail: { familyId: result.familyId } })
            }
            throw codedError('ERR_INVALID_GRANT', 'the refresh token is invalid, expired or revoked')
          }
          await ctx.audit(request, { action: 'token.issue', actorId: result.user.id, targetId: result.user.id, detail: { grant: 'refresh_token' } })
          return result.tokens
        },
      )

      const tokenOnly = {
        body: {
          type: 'object',
          required: ['token'],
          additionalProperties: false,
          properties: { token: { type: 'string', maxLength: BODY_LIMIT }, token_type_hint: { type: 'string', maxLength: 64 } },
        },
      }

      // RFC 7662 §2.1: the caller authenticates as a resource server; without
      // any configured, the route does not exist.
      if (resourceServers.size > 0) {
        oauth.post<{ Body: TokenOnlyBody }>('/auth/local/verify-token', { ...lenient, bodyLimit: BODY_LIMIT, schema: tokenOnly }, async (request, reply) => {
          const caller = authenticateResourceServer(request.headers.authorization, resourceServers)
          // RFC 6749 §5.2: a failed HTTP Basic authentication answers 401 with the scheme to use.
          if (caller === null) reply.header('www-authenticate', 'Basic realm="wire-auth", charset="UTF-8"')
          if (caller === null) throw codedError('ERR_INVALID_CLIENT', 'introspection needs HTTP Basic credentials of a configured resource server')
          return idp.introspect(request.body.token, caller)
        })
      }

      oauth.post<{ Body: TokenOnlyBody }>('/auth/local/revoke', { ...lenient, bodyLimit: BODY_LIMIT, schema: tokenOnly }, async (request) => {
        const result = await idp.revokeToken(request.body.token)
        if (result.kind !== 'unknown') {
          await ctx.audit(request, { action: 'token.revoke', actorId: result.userId, targetId: result.userId, detail: { kind: result.kind } })
        }
        if (result.kind === 'access') {
          // Open sockets authenticated with this token re-check it now, not at its expiry
          // (no session listed: the user's cookie sockets are left alone).
          const user = await ctx.store.getUser(result.userId)
          try {
            await ctx.channel.publish({ type: 'sessions-revoked', userId: result.userId, version: user?.version ?? 0, sessionIds: [], all: false })
          } catch (err) {
            ctx.log.warn({ code: 'ERR_CHANNEL_UNAVAILABLE', err }, 'token revocation not published; token sockets notice at the next sweep after a resync')
          }
        }
        return {}
      })
    })
  })
}
