import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AuthContext } from '../context.js'
import { Unauthenticated } from '../errors.js'
import { principalOf, sessionIdOf } from '../request-state.js'
import type { UserRecord } from '../store/auth-store.js'
import { strictValidatorCompiler } from '../strict-validator.js'
import type { AccountService } from './account-service.js'

const ONE_MINUTE = 60_000
const BODY_LIMIT = 64 * 1024
const TOKEN = { type: 'string', maxLength: 256 } as const

function userView(user: UserRecord): { id: string; email: string | null; name: string | null; emailVerified: boolean } {
  return { id: user.id, email: user.email, name: user.name, emailVerified: user.claims.some((c) => c.type === 'email_verified' && c.value === 'true') }
}

function signedIn(request: FastifyRequest): string {
  const user = principalOf(request)
  if (!user.isAuthenticated || user.userId === null) throw new Unauthenticated()
  return user.userId
}

/**
 * Mounts the account flows (issue 18) under `/auth/account/`:
 *
 * - `GET  /auth/account/capabilities` → which flows are on
 * - `POST /auth/account/verify-email/send` (signed in) → 202 `{ sent }` (a link to the account's address)
 * - `POST /auth/account/verify-email` `{ token }` → `{ user }` (grants `email_verified=true`)
 * - `POST /auth/account/password/forgot` `{ email }` → 202 `{ accepted: true }`, whatever the address
 * - `POST /auth/account/password/reset` `{ token, password }` → `{ reset: true }` (signed out everywhere)
 * - `POST /auth/account/email/change` (signed in) `{ email, password }` → 202 `{ accepted: true }` (a link to the new address)
 * - `POST /auth/account/password/change` (signed in) `{ currentPassword, newPassword }` → `{ user }`
 * @internal
 */
export async function registerAccountRoutes(app: FastifyInstance, ctx: AuthContext, service: AccountService): Promise<void> {
  const perMinute = ctx.options.localIdp?.rateLimitPerMinute ?? 20
  const passwordMax = (ctx.options.localIdp?.passwordMaxLength ?? 1024) * 4
  const rate = { max: perMinute, timeWindow: ONE_MINUTE }
  // Public: the link's token (or nothing, for "forgot") is the credential.
  const limited = { config: { wireAuth: 'public' as const, rateLimit: rate }, bodyLimit: BODY_LIMIT }
  // Guarded: the caller's own account; 401 when anonymous.
  const own = { config: { wireAuth: 'guarded' as const, rateLimit: rate }, bodyLimit: BODY_LIMIT }

  await app.register(async function accountRoutes(scope) {
    if (!scope.hasDecorator('rateLimit')) await scope.register(rateLimit, { global: false })
    scope.setValidatorCompiler(strictValidatorCompiler)
    scope.addHook('onSend', async (_request, reply, payload) => {
      reply.header('cache-control', 'no-store')
      return payload
    })

    scope.get('/auth/account/capabilities', { config: { wireAuth: 'public' } }, async () => service.capabilities())

    scope.post('/auth/account/verify-email/send', { ...own, schema: { body: { type: 'object', additionalProperties: false, properties: {} } } }, async (request, reply) => {
      const user = await ctx.store.getUser(signedIn(request))
      if (user === null) throw new Unauthenticated()
      const sent = await service.sendVerification(user, request)
      return reply.code(sent ? 202 : 200).send({ sent })
    })

    scope.post<{ Body: { token: string } }>(
      '/auth/account/verify-email',
      { ...limited, schema: { body: { type: 'object', required: ['token'], additionalProperties: false, properties: { token: TOKEN } } } },
      async (request) => {
        const user = await service.verifyEmail(request.body.token, principalOf(request).userId, request)
        return { user: userView(user) }
      },
    )

    scope.post<{ Body: { email: string } }>(
      '/auth/account/password/forgot',
      { ...limited, schema: { body: { type: 'object', required: ['email'], additionalProperties: false, properties: { email: { type: 'string', maxLength: 1024 } } } } },
      async (request, reply) => {
        await service.requestPasswordReset(request.body.email, request.ip, request)
        return reply.code(202).send({ accepted: true })
      },
    )

    scope.post<{ Body: { token: string; password: string } }>(
      '/auth/account/password/reset',
      {
        ...limited,
        schema: { body: { type: 'object', required: ['token', 'password'], additionalProperties: false, properties: { token: TOKEN, password: { type: 'string', maxLength: passwordMax } } } },
      },
      async (request) => {
        await service.resetPassword(request.body.token, request.body.password, principalOf(request).userId, request)
        return { reset: true }
      },
    )

    scope.post<{ Body: { email: string; password: string } }>(
      '/auth/account/email/change',
      {
        ...own,
        schema: {
          body: {
            type: 'object',
            required: ['email', 'password'],
            additionalProperties: false,
            properties: { email: { type: 'string', maxLength: 1024 }, password: { type: 'string', maxLength: passwordMax } },
          },
        },
      },
      async (request, reply) => {
        await service.requestEmailChange(signedIn(request), request.body.email, request.body.password, request.ip, request)
        return reply.code(202).send({ accepted: true })
      },
    )

    scope.post<{ Body: { currentPassword: string; newPassword: string } }>(
      '/auth/account/password/change',
      {
        ...own,
        schema: {
          body: {
            type: 'object',
            required: ['currentPassword', 'newPassword'],
            additionalProperties: false,
            properties: { currentPassword: { type: 'string', maxLength: passwordMax }, newPassword: { type: 'string', maxLength: passwordMax } },
          },
        },
      },
      async (request) => {
        const userId = signedIn(request)
        const user = await service.changePassword(userId, sessionIdOf(request), request.body.currentPassword, request.body.newPassword, request.ip, request)
        return { user: userView(user) }
      },
    )
  })
}
