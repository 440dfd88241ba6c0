import type { FastifyInstance } from 'fastify'
import type { AuthActions } from '../auth-actions.js'
import { codedError, Unauthenticated } from '../errors.js'
import { principalOf, sessionIdOf } from '../request-state.js'
import { strictValidatorCompiler } from '../strict-validator.js'

/** One entry of `GET /auth/sessions`: what a user may see about their own sessions. */
export interface SessionSummary {
  /** The session's store id (the SHA-256 of the cookie value, never the cookie itself). */
  id: string
  /** True for the session of the request (this browser). */
  current: boolean
  createdAt: number
  lastSeenAt: number
  /** The `User-Agent` the session signed in with (at most 256 characters), or null. */
  userAgent: string | null
}

const SESSION_ID = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{64}$' } } } as const
/**
 * No field is known: unknown fields are refused, as on every wire-auth route; an empty object (or no body)
 * is fine. A JSON `null` is a body that is not an object: refused like any other (the HTTP fuzzer found it).
 */
async function refuseFields(request: { body: unknown }): Promise<void> {
  const body = request.body
  if (body === undefined) return
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length > 0) throw codedError('ERR_VALIDATION', 'the body must be empty or {}')
}

/**
 * The signed-in user's own sessions, for `<wire-auth-account>` and any
 * account page: `GET /auth/sessions`, `POST /auth/sessions/{id}/revoke`,
 * `POST /auth/sessions/revoke-all`. Session or bearer; anonymous → 401
 * `ERR_UNAUTHENTICATED`. Ending a session turns its sockets anonymous at
 * once (through {@link AuthActions}), in every worker.
 * @internal
 */
export function registerSessionRoutes(app: FastifyInstance, actions: AuthActions): void {
  function userIdOf(request: Parameters<typeof principalOf>[0]): string {
    const user = principalOf(request)
    if (!user.isAuthenticated || user.userId === null) throw new Unauthenticated()
    return user.userId
  }

  app.get('/auth/sessions', { config: { wireAuth: 'guarded' } }, async (request, reply) => {
    const userId = userIdOf(request)
    const current = sessionIdOf(request)
    const sessions = await actions.listSessions(userId)
    reply.header('cache-control', 'no-store')
    return {
      sessions: sessions.map((s): SessionSummary => ({
        id: s.id,
        current: s.id === current,
        createdAt: s.createdAt,
        lastSeenAt: s.lastSeenAt,
        userAgent: s.userAgent === null ? null : s.userAgent.slice(0, 256),
      })),
    }
  })

  app.post<{ Params: { id: string } }>(
    '/auth/sessions/:id/revoke',
    { config: { wireAuth: 'guarded' }, schema: { params: SESSION_ID }, validatorCompiler: strictValidatorCompiler, preValidation: refuseFields },
    async (request) => {
      const userId = userIdOf(request)
      // Another user's session id answers like an unknown one: false.
      return { ended: await actions.revokeSessionById(userId, request.params.id, request) }
    },
  )

  app.post('/auth/sessions/revoke-all', { config: { wireAuth: 'guarded' }, preValidation: refuseFields }, async (request) => {
    const userId = userIdOf(request)
    return { ended: await actions.revokeAllSessions(userId, request) }
  })
}
