// Secure defaults of every HTTP answer (checklist 8, 21, 22, 24): security
// headers and the CSP on every response, CORS only for allowedOrigins,
// CSRF refusal of every state-changing route from a foreign origin, cookie
// flags, no credentials in URLs, body size limits. Routes come from the
// router of the full product, so a new route is covered without editing
// this file.
//
// Also here: the route-table walk (every route says public or guarded) and
// the regression tests of what the fuzzing found (wrong types, ill-formed
// Unicode, uncoded answers of Fastify and its plugins).
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectAuth } from '@wire-auth/server'
import { PasswordHasher } from '../../packages/server/src/lib/local-idp/passwords.js'
import { tempDir } from '../../packages/server/test/support/app.js'
import { expectSecurityHeaders, sampleUrl, validBody } from './support/requests.js'
import { routeKey, routeTable, unmarkedRoutes, type RouteInfo } from './support/route-table.js'
import { cookieFrom, securityApp, SITE, type SecurityApp, INTROSPECTION_HEADERS } from './support/security-app.js'
import { storeSnapshot } from './support/store-snapshot.js'
import { errorCode } from '../support/error-code.js'
import { SocketClient } from '../support/socket-client.js'

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
      expect(errorCode(answers[what].json()), what).toMatch(/^ERR_[A-Z_]+$/)
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
    else expect(errorCode(bundle.json())).toBe('ERR_BUNDLE_NOT_BUILT')
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
      expect(errorCode(response.json()), route.key).toBe('ERR_ORIGIN_NOT_ALLOWED')
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
    const response = await product.app.inject({ method: 'POST', url: '/auth/local/verify-token', headers: INTROSPECTION_HEADERS, payload: { token: 'x' } })
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
      expect(errorCode(response.json()), route.key).toBe('ERR_BODY_TOO_LARGE')
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

/**
 * Routes of other plugins that run no wire-auth code and cannot carry a
 * config: @fastify/cors answers preflights in its own onRequest hook.
 */
const THIRD_PARTY = new Set(['OPTIONS *'])

const ELEMENTS_VERSION = (JSON.parse(readFileSync(new URL('../../packages/elements/package.json', import.meta.url), 'utf8')) as { version: string }).version

