import { html } from '@wire-auth/core'
import type { FastifyInstance } from 'fastify'
import { beforeEach, describe, expect, it } from 'vitest'
import { appsPerTest, signedInUser } from './support/app.js'

const apps = appsPerTest()
let app: FastifyInstance
let calls: { load: number; render: number }

beforeEach(async () => {
  app = await apps.build({ allowedOrigins: ['https://www.example.com'], live: { maxRegionsPerSocket: 120 } })
  calls = { load: 0, render: 0 }
  app.authEngine.addPolicy('BetaOnly', { requiresClaim: ['role', 'beta'] })
  app.authEngine.addPolicy('Owner', (user, { params }) => {
    if (params.itemId === 'boom') throw new Error('policy bug')
    return user.userId === params.ownerId
  })
  app.fragment(
    'beta-panel',
    {
      policy: 'BetaOnly',
      load: () => {
        calls.load++
        return { headline: 'Beta news' }
      },
      else: () => html`<p>Join the beta</p>`,
    },
    ({ user, data }) => {
      calls.render++
      return html`<section>Hi ${user.name}: ${data?.headline}</section>`
    },
  )
  app.fragment('admin-page', { claims: [['role', 'admin']], redirect: '/no-access' }, () => html`<h1>Admin</h1>`)
  app.fragment('item', { policy: 'Owner' }, ({ params }) => html`<li>${String(params.itemId)}</li>`)
  app.fragment('news', { public: true }, () => html`<p>Public news</p>`)
  app.fragment('greeting', { authenticated: true, bindVerdict: true }, ({ allowed, user }) => (allowed ? html`<p>Hello ${user.name}</p>` : html`<p>Please sign in</p>`))
})

function post(body: unknown, cookie?: string) {
  return app.inject({ method: 'POST', url: '/auth/fragments', payload: body as object, headers: cookie === undefined ? {} : { cookie } })
}

