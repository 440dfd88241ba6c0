// Issue 21: what nothing observed before — the element-policy spec cache stays
// bounded by the registered policies whatever names clients send, and
// per-user fragment HTML varies on Cookie and Authorization also when no
// CORS origin is configured (so a shared cache never serves it to another user).
import { createPolicyEngine, createPrincipal, html, isRegionProblem, parseRegionRequest, resolveSafeRedirect, type RegionRequest } from '@wire-auth/core'
import { describe, expect, it } from 'vitest'
import { cachedPolicySpecCount, FragmentRegistry } from '../src/lib/fragments/fragment-registry.js'
import { appsPerTest, signedInUser } from './support/app.js'

const quiet = { warn: () => {}, error: () => {} }

function region(fields: Partial<RegionRequest>): RegionRequest {
  const parsed = parseRegionRequest({ id: 'r', kind: 'region', ...fields })
  if (isRegionProblem(parsed)) throw new Error(parsed.message)
  return parsed
}

describe('the element-policy spec cache', () => {
  it('holds registered policy names only, however many names clients send', async () => {
    const engine = createPolicyEngine({ logger: quiet })
    engine.addPolicy('CacheBoundBeta', { requiresClaim: ['role', 'beta'] })
    const registry = new FragmentRegistry({ engine, log: quiet, loginUrl: '/login', timeoutMs: 500, safeRedirect: (v) => resolveSafeRedirect(v, { baseOrigin: 'https://a.example', allowedOrigins: [] }) })
    registry.register('news', { public: true }, () => html`<p>news</p>`)
    const user = createPrincipal({ userId: 'u1', claims: [{ type: 'role', value: 'beta' }] })
    const before = cachedPolicySpecCount()
    for (let i = 0; i < 500; i++) {
      const result = await registry.evaluateRegion(region({ fragment: 'news', policy: `Unknown${i}` }), user, null)
      expect(result).toMatchObject({ status: 'denied', code: 'ERR_POLICY_NOT_FOUND' })
    }
    // The same through the claims path (element policy and claims together).
    await registry.evaluateRegion(region({ fragment: 'news', policy: 'UnknownWithClaims', claims: [['role', 'beta']] }), user, null)
    expect(cachedPolicySpecCount()).toBe(before)
    expect(await registry.evaluateRegion(region({ fragment: 'news', policy: 'CacheBoundBeta' }), user, null)).toMatchObject({ status: 'allowed' })
    expect(await registry.evaluateRegion(region({ fragment: 'news', policy: 'CacheBoundBeta' }), user, null)).toMatchObject({ status: 'allowed' })
    expect(cachedPolicySpecCount()).toBe(before + 1)
  })
})

describe('GET /auth/fragments/:name without CORS', () => {
  const apps = appsPerTest()

  it('varies on Cookie and Authorization and is never stored', async () => {
    const app = await apps.build()
    app.fragment('hello', { authenticated: true }, ({ user }) => html`<p>${user.name}</p>`)
    // As behind a host app's own CORS handling: nothing has set Vary yet.
    app.addHook('preHandler', async (_request, reply) => {
      reply.removeHeader('vary')
    })
    const { cookie } = await signedInUser(app, undefined, 'Ada')
    const response = await app.inject({ url: '/auth/fragments/hello', headers: { cookie } })
    expect(response.statusCode).toBe(200)
    expect(response.body).toBe('<p>Ada</p>')
    expect(response.headers['access-control-allow-origin']).toBeUndefined()
    expect(response.headers.vary).toBe('Cookie, Authorization')
    expect(response.headers['cache-control']).toBe('private, no-store')
    const denied = await app.inject({ url: '/auth/fragments/hello' })
    expect(denied.statusCode).toBe(403)
    expect(denied.headers.vary).toBe('Cookie, Authorization')
    // With CORS it appends to Origin.
    const withOrigin = await app.inject({ url: '/auth/fragments/hello', headers: { cookie, origin: 'http://127.0.0.1' } })
    expect(withOrigin.statusCode).toBe(200)
  })
})