/** Reviewed: what anyone may call. A new public route must be added here on purpose. */
const REVIEWED_PUBLIC = [
  'GET /auth/me', // the caller's own summary; anonymous gets ANONYMOUS
  'POST /auth/logout', // ends the caller's own session (CSRF-checked)
  'GET /auth/health', // store and channel reachable: 200 or 503, a fixed message (no internals)
  'POST /auth/local/register',
  'POST /auth/local/login',
  'POST /auth/local/token',
  'POST /auth/local/verify-token',
  'POST /auth/local/revoke',
  'GET /.well-known/jwks.json', // public keys only
  'GET /.well-known/openid-configuration', // discovery metadata, no secrets
  'GET /.well-known/oauth-authorization-server', // the same, RFC 8414
  'GET /auth/local/authorize', // code flow: needs the caller's session, redirects only to registered URIs
  'POST /auth/local/session-token', // an access token for the caller's own session, allowed Origin required
  'GET /auth/providers',
  'GET /auth/account/capabilities', // which account flows are on, nothing about anyone
  'POST /auth/account/verify-email', // the link's single-use token is the credential
  'POST /auth/account/password/forgot', // same answer for every address, rate-limited per account and client
  'POST /auth/account/password/reset', // the link's single-use token is the credential
  'POST /auth/passkeys/login/options', // a fresh challenge in a cookie, nothing about anyone
  'POST /auth/passkeys/login/verify', // the passkey's signature over that challenge is the credential
  'GET /auth/:provider/login',
  'GET /auth/:provider/callback',
  'GET /wire-auth.js',
  'GET /wire-auth.js.map',
  'GET /wire-auth-ui.js', // the UI elements module, public code like the bundle
  'GET /wire-auth-ui.js.map',
  `GET /wire-auth@${ELEMENTS_VERSION}.js`, // the same bundle under its immutable, SRI-pinnable URL
  `GET /wire-auth-ui@${ELEMENTS_VERSION}.js`, // the UI module the versioned bundle imports (pinnable too)
  'GET /wire-auth-tokens.js', // the token helpers the bundle loads on first WireAuth.getToken()/signIn()
  'GET /wire-auth-tokens.js.map',
  `GET /wire-auth-tokens@${ELEMENTS_VERSION}.js`,
  'GET /wire-auth-webauthn.js', // @simplewebauthn/browser, loaded by the UI module to add a passkey
  'GET /wire-auth-webauthn.js.map',
  `GET /wire-auth-webauthn@${ELEMENTS_VERSION}.js`,
  'GET /*', // the standalone server's static site
]
/** Pages of the demo with a page-level <wire-auth-guard>: an anonymous GET gets 303 and nothing else. */
const DEMO_GUARDED_PAGES = ['/admin', '/admin.html', '/account', '/account.html']
const DEMO_PAGES = [
  ...DEMO_GUARDED_PAGES,
  ...['/', '/index', '/index.html', '/login', '/login.html', '/elements', '/elements.html'],
  // The pages account mails link to (the token is in the #fragment, posted by the page).
  ...['/account/verify-email', '/account/verify-email.html', '/account/reset-password', '/account/reset-password.html'],
]
const REVIEWED_GUARDED = [
  'POST /auth/fragments',
  'GET /auth/fragments/:name',
  'GET /auth/live',
  // The caller's own sessions (401 when anonymous; ending one is CSRF-checked).
  'GET /auth/sessions',
  'POST /auth/sessions/:id/revoke',
  'POST /auth/sessions/revoke-all',
  // The caller's own account (401 when anonymous).
  'POST /auth/account/verify-email/send',
  'POST /auth/account/password/change',
  'POST /auth/account/email/change',
  // The caller's linked provider identities (401 when anonymous; never the subject).
  'GET /auth/account/identities',
  // The caller's own passkeys (401 when anonymous).
  'POST /auth/passkeys/register/options',
  'POST /auth/passkeys/register/verify',
  'GET /auth/passkeys',
  'POST /auth/passkeys/:id/rename',
  'POST /auth/passkeys/:id/delete',
  'POST /demo/api/users/:id/claims',
  'POST /demo/api/users/:id/claims/revoke',
  'POST /demo/api/users/:id/sessions/revoke',
  'POST /demo/api/me/sessions/revoke-all',
  'POST /demo/api/me/sessions/:sessionId/revoke',
  'POST /demo/api/documents/:id/audience',
  // The demo's HTML files, served as pages (page guards decided on the server, in-place regions cut out).
  ...DEMO_PAGES.map((url) => `GET ${url}`),
]

/** Fastify adds a HEAD route for each GET; it shares the GET's config. */
const withHead = (keys: string[]) => keys.flatMap((key) => (key.startsWith('GET ') ? [key, `HEAD ${key.slice(4)}`] : [key]))