describe('POST /auth/fragments', () => {
  it('answers the principal and each region for an anonymous visitor', async () => {
    const response = await post({
      regions: [
        { id: 'r1', kind: 'region', fragment: 'beta-panel' },
        { id: 'r2', kind: 'region', fragment: 'news' },
        { id: 'g1', kind: 'guard', fragment: 'admin-page', returnTo: '/admin' },
        { id: 'r3', kind: 'region', fragment: 'greeting' },
      ],
    })
    expect(response.statusCode).toBe(200)
    expect(response.headers['cache-control']).toBe('no-store')
    expect(response.json()).toEqual({
      principal: { authenticated: false, id: null, name: null },
      regions: [
        { id: 'r1', status: 'denied', html: '<p>Join the beta</p>', code: 'ERR_UNAUTHENTICATED' },
        { id: 'r2', status: 'allowed', html: '<p>Public news</p>' },
        { id: 'g1', status: 'redirect', location: '/no-access', code: 'ERR_UNAUTHENTICATED' },
        { id: 'r3', status: 'denied', html: '<p>Please sign in</p>', code: 'ERR_UNAUTHENTICATED' },
      ],
    })
    expect(calls).toEqual({ load: 0, render: 0 })
  })

  it('renders for a signed-in user holding the claim, and never runs load/render for one who does not', async () => {
    const { user, cookie } = await signedInUser(app, 'ada@example.com', 'Ada')
    const denied = await post({ regions: [{ id: 'r1', kind: 'region', fragment: 'beta-panel' }] }, cookie)
    expect(denied.json().regions).toEqual([{ id: 'r1', status: 'denied', html: '<p>Join the beta</p>', code: 'ERR_DENIED' }])
    expect(calls).toEqual({ load: 0, render: 0 })

    await app.auth.grantTo(user.id, 'role', 'beta')
    const allowed = await post({ regions: [{ id: 'r1', kind: 'region', fragment: 'beta-panel' }, { id: 'r3', fragment: 'greeting' }] }, cookie)
    expect(allowed.json()).toEqual({
      principal: { authenticated: true, id: user.id, name: 'Ada' },
      regions: [
        { id: 'r1', status: 'allowed', html: '<section>Hi Ada: Beta news</section>' },
        { id: 'r3', status: 'allowed', html: '<p>Hello Ada</p>' },
      ],
    })
    expect(calls).toEqual({ load: 1, render: 1 })
  })

  it('element policy and claims only add to the fragment guard', async () => {
    app.authEngine.addPolicy('Everyone', () => true)
    const { user, cookie } = await signedInUser(app)
    await app.auth.grantTo(user.id, 'role', 'beta')
    const response = await post(
      {
        regions: [
          { id: 'a', fragment: 'admin-page', policy: 'Everyone' },
          { id: 'b', fragment: 'admin-page', claims: [['role', 'beta']] },
          { id: 'c', fragment: 'news', claims: [['role', 'admin']] },
          { id: 'd', fragment: 'news', policy: 'BetaOnly' },
        ],
      },
      cookie,
    )
    expect(response.json().regions.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([
      ['a', 'denied'],
      ['b', 'denied'],
      ['c', 'denied'],
      ['d', 'allowed'],
    ])
  })

  it('100 regions in one batch: a throwing policy and an unknown fragment deny only themselves', async () => {
    const { user, cookie } = await signedInUser(app)
    const regions = Array.from({ length: 100 }, (_, i) => ({ id: `i${i}`, fragment: 'item', params: { itemId: String(i), ownerId: user.id } }))
    regions[10] = { id: 'i10', fragment: 'item', params: { itemId: 'boom', ownerId: user.id } }
    regions[20] = { id: 'i20', fragment: 'missing', params: { itemId: '20', ownerId: user.id } }
    regions[30] = { id: 'i30', fragment: 'item', params: { itemId: '30', ownerId: 'someone-else' } }
    const response = await post({ regions }, cookie)
    expect(response.statusCode).toBe(200)
    const results = response.json().regions as Array<{ id: string; status: string; code?: string; html?: string }>
    expect(results).toHaveLength(100)
    expect(results[10]).toMatchObject({ status: 'denied', code: 'ERR_POLICY_THREW' })
    expect(results[20]).toMatchObject({ status: 'denied', code: 'ERR_FRAGMENT_NOT_FOUND' })
    expect(results[30]).toMatchObject({ status: 'denied', code: 'ERR_DENIED' })
    expect(results.filter((r) => r.status === 'allowed')).toHaveLength(97)
    expect(results[99]).toEqual({ id: 'i99', status: 'allowed', html: '<li>99</li>' })
  })

  const invalid: Array<[string, unknown]> = [
    ['no regions field', {}],
    ['regions not an array', { regions: 'r1' }],
    ['a region without id', { regions: [{ fragment: 'news' }] }],
    ['a bad id', { regions: [{ id: 'a b', fragment: 'news' }] }],
    ['a bad kind', { regions: [{ id: 'a', kind: 'page', fragment: 'news' }] }],
    ['a region without fragment', { regions: [{ id: 'a', kind: 'region' }] }],
    ['an unknown region field', { regions: [{ id: 'a', fragment: 'news', html: '<p>forged</p>' }] }],
    ['a claim triple', { regions: [{ id: 'a', fragment: 'news', claims: [['a', 'b', 'c']] }] }],
    ['params as an array', { regions: [{ id: 'a', fragment: 'news', params: [1, 2] }] }],
    ['duplicate ids', { regions: [{ id: 'a', fragment: 'news' }, { id: 'a', fragment: 'news' }] }],
    ['more than maxRegionsPerSocket regions', { regions: Array.from({ length: 121 }, (_, i) => ({ id: `r${i}`, fragment: 'news' })) }],
  ]
  for (const [what, body] of invalid) {
    it(`answers 400 ERR_VALIDATION for ${what}`, async () => {
      const response = await post(body)
      expect(response.statusCode).toBe(400)
      expect(response.json().error.code).toBe('ERR_VALIDATION')
    })
  }

  it('another content type cannot skip validation (coded 4xx, no fragment code runs)', async () => {
    const body = 'regions=%5B%7B%22id%22%3A%22r%22%2C%22fragment%22%3A%22beta-panel%22%7D%5D'
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=utf-7']) {
      const response = await app.inject({ method: 'POST', url: '/auth/fragments', payload: body, headers: { 'content-type': type } })
      expect([400, 415]).toContain(response.statusCode)
      expect(['ERR_VALIDATION', 'ERR_UNSUPPORTED_MEDIA_TYPE']).toContain(response.json().error.code)
    }
    expect(calls).toEqual({ load: 0, render: 0 })
  })

  it('answers 400 ERR_PARAMS_TOO_LARGE for params over 4 KiB (the one params rule, as on the socket)', async () => {
    const response = await post({ regions: [{ id: 'a', fragment: 'news', params: { blob: 'x'.repeat(5000) } }] })
    expect(response.statusCode).toBe(400)
    expect(response.json().error.code).toBe('ERR_PARAMS_TOO_LARGE')
  })

  it('100 regions with 600 B params each fit (under live.maxParamsBytesPerSocket per request); a body over 1 MiB is refused with 413', async () => {
    const fits = await post({ regions: Array.from({ length: 100 }, (_, i) => ({ id: `r${i}`, fragment: 'news', params: { pad: 'x'.repeat(600) } })) })
    expect(fits.statusCode).toBe(200)
    const regions = Array.from({ length: 120 }, (_, i) => ({ id: `r${i}`, fragment: 'news', params: { pad: 'x'.repeat(9000) } }))
    const response = await post({ regions })
    expect(response.statusCode).toBe(413)
    expect(response.json().error.code).toBe('ERR_BODY_TOO_LARGE')
  })

  it('a cross-origin POST from a foreign origin is refused', async () => {
    const response = await app.inject({ method: 'POST', url: '/auth/fragments', payload: { regions: [] }, headers: { origin: 'https://evil.example' } })
    expect(response.statusCode).toBe(403)
    expect(response.json().error.code).toBe('ERR_ORIGIN_NOT_ALLOWED')
  })
})

