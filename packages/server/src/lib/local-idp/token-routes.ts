import type { FastifyInstance, FastifyRequest } from 'fastify'
import { createHash, timingSafeEqual } from 'node:crypto'
import type { AccountService } from '../account/account-service.js'
import type { AuthContext } from '../context.js'
import { codedError } from '../errors.js'
import { parseForm } from './form-body.js'
import type { ResolvedResourceServer } from './idp-options.js'
import type { LocalIdp } from './local-idp.js'
import { installOAuthErrorHandler } from './oauth-errors.js'
import { BODY_LIMIT, passwordFieldMax, routeLimits, throttled } from './route-limits.js'

const FORM_TYPE = 'application/x-www-form-urlencoded'

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

/**
 * The OAuth 2 endpoints of the local IdP: `POST /auth/local/token` (the
 * configured grants), `/auth/local/verify-token` (RFC 7662, only with
 * resource servers configured) and `/auth/local/revoke` (RFC 7009). They take
 * JSON or form bodies, answer errors in the RFC 6749 §5.2 shape and are never
 * cached. They set no cookie, so a cross-site form post gains nothing here.
 * @internal
 */
export async function registerTokenRoutes(scope: FastifyInstance, ctx: AuthContext, idp: LocalIdp, account: AccountService): Promise<void> {
  const options = idp.options
  const { strict, lenient } = routeLimits(options)
  const passwordMax = passwordFieldMax(options)
  const grants = new Set<string>(options.grants)
  const clients = new Map(options.clients.map((c) => [c.clientId, c]))
  const resourceServers = new Map(options.resourceServers.map((r) => [r.id, r]))

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
          if (!account.maySignIn(result.user)) throw codedError('ERR_EMAIL_NOT_VERIFIED', 'the e-mail address of this account is not verified')
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
}
