// Secure defaults of every HTTP answer (checklist 8, 21, 22, 24): security
// headers and the CSP on every response, CORS only for allowedOrigins,
// CSRF refusal of every state-changing route from a foreign origin, cookie
// flags, no credentials in URLs, body size limits. Routes come from the
// router of the full product, so a new route is covered without editing
// this file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { routeKey } from './support/route-table.js'
import { expectSecurityHeaders, sampleUrl, validBody } from './support/requests.js'
import { cookieFrom, securityApp, SITE, type SecurityApp } from './support/security-app.js'
import { storeSnapshot } from './support/store-snapshot.js'

/** Origins that must get nothing: another site, the opaque origin, look-alikes of SITE. */
const FOREIGN_ORIGINS = [
  'https://evil.example',
  'null',
  'https://www.example.com.evil.example',
  'https://evil-www.example.com',
  'https://wwwexample.com',
  'http://www.example.com', // other scheme
  'https://www.example.com:8443', // other port
  'https://xn--www-example-8kg.com', // IDN look-alike
  'https://www.example.co',
]

let product: SecurityApp
let admin: { id: string; cookie: string }

beforeAll(async () => {
  product = await securityApp()
  const user = await product.app.authStore.createUser({ email: 'root@example.com', name: 'Root', passwordHash: null, claims: [{ type: 'role', value: 'admin' }] })
  admin = { id: user.id, cookie: await product.signIn(user.id) }
})
afterAll(async () => {
  await product?.close()
})

/** Every route once (no HEAD twins, no CORS catch-all), as a concrete request. */
function everyRoute() {
  return product.routes
    .filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS')
    .map((r) => ({ key: routeKey(r), method: r.method as 'GET' | 'POST', url: sampleUrl(r) }))
}

describe('security headers and the CSP on every response (checklist 24)', () => {
  it('every route answers with helmet headers and a strict script policy', async () => {
    const routes = everyRoute()
    expect(routes.length).toBeGreaterThan(15)
    for (const route of routes) {
      const response = await product.app.inject({ method: route.method, url: route.url, ...(route.method === 'POST' ? { payload: validBody(route.url) as object } : {}) })
      expectSecurityHeaders(response.headers, `${route.key} → ${response.statusCode}`)
    }
  })

  it('error answers, 404s, CSRF refusals, preflights and refused socket upgrades carry them too', async () => {
    const { app } = product
    const answers = {
      '404': await app.inject({ url: '/no/such/route' }),
      'bad JSON': await app.inject({ method: 'POST', url: '/auth/fragments', headers: { 'content-type': 'application/json' }, payload: '{"regions":' }),
      '415': await app.inject({ method: 'POST', url: '/auth/fragments', headers: { 'content-type': 'application/x-evil' }, payload: 'x' }),
      '413': await app.inject({ method: 'POST', url: '/auth/local/login', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: 'a'.repeat(70_000) }) }),
      'CSRF 403': await app.inject({ method: 'POST', url: '/auth/logout', headers: { origin: 'https://evil.example' } }),
      '401': await app.inject({ method: 'POST', url: '/demo/api/me/sessions/revoke-all', payload: {} }),
      'preflight (allowed)': await app.inject({ method: 'OPTIONS', url: '/auth/fragments', headers: { origin: SITE, 'access-control-request-method': 'POST' } }),
      'preflight (foreign)': await app.inject({ method: 'OPTIONS', url: '/auth/fragments', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } }),
      'socket upgrade (foreign origin)': await app.inject({ url: '/auth/live', headers: { origin: 'https://evil.example', connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } }),
    }
    for (const [what, response] of Object.entries(answers)) {
      expect(response.statusCode, what).toBeGreaterThanOrEqual(what.startsWith('preflight') ? 200 : 400)
      expectSecurityHeaders(response.headers, what)
    }
    for (const what of ['404', 'bad JSON', '415', '413', 'CSRF 403', '401', 'socket upgrade (foreign origin)'] as const) {
      expect(answers[what].headers['content-type'], what).toBe('application/json; charset=utf-8')
      expect(answers[what].json().error.code, what).toMatch(/^ERR_[A-Z_]+$/)
    }
  })

  it('content types are explicit: JSON answers, HTML fragments, the JavaScript bundle', async () => {
    const { app } = product
    expect((await app.inject({ url: '/auth/me' })).headers['content-type']).toBe('application/json; charset=utf-8')
    expect((await app.inject({ url: '/.well-known/jwks.json' })).headers['content-type']).toBe('application/json; charset=utf-8')
    const fragment = await app.inject({ url: '/auth/fragments/hello-card', headers: { cookie: admin.cookie } })
    expect(fragment.statusCode).toBe(200)
    expect(fragment.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(fragment.headers['cache-control']).toBe('private, no-store')
    const bundle = await app.inject({ url: '/wire-auth.js' })
    if (bundle.statusCode === 200) expect(bundle.headers['content-type']).toBe('text/javascript; charset=utf-8')
    else expect(bundle.json().error.code).toBe('ERR_BUNDLE_NOT_BUILT')
  })
})

