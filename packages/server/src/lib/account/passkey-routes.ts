import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuthActions } from '../auth-actions.js'
import type { AuthContext } from '../context.js'
import { codedError, Unauthenticated } from '../errors.js'
import { principalOf } from '../request-state.js'
import type { UserRecord } from '../store/auth-store.js'
import { strictValidatorCompiler } from '../strict-validator.js'
import type { AccountService } from './account-service.js'
import { PASSKEY_CHALLENGE_TTL_MS, passkeyView, type Passkeys } from './passkeys.js'

const ONE_MINUTE = 60_000
/** WebAuthn answers are a few KiB; attestation certificates stay well below this. */
const BODY_LIMIT = 64 * 1024
const ID = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', minLength: 1, maxLength: 1024 } } } as const
const NAME = { type: 'string', minLength: 1, maxLength: 64 } as const
/** The options routes take `{}`: anything else is refused (400), never ignored. */
const EMPTY = { body: { type: 'object', additionalProperties: false, properties: {} } } as const
// The credential answers are checked by SimpleWebAuthn; here only their outer shape and size.
const CREDENTIAL = { type: 'object', required: ['id', 'rawId', 'response', 'type'], properties: { id: { type: 'string', maxLength: 1024 }, rawId: { type: 'string', maxLength: 1024 }, type: { type: 'string', maxLength: 32 }, response: { type: 'object' } } } as const

/**
 * Mounts the passkey routes (issue 18) under `/auth/passkeys`:
 *
 * - `POST /auth/passkeys/register/options` (signed in) → creation options; sets the challenge cookie
 * - `POST /auth/passkeys/register/verify` (signed in) `{ credential, name? }` → 201 `{ passkey }`
 * - `POST /auth/passkeys/login/options` → request options (discoverable: no allow-list); sets the challenge cookie
 * - `POST /auth/passkeys/login/verify` `{ credential }` → `{ user }` and a new session
 * - `GET  /auth/passkeys` (signed in) → `{ passkeys }`
 * - `POST /auth/passkeys/:id/rename` (signed in) `{ name }`; `POST /auth/passkeys/:id/delete` (signed in)
 * @internal
 */
export async function registerPasskeyRoutes(app: FastifyInstance, ctx: AuthContext, passkeys: Passkeys, actions: AuthActions, account: AccountService): Promise<void> {
  const { secure } = ctx.options.session
  const cookieName = secure ? '__Host-wa_pk' : 'wa_pk'
  // Strict: the ceremony's answer comes back by fetch from the same site.
  const cookieOptions = { httpOnly: true, secure, sameSite: 'strict' as const, path: '/', maxAge: PASSKEY_CHALLENGE_TTL_MS / 1000 }
  const rate = { max: ctx.options.localIdp?.rateLimitPerMinute ?? 20, timeWindow: ONE_MINUTE }
  const open = { config: { wireAuth: 'public' as const, rateLimit: rate }, bodyLimit: BODY_LIMIT }
  const own = { config: { wireAuth: 'guarded' as const, rateLimit: rate }, bodyLimit: BODY_LIMIT }

  async function signedInUser(request: FastifyRequest): Promise<UserRecord> {
    const principal = principalOf(request)
    if (!principal.isAuthenticated || principal.userId === null) throw new Unauthenticated()
    const user = await ctx.store.getUser(principal.userId)
    if (user === null || user.disabled) throw new Unauthenticated()
    return user
  }
  const challengeCookie = (request: FastifyRequest, reply: FastifyReply): unknown => {
    const value = request.cookies?.[cookieName]
    // Same attributes as when set: a `__Host-` cookie is only replaced by a Secure one.
    reply.clearCookie(cookieName, { path: '/', secure, httpOnly: true, sameSite: 'strict' })
    return value
  }

  await app.register(async function passkeyRoutes(scope) {
    scope.setValidatorCompiler(strictValidatorCompiler)
    scope.addHook('onSend', async (_request, reply, payload) => {
      reply.header('cache-control', 'no-store')
      return payload
    })

    scope.post('/auth/passkeys/register/options', { ...own, schema: EMPTY }, async (request, reply) => {
      const { options, cookie } = await passkeys.registrationOptions(await signedInUser(request))
      reply.setCookie(cookieName, cookie, cookieOptions)
      return options
    })

    scope.post<{ Body: { credential: unknown; name?: string } }>(
      '/auth/passkeys/register/verify',
      { ...own, schema: { body: { type: 'object', required: ['credential'], additionalProperties: false, properties: { credential: CREDENTIAL, name: NAME } } } },
      async (request, reply) => {
        const user = await signedInUser(request)
        const record = await passkeys.register(user, challengeCookie(request, reply), request.body.credential, request.body.name, request)
        return reply.code(201).send({ passkey: passkeyView(record) })
      },
    )

    scope.post('/auth/passkeys/login/options', { ...open, schema: EMPTY }, async (_request, reply) => {
      const { options, cookie } = await passkeys.authenticationOptions()
      reply.setCookie(cookieName, cookie, cookieOptions)
      return options
    })

    scope.post<{ Body: { credential: unknown } }>(
      '/auth/passkeys/login/verify',
      { ...open, schema: { body: { type: 'object', required: ['credential'], additionalProperties: false, properties: { credential: CREDENTIAL } } } },
      async (request, reply) => {
        const userId = await passkeys.authenticate(challengeCookie(request, reply), request.body.credential, request)
        const user = await ctx.store.getUser(userId)
        if (user === null || user.disabled) {
          await ctx.audit(request, { action: 'login.failure', actorId: null, targetId: userId, detail: { via: 'passkey', reason: 'disabled' } })
          throw codedError('ERR_PASSKEY_INVALID', 'the passkey could not be verified')
        }
        if (!account.maySignIn(user)) throw codedError('ERR_EMAIL_NOT_VERIFIED', 'verify your e-mail address first')
        await actions.signIn(request, reply, user)
        await ctx.audit(request, { action: 'login.success', actorId: user.id, targetId: user.id, detail: { via: 'passkey' } })
        return { user: { id: user.id, email: user.email, name: user.name } }
      },
    )

    scope.get('/auth/passkeys', { config: { wireAuth: 'guarded' as const } }, async (request) => {
      const user = await signedInUser(request)
      return { passkeys: (await ctx.store.listPasskeys(user.id)).map(passkeyView) }
    })

    scope.post<{ Params: { id: string }; Body: { name: string } }>(
      '/auth/passkeys/:id/rename',
      { ...own, schema: { params: ID, body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: NAME } } } },
      async (request) => {
        const user = await signedInUser(request)
        if (!(await ctx.store.renamePasskey(user.id, request.params.id, request.body.name))) throw codedError('ERR_PASSKEY_NOT_FOUND', 'no such passkey')
        await ctx.audit(request, { action: 'passkey.rename', actorId: user.id, targetId: user.id, detail: { passkey: request.params.id.slice(0, 16) } })
        return { passkey: passkeyView((await ctx.store.getPasskey(request.params.id))!) }
      },
    )

    scope.post<{ Params: { id: string } }>('/auth/passkeys/:id/delete', { ...own, schema: { params: ID, ...EMPTY } }, async (request) => {
      const user = await signedInUser(request)
      if (!(await ctx.store.deletePasskey(user.id, request.params.id))) throw codedError('ERR_PASSKEY_NOT_FOUND', 'no such passkey')
      await ctx.audit(request, { action: 'passkey.remove', actorId: user.id, targetId: user.id, detail: { passkey: request.params.id.slice(0, 16) } })
      return { removed: true }
    })
  })
}