describe('the route table (every route is explicitly public or guarded)', () => {
  let product: SecurityApp
  beforeAll(async () => {
    product = await securityApp({ testRoutes: false })
  })
  afterAll(async () => {
    await product?.close()
  })

  it('no route of the full product lacks config.wireAuth', () => {
    expect(product.routes.length).toBeGreaterThan(20)
    expect(unmarkedRoutes(product.routes, THIRD_PARTY)).toEqual([])
  })

  it('the public routes are exactly the reviewed list, and so are the guarded ones', () => {
    // wire-auth's preflight routes (one OPTIONS twin per URL, answered by its CORS hook) are checked below.
    const by = (mark: string) => product.routes.filter((r) => r.config.wireAuth === mark && r.method !== 'OPTIONS').map(routeKey).sort()
    expect(by('public')).toEqual(withHead(REVIEWED_PUBLIC).sort())
    expect(by('guarded')).toEqual(withHead(REVIEWED_GUARDED).sort())
    const urls = new Set([...REVIEWED_PUBLIC, ...REVIEWED_GUARDED].map((key) => key.slice(key.indexOf(' ') + 1)))
    for (const route of product.routes.filter((r) => r.method === 'OPTIONS' && r.url !== '*')) {
      expect(urls.has(route.url), `${routeKey(route)} is the preflight of a reviewed route`).toBe(true)
      expect(route.config.wireAuth, routeKey(route)).toBe('public')
    }
  })

  it('the check catches a route that says neither (positive control)', async () => {
    const dir = tempDir()
    const table = routeTable()
    const app = Fastify({ logger: false, routerOptions: table.routerOptions })
    await connectAuth(app, { sqlitePath: `${dir.dir}/auth.sqlite`, localIdp: true })
    app.get('/forgotten', async () => 'no marker')
    app.post('/typo', { config: { wireAuth: 'gaurded' as 'guarded' } }, async () => 'misspelt marker')
    await app.ready()
    const routes: RouteInfo[] = table.routes(app)
    expect(unmarkedRoutes(routes, THIRD_PARTY)).toEqual(['GET /forgotten', 'HEAD /forgotten', 'POST /typo'])
    await app.close()
    dir.cleanup()
  })

  it('each guarded route refuses an anonymous caller', async () => {
    const { app } = product
    const probes: Record<string, () => Promise<void>> = {
      'POST /auth/fragments': async () => {
        const response = await app.inject({ method: 'POST', url: '/auth/fragments', payload: { regions: [{ id: 'a', fragment: 'hello-card' }, { id: 'b', fragment: 'admin-console' }] } })
        expect(response.statusCode).toBe(200)
        for (const region of response.json().regions) expect(region.status).toBe('denied')
      },
      'GET /auth/fragments/:name': async () => {
        const response = await app.inject({ url: '/auth/fragments/admin-console' })
        expect(response.statusCode).toBe(403)
        expect(response.headers['x-wire-auth-code']).toBe('ERR_UNAUTHENTICATED')
      },
      'GET /auth/live': async () => {
        // The upgrade itself is refused without an allowed Origin; with one, the socket is anonymous.
        const plain = await app.inject({ url: '/auth/live' })
        expect(plain.statusCode).toBeGreaterThanOrEqual(400)
        expect(plain.statusCode).toBeLessThan(500)
        await app.listen({ port: 0, host: '127.0.0.1' })
        const { port } = app.server.address() as { port: number }
        const client = await SocketClient.connect(`ws://127.0.0.1:${port}/auth/live`, { origin: SITE })
        client.send({ t: 'mount', regions: [{ id: 'a', fragment: 'hello-card' }, { id: 'b', fragment: 'admin-console' }] })
        for (const region of await client.render()) expect(region.status).toBe('denied')
        expect(client.messages[0]).toEqual({ t: 'principal', user: { authenticated: false, id: null, name: null } })
        client.close()
      },
    }
    for (const key of ['GET /auth/sessions', 'POST /auth/sessions/:id/revoke', 'POST /auth/sessions/revoke-all', 'POST /auth/account/verify-email/send', 'GET /auth/account/identities']) {
      probes[key] = async () => {
        const [method, path] = key.split(' ') as ['GET' | 'POST', string]
        const response = await app.inject({ method, url: path.replace(':id', 'a'.repeat(64)), ...(method === 'POST' ? { payload: {} } : {}) })
        expect(response.statusCode, key).toBe(401)
        expect(errorCode(response.json())).toBe('ERR_UNAUTHENTICATED')
      }
    }
    for (const key of ['POST /auth/passkeys/register/options', 'POST /auth/passkeys/register/verify', 'GET /auth/passkeys', 'POST /auth/passkeys/:id/rename', 'POST /auth/passkeys/:id/delete']) {
      probes[key] = async () => {
        const [method, path] = key.split(' ') as ['GET' | 'POST', string]
        const payload = key.endsWith('rename') ? { name: 'x' } : key.endsWith('verify') ? { credential: { id: 'a', rawId: 'a', type: 'public-key', response: {} } } : {}
        const response = await app.inject({ method, url: path.replace(':id', 'a'), ...(method === 'POST' ? { payload } : {}) })
        expect(response.statusCode, key).toBe(401)
        expect(errorCode(response.json())).toBe('ERR_UNAUTHENTICATED')
      }
    }
    probes['POST /auth/account/email/change'] = async () => {
      const response = await app.inject({ method: 'POST', url: '/auth/account/email/change', payload: { email: 'new@example.com', password: 'a long and unusual passphrase' } })
      expect(response.statusCode).toBe(401)
      expect(errorCode(response.json())).toBe('ERR_UNAUTHENTICATED')
    }
    probes['POST /auth/account/password/change'] = async () => {
      const response = await app.inject({ method: 'POST', url: '/auth/account/password/change', payload: { currentPassword: 'a long and unusual passphrase', newPassword: 'a fresh and long passphrase' } })
      expect(response.statusCode).toBe(401)
      expect(errorCode(response.json())).toBe('ERR_UNAUTHENTICATED')
    }
    for (const key of REVIEWED_GUARDED.filter((k) => k.startsWith('POST /demo/api/'))) {
      probes[key] = async () => {
        const url = key.slice(5).replace(':id', 'u1').replace(':sessionId', 'a'.repeat(64))
        const response = await app.inject({ method: 'POST', url, payload: { type: 'role', value: 'admin' } })
        expect(response.statusCode, key).toBe(401)
        expect(errorCode(response.json())).toBe('ERR_UNAUTHENTICATED')
      }
    }
    for (const url of DEMO_PAGES) {
      probes[`GET ${url}`] = async () => {
        const response = await app.inject({ url })
        if (DEMO_GUARDED_PAGES.includes(url)) {
          expect(response.statusCode, url).toBe(303)
          expect(response.body, url).toBe('')
        } else {
          expect(response.statusCode, url).toBe(200)
          // Protected markup written in place never leaves the server in a page.
          expect(response.body, url).not.toMatch(/<template[^>]*slot="(allowed|denied)"/)
        }
      }
    }
    const guarded = product.routes.filter((r) => r.config.wireAuth === 'guarded' && r.method !== 'HEAD').map(routeKey)
    // A guarded route without a probe here fails: say how it refuses strangers.
    expect(guarded.filter((key) => probes[key] === undefined)).toEqual([])
    for (const key of guarded) await probes[key]!()
  })
})

