// The demo's own JSON routes: what a site owner writes to let admins change
// claims and sessions. Each route says how it is protected, and the admin
// routes sit behind the same AdminOnly policy as the admin page.
import { WireAuthError } from '@wire-auth/server'
import { setAudience } from './documents.mjs'

const claimBody = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { type: 'string', minLength: 1, maxLength: 128 },
    value: { type: 'string', minLength: 1, maxLength: 1024 },
  },
}
const userParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
}
const docParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
}
const audienceBody = {
  type: 'object',
  additionalProperties: false,
  required: ['audience'],
  properties: { audience: { type: 'string', minLength: 1, maxLength: 64 } },
}
const sessionParams = {
  type: 'object',
  required: ['sessionId'],
  properties: { sessionId: { type: 'string', pattern: '^[0-9a-f]{16,128}$' } },
}

/**
 * Registers `/demo/api/*`.
 * @param {import('fastify').FastifyInstance} app
 */
export function registerDemoApi(app) {
  const admin = { config: { wireAuth: 'guarded' }, preHandler: app.requirePolicy('AdminOnly') }
  const signedIn = { config: { wireAuth: 'guarded' }, preHandler: app.requirePolicy() }

  app.post('/demo/api/users/:id/claims', { ...admin, schema: { params: userParams, body: { ...claimBody, required: ['type', 'value'] } } }, async (request) => {
    const user = await app.auth.grantTo(request.params.id, request.body.type, request.body.value, request)
    return { user: { id: user.id, claims: user.claims } }
  })

  app.post('/demo/api/users/:id/claims/revoke', { ...admin, schema: { params: userParams, body: claimBody } }, async (request) => {
    const user = await app.auth.revokeFrom(request.params.id, request.body.type, request.body.value, request)
    return { user: { id: user.id, claims: user.claims } }
  })

  app.post('/demo/api/users/:id/sessions/revoke', { ...admin, schema: { params: userParams } }, async (request) => {
    return { ended: await app.auth.revokeAllSessions(request.params.id, request) }
  })

  // Data a policy reads changed: app.auth.refresh re-evaluates the regions that depend on it, in every open tab.
  // config.authGuard decides before anything of the route runs (body parsing and validation included).
  app.post('/demo/api/documents/:id/audience', { config: { authGuard: 'AdminOnly' }, schema: { params: docParams, body: audienceBody } }, async (request, reply) => {
    if (!setAudience(request.params.id, request.body.audience)) {
      // The code decides the status (400) through wire-auth's error table; its error handler writes the body.
      throw new WireAuthError('ERR_VALIDATION', 'unknown document or audience')
    }
    await app.auth.refresh({ params: { docId: request.params.id } })
    await app.auth.refresh({ fragment: 'document-access' })
    return { ok: true }
  })

  app.post('/demo/api/me/sessions/revoke-all', signedIn, async (request) => {
    return { ended: await app.auth.revokeAllSessions(request.user.userId, request) }
  })

  app.post('/demo/api/me/sessions/:sessionId/revoke', { ...signedIn, schema: { params: sessionParams } }, async (request) => {
    return { ended: await app.auth.revokeSessionById(request.user.userId, request.params.sessionId, request) }
  })
}
