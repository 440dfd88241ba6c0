// What a TypeScript consumer writes, checked under `strict` against the
// built declarations (packages/*/dist/*.d.ts) by docs-examples.test.ts.
// Each `@ts-expect-error` is a check that a mistake does not compile.
import Fastify from 'fastify'
import {
  connectAuth,
  html,
  principalOf,
  securityHeaders,
  wireAuthErrorHandler,
  wireAuthOf,
  type FragmentOptions,
  type FragmentRender,
  type FragmentRenderContext,
  type RequirePolicySpec,
} from '@wire-auth/server'

declare module '@wire-auth/server' {
  interface WireAuthPolicies {
    AdminOnly: true
    CanReadDocument: true
  }
}

const app = Fastify()
const engine = await connectAuth(app, { localIdp: true, allowedOrigins: ['https://www.example.com'] })
engine.addPolicy('AdminOnly', { requiresClaim: ['role', 'admin'] })

// The augmentation is reachable from the package's index: app.fragment, app.localIdp, request.user…
app.localIdp?.jwks()
app.get('/me', async (request) => ({ id: request.user.userId, session: request.sessionId, same: principalOf(request) === request.user }))

// requirePolicy: declared names, spec objects; typos do not compile.
app.get('/admin', { preHandler: app.requirePolicy('AdminOnly'), onRequest: securityHeaders() }, async () => 'ok')
app.get('/doc', { preHandler: app.requirePolicy({ policy: 'CanReadDocument', redirect: '/login' }) }, async () => 'ok')
app.get('/beta', { preHandler: app.requirePolicy({ claims: [['role', 'beta']] }) }, async () => 'ok')
app.get('/any', { preHandler: app.requirePolicy() }, async () => 'ok')
// @ts-expect-error a misspelt policy name
app.requirePolicy('AdminOnyl')
// @ts-expect-error a misspelt key
app.requirePolicy({ polcy: 'AdminOnly' })
const spec: RequirePolicySpec = { authenticated: true }
app.requirePolicy(spec)

// config.authGuard and app.page take the same specs (plus `true`: signed in); typos do not compile.
app.get('/reports', { config: { authGuard: 'AdminOnly' } }, async () => 'ok')
app.get('/billing', { config: { authGuard: { policy: 'CanReadDocument', redirect: '/plans' } } }, async () => 'ok')
app.get('/ops', { config: { authGuard: { claims: [['role', 'admin']] } } }, async () => 'ok')
app.get('/mine', { config: { authGuard: true } }, async () => 'ok')
// @ts-expect-error a misspelt policy name
app.get('/typo', { config: { authGuard: 'AdminOnyl' } }, async () => 'ok')
app.page('/admin-page', './public/admin.html', { guard: 'AdminOnly' })
// @ts-expect-error a misspelt key
app.page('/typo-page', './public/admin.html', { guard: { polcy: 'AdminOnly' } })
await app.auth.refresh({ fragment: 'document', params: { docId: 'd1' } })
// @ts-expect-error refresh filters are fragment, policy, params, userId
await app.auth.refresh({ fragmnt: 'document' })

// load's result types render's data.
app.fragment('news', { authenticated: true, load: async ({ user }) => ({ headline: `for ${user.userId}`, count: 3 }) }, ({ data }) => {
  const count: number = data.count
  return html`<p>${data.headline} (${count})</p>`
})
app.fragment('news-typo', { authenticated: true, load: () => ({ headline: 'x' }) }, ({ data }) => {
  // @ts-expect-error no such field in load's result
  return html`<p>${data.headlin}</p>`
})
// Without load there is no data.
app.fragment('plain', { public: true }, ({ data }) => {
  const nothing: undefined = data
  return html`<p>${String(nothing)}</p>`
})
// bindVerdict: data is absent when denied.
app.fragment('verdict', { policy: 'AdminOnly', bindVerdict: true, load: () => ({ n: 1 }) }, ({ data, allowed }) => {
  // @ts-expect-error possibly undefined
  const n: number = data.n
  return allowed ? html`<p>${n}</p>` : html`<p>${data?.n ?? 0}</p>`
})

// The public types are exported.
const options: FragmentOptions<{ n: number }> = { claims: [['role', 'admin']], load: () => ({ n: 1 }) }
const render: FragmentRender<{ n: number }> = (ctx: FragmentRenderContext<{ n: number }>) => html`<b>${ctx.data.n}</b>`
void options
void render

// Renamed decorators stay typed through wireAuthOf.
const { auth, fragment } = wireAuthOf(app)
app.post('/beta/join', async (request) => {
  await auth.grant(request.user, request, 'role', 'beta')
  return { ok: true }
})
fragment('x', { public: true }, () => html`x`)
app.setErrorHandler(wireAuthErrorHandler)
await app.listen({ port: 0 })
