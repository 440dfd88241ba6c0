// The demo's own JSON routes: what a site owner writes to let admins change
// claims and sessions. Each route says how it is protected, and the admin
// routes sit behind the same AdminOnly policy as the admin page.

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

  app.post('/demo/api/me/sessions/revoke-all', signedIn, async (request) => {
    return { ended: await app.auth.revokeAllSessions(request.user.userId, request) }
  })

  app.post('/demo/api/me/sessions/:sessionId/revoke', { ...signedIn, schema: { params: sessionParams } }, async (request) => {
    return { ended: await app.auth.revokeSessionById(request.user.userId, request.params.sessionId, request) }
  })
}