describe('input hardening: what the fuzzing found (each test named after what broke)', () => {
  beforeAll(async () => {
    expect((await product.app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'pat@example.com', password: PASSWORD } })).statusCode).toBe(201)
  })

  const PASSWORD = 'correct horse battery staple'

  describe('wrong types are refused, never coerced into strings (Fastify coerces by default)', () => {
    const cases: Array<[string, unknown]> = [
      ['/auth/local/login', { email: null, password: PASSWORD }],
      ['/auth/local/login', { email: ['pat@example.com'], password: PASSWORD }],
      ['/auth/local/login', { email: 'pat@example.com', password: 12345678901 }],
      ['/auth/local/login', { email: 'pat@example.com', password: [PASSWORD] }],
      ['/auth/local/register', { email: 'new@example.com', password: PASSWORD, name: 42 }],
      ['/auth/local/register', { email: true, password: PASSWORD }],
      ['/auth/local/token', { grant_type: ['password'], username: 'pat@example.com', password: PASSWORD }],
      ['/auth/local/token', { grant_type: 'password', username: 'pat@example.com', password: null }],
      ['/auth/local/verify-token', { token: 0 }],
      ['/auth/local/revoke', { token: ['x'] }],
      ['/auth/fragments', { regions: [{ id: 'a', fragment: 'hello-card', claims: [[1, 2]] }] }],
      ['/auth/fragments', { regions: [{ id: 7, fragment: 'hello-card' }] }],
    ]
    it.each(cases)('POST %s %j → 400 ERR_VALIDATION, and nothing is written (no login failure counted)', async (url, payload) => {
      const before = storeSnapshot(product.sqlitePath)
      const response = await product.app.inject({ method: 'POST', url, payload: payload as object })
      expect(response.statusCode, response.body).toBe(400)
      expect(errorCode(response.json())).toBe('ERR_VALIDATION')
      expect(storeSnapshot(product.sqlitePath)).toEqual(before)
    })

    it('a repeated query parameter is refused, not collapsed (GET /auth/fragments/:name?kind=…&kind=…)', async () => {
      const response = await product.app.inject({ url: '/auth/fragments/hello-card?kind=region&kind=guard' })
      expect(response.statusCode).toBe(400)
      expect(errorCode(response.json())).toBe('ERR_VALIDATION')
    })
  })

  describe('ill-formed Unicode (lone surrogates) is refused, never stored as U+FFFD', () => {
    it('a name with a lone surrogate → 400 ERR_VALIDATION', async () => {
      const response = await product.app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'lone@example.com', password: PASSWORD, name: 'Ada \ud800' } })
      expect(response.statusCode).toBe(400)
      expect(errorCode(response.json())).toBe('ERR_VALIDATION')
      expect(await product.app.authStore.getUserByEmail('lone@example.com')).toBeNull()
    })

    it('a password with a lone surrogate → 400 ERR_WEAK_PASSWORD; two such passwords can never stand for each other', async () => {
      const response = await product.app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'lone2@example.com', password: `${PASSWORD} \ud800` } })
      expect(response.statusCode).toBe(400)
      expect(errorCode(response.json())).toBe('ERR_WEAK_PASSWORD')
      // What UTF-8 would have made of it: U+FFFD. A hash of that must not accept the ill-formed original.
      const hasher = new PasswordHasher({ memoryCost: 19456, timeCost: 2, parallelism: 1 }, { minLength: 8, maxLength: 1024 })
      const hash = await hasher.hash(`${PASSWORD} \ufffd`)
      expect(await hasher.verify(hash, `${PASSWORD} \ufffd`)).toBe(true)
      expect(await hasher.verify(hash, `${PASSWORD} \ud800`)).toBe(false)
      expect(await hasher.verify(hash, `${PASSWORD} \udfff`)).toBe(false)
    })

    it('a claim value with a lone surrogate → ERR_INVALID_CLAIM', async () => {
      const user = await product.app.authStore.createUser({ email: 'claims@example.com', name: 'C', passwordHash: null })
      await expect(product.app.auth.grantTo(user.id, 'role', 'beta\udc00')).rejects.toMatchObject({ code: 'ERR_INVALID_CLAIM' })
      expect((await product.app.authStore.getUser(user.id))!.claims).toEqual([])
    })
  })

  describe('answers Fastify or its plugins gave without a code', () => {
    it('GET /auth/live without an upgrade → 426 ERR_UPGRADE_REQUIRED (was an empty 404; then ERR_VALIDATION, a 400 code, issue 20)', async () => {
      const response = await product.app.inject({ url: '/auth/live', headers: { origin: 'https://www.example.com' } })
      expect(response.statusCode).toBe(426)
      expect(response.headers.upgrade).toBe('websocket')
      expect(errorCode(response.json())).toBe('ERR_UPGRADE_REQUIRED')
    })

    it('a malformed URL → 400 ERR_VALIDATION without echoing the URL (was FST_ERR_BAD_URL with the path)', async () => {
      const response = await product.app.inject({ url: '/demo/api/users/%E0%A4%A/sessions/revoke?access_token=secret-token', method: 'POST' })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toEqual({ error: { code: 'ERR_VALIDATION', message: 'the request URL is malformed' } })
      expect(response.body).not.toMatch(/secret-token|%E0/)
      expect(response.headers['x-content-type-options']).toBe('nosniff')
    })

    it('an unknown route → 404 ERR_NOT_FOUND (was Fastify\'s uncoded body)', async () => {
      const response = await product.app.inject({ url: '/no/such/route?token=secret-token' })
      expect(response.statusCode).toBe(404)
      expect(response.json()).toEqual({ error: { code: 'ERR_NOT_FOUND', message: 'no such route' } })
    })
  })
})
