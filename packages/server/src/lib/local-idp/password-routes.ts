import type { FastifyInstance } from 'fastify'
import type { AccountService } from '../account/account-service.js'
import type { AuthContext } from '../context.js'
import { codedError } from '../errors.js'
import type { UserRecord } from '../store/auth-store.js'
import type { LocalIdp } from './local-idp.js'
import { BODY_LIMIT, passwordFieldMax, routeLimits, throttled } from './route-limits.js'

/** Lifetime of the device cookie: 90 days. */
const DEVICE_COOKIE_MAX_AGE_S = 90 * 24 * 60 * 60

interface Credentials {
  email: string
  password: string
}
interface RegisterBody extends Credentials {
  name?: string | null
}

function userView(user: UserRecord): { id: string; email: string | null; name: string | null } {
  return { id: user.id, email: user.email, name: user.name }
}

/**
 * Sign-up and sign-in with e-mail and password: `POST /auth/local/register`
 * (when `allowRegistration`) and `POST /auth/local/login`. Both answer with
 * the user and a new session cookie (unless `requireVerifiedEmail` holds the
 * session back), run under the login throttle and are audited.
 * @internal
 */
export function registerPasswordRoutes(scope: FastifyInstance, ctx: AuthContext, idp: LocalIdp, account: AccountService): void {
  const options = idp.options
  const { strict } = routeLimits(options)
  const credentialProps = {
    email: { type: 'string', maxLength: 1024 },
    password: { type: 'string', maxLength: passwordFieldMax(options) },
  }
  // The device cookie (F3): a browser that signed in to an account before is
  // not throttled by other clients' failures on that account. Signed, HttpOnly,
  // host-locked when secure; it names the account only as a hash prefix.
  const { secure, sameSite } = ctx.options.session
  const deviceCookie = secure ? '__Host-wa_dev' : 'wa_dev'
  const deviceCookieOptions = { httpOnly: true, secure, sameSite, path: '/', maxAge: DEVICE_COOKIE_MAX_AGE_S } as const

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
        // With mail configured, the new address gets its verification link (in the background: the answer never waits on delivery).
        if (account.capabilities().emailVerification) {
          await account.sendVerification(user, request, true).catch((err: unknown) => request.log.warn({ code: (err as { code?: unknown }).code, err }, 'wire-auth: no verification mail at sign-up'))
        }
        await ctx.audit(request, { action: 'user.register', actorId: user.id, targetId: user.id, detail: { via: 'local' } })
        // requireVerifiedEmail: no session until the address is verified.
        if (!account.maySignIn(user)) return reply.code(201).send({ user: userView(user), verificationRequired: true })
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
      if (!account.maySignIn(result.user)) {
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
}