describe('CORS only for allowedOrigins, with credentials and Vary: Origin (checklist 22)', () => {
  const probes = () => [
    { method: 'GET' as const, url: '/auth/me' },
    { method: 'GET' as const, url: '/auth/fragments/hello-card' },
    { method: 'POST' as const, url: '/auth/fragments', payload: { regions: [{ id: 'a', fragment: 'hello-card' }] } },
    { method: 'GET' as const, url: '/.well-known/jwks.json' },
    { method: 'GET' as const, url: '/auth/providers' },
    { method: 'POST' as const, url: '/auth/local/verify-token', payload: { token: 'x' } },
  ]

  it('an allowed origin gets its own origin back, credentials and Vary: Origin', async () => {
    for (const probe of probes()) {
      const response = await product.app.inject({ ...probe, headers: { origin: SITE, cookie: admin.cookie } })
      expect(response.headers['access-control-allow-origin'], probe.url).toBe(SITE)
      expect(response.headers['access-control-allow-credentials'], probe.url).toBe('true')
      expect(String(response.headers.vary), probe.url).toMatch(/\bOrigin\b/)
    }
    const preflight = await product.app.inject({ method: 'OPTIONS', url: '/auth/fragments', headers: { origin: SITE, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } })
    expect(preflight.statusCode).toBe(204)
    expect(preflight.headers['access-control-allow-origin']).toBe(SITE)
    expect(preflight.headers['access-control-allow-credentials']).toBe('true')
  })

  it.each(FOREIGN_ORIGINS)('%s gets no CORS grant on any route or preflight, and caches still vary on Origin', async (origin) => {
    for (const probe of probes()) {
      const response = await product.app.inject({ ...probe, headers: { origin } })
      expect(response.headers['access-control-allow-origin'], `${origin} ${probe.url}`).toBeUndefined()
      expect(response.headers['access-control-allow-credentials'], `${origin} ${probe.url}`).toBeUndefined()
      expect(String(response.headers.vary), `${origin} ${probe.url}`).toMatch(/\bOrigin\b/)
    }
    const preflight = await product.app.inject({ method: 'OPTIONS', url: '/auth/fragments', headers: { origin, 'access-control-request-method': 'POST' } })
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined()
    expect(preflight.headers['access-control-allow-credentials']).toBeUndefined()
  })
})