describe('GET /auth/fragments/:name (no JavaScript)', () => {
  it('200 text/html when allowed', async () => {
    const response = await app.inject({ url: '/auth/fragments/news' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(response.headers['cache-control']).toBe('private, no-store')
    expect(response.body).toBe('<p>Public news</p>')
  })

  it('keeps CORS for allowed origins and varies on Origin, Cookie and Authorization', async () => {
    const response = await app.inject({ url: '/auth/fragments/news', headers: { origin: 'https://www.example.com' } })
    expect(response.statusCode).toBe(200)
    expect(response.headers['access-control-allow-origin']).toBe('https://www.example.com')
    expect(response.headers['access-control-allow-credentials']).toBe('true')
    expect(String(response.headers.vary)).toMatch(/Origin/)
    expect(String(response.headers.vary)).toMatch(/Cookie, Authorization/)
    const foreign = await app.inject({ url: '/auth/fragments/news', headers: { origin: 'https://evil.example' } })
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('passes params to policies and render', async () => {
    const { user, cookie } = await signedInUser(app)
    const params = encodeURIComponent(JSON.stringify({ itemId: '7', ownerId: user.id }))
    const response = await app.inject({ url: `/auth/fragments/item?params=${params}`, headers: { cookie } })
    expect(response.statusCode).toBe(200)
    expect(response.body).toBe('<li>7</li>')
  })

  it('403 on a denied region: else html when the fragment has one, else a coded JSON error', async () => {
    const withElse = await app.inject({ url: '/auth/fragments/beta-panel' })
    expect(withElse.statusCode).toBe(403)
    expect(withElse.headers['x-wire-auth-code']).toBe('ERR_UNAUTHENTICATED')
    expect(withElse.body).toBe('<p>Join the beta</p>')
    const bare = await app.inject({ url: '/auth/fragments/admin-page' })
    expect(bare.statusCode).toBe(403)
    expect(bare.json().error.code).toBe('ERR_UNAUTHENTICATED')
    expect(calls).toEqual({ load: 0, render: 0 })
  })

  it('303 to the redirect on a denied guard; login URL with returnTo when the redirect is unsafe or absent', async () => {
    const own = await app.inject({ url: '/auth/fragments/admin-page?kind=guard' })
    expect(own.statusCode).toBe(303)
    expect(own.headers.location).toBe('/no-access')
    const unsafe = await app.inject({ url: `/auth/fragments/beta-panel?kind=guard&redirect=${encodeURIComponent('//evil.example')}&returnTo=${encodeURIComponent('/beta')}` })
    expect(unsafe.statusCode).toBe(303)
    expect(unsafe.headers.location).toBe('/login?returnTo=%2Fbeta')
  })

  it('404 for an unknown fragment (and for a name that cannot be one)', async () => {
    for (const url of ['/auth/fragments/nope', '/auth/fragments/nope?kind=guard', '/auth/fragments/%3Cscript%3E']) {
      const response = await app.inject({ url })
      expect(response.statusCode).toBe(404)
      expect(response.json().error.code).toBe('ERR_FRAGMENT_NOT_FOUND')
    }
  })

  it('400 for params that are not a JSON object (ERR_PARAMS_INVALID, as on every transport) and for a bad kind', async () => {
    for (const [url, code] of [
      ['/auth/fragments/news?params=%7Bnot-json', 'ERR_PARAMS_INVALID'],
      ['/auth/fragments/news?params=%5B1%5D', 'ERR_PARAMS_INVALID'],
      ['/auth/fragments/news?kind=page', 'ERR_VALIDATION'],
    ]) {
      const response = await app.inject({ url })
      expect(response.statusCode).toBe(400)
      expect(response.json().error.code).toBe(code)
    }
  })

  it('500 ERR_FRAGMENT_RENDER_FAILED when render breaks, without leaking the error', async () => {
    app.fragment('broken', { public: true }, () => {
      throw new Error('secret stack detail')
    })
    const response = await app.inject({ url: '/auth/fragments/broken' })
    expect(response.statusCode).toBe(500)
    expect(response.json().error.code).toBe('ERR_FRAGMENT_RENDER_FAILED')
    expect(response.body).not.toContain('secret stack detail')
  })
})