describe('CSRF: every state-changing route refuses foreign origins (Origin / Referer / Sec-Fetch-Site check)', () => {
  const attacks: Array<[string, Record<string, string>]> = [
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['Origin: null (sandboxed frame, data: URL)', { origin: 'null' }],
    ['a look-alike Origin', { origin: 'https://www.example.com.evil.example' }],
    ['no Origin and a foreign Referer', { referer: 'https://evil.example/page' }],
    ['no Origin and a malformed Referer', { referer: 'not a url' }],
    ['no Origin or Referer, Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
  ]

  it.each(attacks)('%s: 403 ERR_ORIGIN_NOT_ALLOWED on every POST route, and the store is untouched', async (_what, headers) => {
    const posts = everyRoute().filter((r) => r.method === 'POST')
    expect(posts.length).toBeGreaterThan(8)
    const before = storeSnapshot(product.sqlitePath)
    for (const route of posts) {
      const response = await product.app.inject({ method: 'POST', url: route.url, headers: { ...headers, cookie: admin.cookie }, payload: validBody(route.url, { email: 'csrf@example.com' }) as object })
      expect(response.statusCode, route.key).toBe(403)
      expect(response.json().error.code, route.key).toBe('ERR_ORIGIN_NOT_ALLOWED')
      expect(response.headers['set-cookie'], route.key).toBeUndefined()
    }
    expect(storeSnapshot(product.sqlitePath)).toEqual(before)
  })

  it('positive control: the same requests from an allowed origin go through (so the refusal above was the origin check)', async () => {
    const { app } = product
    const user = await app.authStore.createUser({ email: 'target@example.com', name: 'T', passwordHash: null })
    const granted = await app.inject({ method: 'POST', url: `/demo/api/users/${user.id}/claims`, headers: { origin: SITE, cookie: admin.cookie }, payload: { type: 'role', value: 'beta' } })
    expect(granted.statusCode).toBe(200)
    const registered = await app.inject({ method: 'POST', url: '/auth/local/register', headers: { origin: SITE }, payload: validBody('/auth/local/register', { email: 'csrf-ok@example.com' }) as object })
    expect(registered.statusCode).toBe(201)
    // Same-origin forms and fetches of the backend itself, and a same-site Sec-Fetch-Site, are fine.
    const own = await app.inject({ method: 'POST', url: '/auth/fragments', headers: { origin: 'http://localhost:3000', cookie: admin.cookie }, payload: validBody('/auth/fragments') as object })
    expect(own.statusCode).toBe(200)
    const referer = await app.inject({ method: 'POST', url: '/auth/fragments', headers: { referer: `${SITE}/page`, cookie: admin.cookie }, payload: validBody('/auth/fragments') as object })
    expect(referer.statusCode).toBe(200)
    const logout = await app.inject({ method: 'POST', url: '/auth/logout', headers: { origin: SITE, cookie: await product.signIn(user.id) } })
    expect(logout.statusCode).toBe(204)
  })

  it('non-browser clients (no Origin, Referer or Sec-Fetch-Site) are not CSRF victims and are served', async () => {
    const response = await product.app.inject({ method: 'POST', url: '/auth/local/verify-token', payload: { token: 'x' } })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ active: false })
  })
})

describe('cookies and credentials (checklist 8)', () => {
  it('the session cookie is HttpOnly, SameSite=Lax, Path=/, host-only, with an expiry; logout clears it the same way', async () => {
    const user = await product.app.authStore.createUser({ email: 'cookie@example.com', name: 'C', passwordHash: null })
    const response = await product.app.inject({ method: 'POST', url: `/test/sign-in/${user.id}` })
    const line = String(response.headers['set-cookie'])
    expect(line).toMatch(/^wa_sid=[A-Za-z0-9_-]{43};/)
    expect(line).toMatch(/; HttpOnly/)
    expect(line).toMatch(/; SameSite=Lax/)
    expect(line).toMatch(/; Path=\//)
    expect(line).toMatch(/; Max-Age=\d+/)
    expect(line).not.toMatch(/Domain=/i)
    const cookie = cookieFrom(response)!
    const out = await product.app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } })
    const cleared = String(out.headers['set-cookie'])
    expect(cleared).toMatch(/^wa_sid=;/)
    expect(cleared).toMatch(/; HttpOnly/)
    expect(cleared).toMatch(/; SameSite=Lax/)
    expect(cleared).toMatch(/; Path=\//)
  })

  it('outside plain-http localhost the cookie is __Host-wa_sid, Secure, Path=/ and has no Domain', async () => {
    const secure = await securityApp({ config: { publicUrl: 'https://auth.example.com', allowedOrigins: [SITE] } })
    try {
      const user = await secure.app.authStore.createUser({ email: 's@example.com', name: 'S', passwordHash: null })
      const response = await secure.app.inject({ method: 'POST', url: `/test/sign-in/${user.id}`, headers: { origin: 'https://auth.example.com' } })
      const line = String(response.headers['set-cookie'])
      expect(line).toMatch(/^__Host-wa_sid=[A-Za-z0-9_-]{43};/)
      expect(line).toMatch(/; Secure/)
      expect(line).toMatch(/; HttpOnly/)
      expect(line).toMatch(/; SameSite=Lax/)
      expect(line).toMatch(/; Path=\/(;|$)/)
      expect(line).not.toMatch(/Domain=/i)
      // The registration answer of the local IdP sets the same cookie.
      const registered = await secure.app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'reg@example.com', password: 'correct horse battery staple' } })
      expect(String(registered.headers['set-cookie'])).toMatch(/^__Host-wa_sid=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
    } finally {
      await secure.close()
    }
  })

  it('a session or token in the URL is never taken: query strings carry no credentials', async () => {
    const { app } = product
    const raw = admin.cookie.split('=')[1]!
    const issued = await app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'url@example.com', password: 'correct horse battery staple' } })
    expect(issued.statusCode).toBe(201)
    const tokens = (await app.inject({ method: 'POST', url: '/auth/local/token', payload: { grant_type: 'password', username: 'url@example.com', password: 'correct horse battery staple' } })).json()
    const token = tokens.access_token as string
    expect((await app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${token}` } })).json().authenticated).toBe(true)
    for (const query of [`wa_sid=${raw}`, `session=${raw}`, `access_token=${token}`, `token=${token}`, `authorization=Bearer%20${token}`]) {
      expect((await app.inject({ url: `/auth/me?${query}` })).json().authenticated, query).toBe(false)
      const fragment = await app.inject({ url: `/auth/fragments/hello-card?${query}` })
      expect(fragment.statusCode, query).not.toBe(200)
    }
    // Token answers are never cached and carry the token in the body only.
    const again = await app.inject({ method: 'POST', url: '/auth/local/token', payload: { grant_type: 'password', username: 'url@example.com', password: 'correct horse battery staple' } })
    expect(again.headers['cache-control']).toBe('no-store')
    expect(again.headers.location).toBeUndefined()
  })
})

describe('body size limits (checklist 12, 21)', () => {
  it('every POST route refuses a body over 1 MiB with 413 ERR_BODY_TOO_LARGE before any handler runs', async () => {
    const before = storeSnapshot(product.sqlitePath)
    const big = JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(1024 * 1024 + 10) })
    for (const route of everyRoute().filter((r) => r.method === 'POST')) {
      const response = await product.app.inject({ method: 'POST', url: route.url, headers: { 'content-type': 'application/json', cookie: admin.cookie }, payload: big })
      expect(response.statusCode, route.key).toBe(413)
      expect(response.json().error.code, route.key).toBe('ERR_BODY_TOO_LARGE')
    }
    expect(storeSnapshot(product.sqlitePath)).toEqual(before)
  })

  it('the identity routes and the site routes stop at 64 KiB; only the fragment batch takes up to 1 MiB', async () => {
    const over64k = JSON.stringify({ token: 'x'.repeat(64 * 1024) })
    for (const route of everyRoute().filter((r) => r.method === 'POST')) {
      const response = await product.app.inject({ method: 'POST', url: route.url, headers: { 'content-type': 'application/json', cookie: admin.cookie }, payload: over64k })
      if (route.url === '/auth/fragments') expect(response.statusCode, route.key).toBe(400)
      else expect(response.statusCode, route.key).toBe(413)
    }
  })
})
