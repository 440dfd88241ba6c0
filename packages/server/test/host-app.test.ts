// wire-auth inside an existing Fastify app (issue 12, items 1 and 2): its
// CORS, headers, error handler, limits and origin check cover its own routes
// only; the principal is global; no decorator collides, whatever the host's
// plugins and whatever the order they are registered in.
import fastifyAuth from '@fastify/auth'
import cookie from '@fastify/cookie'
import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import jwt from '@fastify/jwt'
import { Authenticator } from '@fastify/passport'
import rateLimit from '@fastify/rate-limit'
import secureSession from '@fastify/secure-session'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { connectAuth, principalOf, securityHeaders, wireAuthErrorHandler, wireAuthOf, type WireAuthOptions } from '../src/index.js'
import { sessionCookie, tempDir } from './support/app.js'

const SITE = 'https://www.example.com'
const PARTNER = 'https://partner.example.org'

let dir: { dir: string; cleanup: () => void }
let app: FastifyInstance | undefined
beforeEach(() => {
  dir = tempDir()
})
afterEach(async () => {
  await app?.close().catch(() => undefined)
  app = undefined
  dir.cleanup()
})

const options = (extra: WireAuthOptions = {}): WireAuthOptions => ({ sqlitePath: `${dir.dir}/auth.sqlite`, allowedOrigins: [SITE], ...extra })

/** Creates a user and signs it in through a host route calling `auth.signIn`; returns the cookie pair. */
async function signIn(instance: FastifyInstance, email = 'ada@example.com'): Promise<{ id: string; cookie: string }> {
  const { auth, authStore } = wireAuthOf(instance)
  const user = await authStore.createUser({ email, name: 'Ada', passwordHash: null })
  const response = await instance.inject({ method: 'POST', url: `/host/sign-in/${user.id}` })
  const pair = sessionCookie(response)
  if (response.statusCode !== 200 || pair === null) throw new Error(`sign-in failed: ${response.statusCode} ${response.body}`)
  void auth
  return { id: user.id, cookie: pair }
}

function signInRoute(instance: FastifyInstance): void {
  instance.post<{ Params: { id: string } }>('/host/sign-in/:id', async (request, reply) => {
    await wireAuthOf(instance).auth.signIn(request, reply, request.params.id)
    return { ok: true }
  })
}

describe('encapsulation: the host keeps its routes', () => {
  it("a host route throwing a 418 answers the host's 418, not wire-auth's ERR_VALIDATION", async () => {
    app = Fastify({ logger: false })
    await connectAuth(app, options())
    app.get('/teapot', async () => {
      throw Object.assign(new Error('short and stout'), { statusCode: 418 })
    })
    const response = await app.inject({ url: '/teapot' })
    expect(response.statusCode).toBe(418)
    // Fastify's default handler, untouched.
    expect(response.json()).toEqual({ statusCode: 418, error: "I'm a Teapot", message: 'short and stout' })
    // wire-auth's own routes keep the coded answers.
    const bad = await app.inject({ method: 'POST', url: '/auth/fragments', headers: { 'content-type': 'application/json', origin: SITE }, payload: '{"regions":' })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.code).toBe('ERR_VALIDATION')
  })

  it("the host's own error handler keeps serving its routes, registered before or after", async () => {
    for (const order of ['before', 'after'] as const) {
      const instance = Fastify({ logger: false })
      const handler = (error: Error & { statusCode?: number }, _request: unknown, reply: { code(n: number): { send(b: unknown): unknown } }) => reply.code(error.statusCode ?? 500).send({ host: error.message })
      if (order === 'before') instance.setErrorHandler(handler)
      await connectAuth(instance, options({ sqlitePath: `${dir.dir}/${order}.sqlite` }))
      if (order === 'after') instance.setErrorHandler(handler)
      instance.get('/fails', async () => {
        throw Object.assign(new Error('host says no'), { statusCode: 409 })
      })
      const response = await instance.inject({ url: '/fails' })
      expect(response.statusCode, order).toBe(409)
      expect(response.json(), order).toEqual({ host: 'host says no' })
      const own = await instance.inject({ method: 'POST', url: '/auth/logout', headers: { origin: 'https://evil.example' } })
      expect(own.json().error.code, order).toBe('ERR_ORIGIN_NOT_ALLOWED')
      await instance.close()
    }
  })

  it("a host page's inline script is not blocked: no wire-auth CSP or helmet header on host routes", async () => {
    app = Fastify({ logger: false })
    await connectAuth(app, options())
    app.get('/page', async (_request, reply) => reply.type('text/html').send('<script>document.title = "inline"</script>'))
    const page = await app.inject({ url: '/page' })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-security-policy']).toBeUndefined()
    expect(page.headers['x-frame-options']).toBeUndefined()
    expect(page.headers['cross-origin-resource-policy']).toBeUndefined()
    // wire-auth's own answers keep their strict policy.
    const me = await app.inject({ url: '/auth/me' })
    expect(me.headers['content-security-policy']).toMatch(/script-src 'self'/)
    expect(me.headers['x-content-type-options']).toBe('nosniff')
  })

  it('a host route opts in to the same headers with securityHeaders()', async () => {
    app = Fastify({ logger: false })
    await connectAuth(app, options())
    app.get('/admin', { onRequest: securityHeaders() }, async () => 'admin')
    const response = await app.inject({ url: '/admin' })
    expect(response.headers['content-security-policy']).toMatch(/script-src 'self'/)
    expect(response.headers['x-content-type-options']).toBe('nosniff')
  })

  it("a host POST from a partner origin the host allows by CORS is served; wire-auth's routes still refuse it", async () => {
    app = Fastify({ logger: false })
    await app.register(cors, { origin: [PARTNER], credentials: true })
    await connectAuth(app, options())
    signInRoute(app)
    app.post('/api/comments', async (request) => ({ ok: true, user: principalOf(request).userId }))
    app.post('/api/delete-account', { preHandler: app.requirePolicy() }, async () => ({ deleted: true }))
    const preflight = await app.inject({ method: 'OPTIONS', url: '/api/comments', headers: { origin: PARTNER, 'access-control-request-method': 'POST' } })
    expect(preflight.statusCode).toBe(204)
    expect(preflight.headers['access-control-allow-origin']).toBe(PARTNER)

    const anonymous = await app.inject({ method: 'POST', url: '/api/comments', headers: { origin: PARTNER }, payload: {} })
    expect(anonymous.statusCode).toBe(200)
    expect(anonymous.headers['access-control-allow-origin']).toBe(PARTNER)

    // With wire-auth's cookie: still served, but the cookie does not authenticate a foreign state-changing request (CSRF).
    const { cookie: pair } = await signIn(app)
    const withCookie = await app.inject({ method: 'POST', url: '/api/comments', headers: { origin: PARTNER, cookie: pair }, payload: {} })
    expect(withCookie.statusCode).toBe(200)
    expect(withCookie.json()).toEqual({ ok: true, user: null })
    // From an allowed origin the same cookie authenticates.
    const fromSite = await app.inject({ method: 'POST', url: '/api/comments', headers: { origin: SITE, cookie: pair }, payload: {} })
    expect(fromSite.json().user).not.toBeNull()
    // A guarded host route sees the forged request as anonymous: 401, its handler never runs.
    const forged = await app.inject({ method: 'POST', url: '/api/delete-account', headers: { origin: 'https://evil.example', cookie: pair }, payload: {} })
    expect(forged.statusCode).toBe(401)
    expect(forged.json().code).toBe('ERR_UNAUTHENTICATED')
    expect((await app.inject({ method: 'POST', url: '/api/delete-account', headers: { origin: SITE, cookie: pair }, payload: {} })).statusCode).toBe(200)

    // wire-auth's own routes: refused, and the host's CORS gives the partner no read access.
    const logout = await app.inject({ method: 'POST', url: '/auth/logout', headers: { origin: PARTNER, cookie: pair } })
    expect(logout.statusCode).toBe(403)
    expect(logout.json().error.code).toBe('ERR_ORIGIN_NOT_ALLOWED')
    const me = await app.inject({ url: '/auth/me', headers: { origin: PARTNER, cookie: pair } })
    expect(me.headers['access-control-allow-origin']).toBeUndefined()
    const mine = await app.inject({ url: '/auth/me', headers: { origin: SITE, cookie: pair } })
    expect(mine.headers['access-control-allow-origin']).toBe(SITE)
    expect(mine.json().authenticated).toBe(true)
  })

  it('the principal is global: every host route gets request.user and request.sessionId', async () => {
    app = Fastify({ logger: false })
    await connectAuth(app, options())
    signInRoute(app)
    app.get('/whoami', async (request) => ({ id: request.user.userId, session: request.sessionId !== null }))
    expect((await app.inject({ url: '/whoami' })).json()).toEqual({ id: null, session: false })
    const { id, cookie: pair } = await signIn(app)
    expect((await app.inject({ url: '/whoami', headers: { cookie: pair } })).json()).toEqual({ id, session: true })
  })

  it("wire-auth's body limit covers its routes only: a host route keeps Fastify's", async () => {
    app = Fastify({ logger: false })
    await connectAuth(app, options())
    app.post('/upload', async (request) => ({ bytes: JSON.stringify(request.body).length }))
    const big = { data: 'x'.repeat(200 * 1024) }
    expect((await app.inject({ method: 'POST', url: '/upload', payload: big })).statusCode).toBe(200)
    const own = await app.inject({ method: 'POST', url: '/auth/logout', headers: { 'content-type': 'application/json' }, payload: big })
    expect(own.statusCode).toBe(413)
    expect(own.json().error.code).toBe('ERR_BODY_TOO_LARGE')
  })

  it('requirePolicy guards a host route; its errors go through the host handler (or wire-auth\'s when opted in)', async () => {
    app = Fastify({ logger: false })
    await connectAuth(app, options({ policies: { AdminOnly: { requiresClaim: ['role', 'admin'] } } }))
    signInRoute(app)
    app.get('/admin', { preHandler: app.requirePolicy('AdminOnly') }, async () => 'admin')
    await app.register(async (api) => {
      api.setErrorHandler(wireAuthErrorHandler)
      api.get('/api/admin', { preHandler: app.requirePolicy({ policy: 'AdminOnly' }) }, async () => 'admin')
    })
    const plain = await app.inject({ url: '/admin' })
    expect(plain.statusCode).toBe(401)
    expect(plain.json().code).toBe('ERR_UNAUTHENTICATED')
    const coded = await app.inject({ url: '/api/admin' })
    expect(coded.json()).toEqual({ error: { code: 'ERR_UNAUTHENTICATED', message: expect.any(String) } })
  })
})

/** A host plugin set-up, registered before or after connectAuth. */
interface HostSetup {
  name: string
  /** wire-auth options this set-up needs (renamed decorators). */
  wireAuth?: WireAuthOptions
  register(instance: FastifyInstance): Promise<void>
  /** Adds the host's route(s) using the plugin, after both are registered. */
  routes(instance: FastifyInstance): void
  /** Checks the host's route answers as the plugin says. */
  check(instance: FastifyInstance): Promise<void>
}

const passport = new Authenticator()
passport.registerUserSerializer(async (user: { id: string }) => user.id)
passport.registerUserDeserializer(async (id: string) => ({ id, from: 'passport' }))

const SETUPS: HostSetup[] = [
  {
    name: '@fastify/cookie (signed cookies)',
    async register(instance) {
      await instance.register(cookie, { secret: 'host-secret-host-secret-host-secret!' })
    },
    routes(instance) {
      instance.get('/host/set', async (_request, reply) => reply.setCookie('host', 'v', { signed: true, path: '/' }).send({ ok: true }))
      instance.get('/host/read', async (request) => request.unsignCookie(request.cookies.host ?? ''))
    },
    async check(instance) {
      const set = await instance.inject({ url: '/host/set' })
      const pair = String(set.headers['set-cookie']).split(';')[0]!
      expect((await instance.inject({ url: '/host/read', headers: { cookie: pair } })).json()).toMatchObject({ valid: true, value: 'v' })
    },
  },
  {
    name: '@fastify/cors (partner origin)',
    async register(instance) {
      await instance.register(cors, { origin: [PARTNER] })
    },
    routes(instance) {
      instance.get('/host/data', async () => ({ ok: true }))
    },
    async check(instance) {
      const response = await instance.inject({ url: '/host/data', headers: { origin: PARTNER } })
      expect(response.headers['access-control-allow-origin']).toBe(PARTNER)
      const preflight = await instance.inject({ method: 'OPTIONS', url: '/host/data', headers: { origin: PARTNER, 'access-control-request-method': 'GET' } })
      expect(preflight.statusCode).toBe(204)
    },
  },
  {
    name: '@fastify/helmet (global)',
    async register(instance) {
      await instance.register(helmet, { contentSecurityPolicy: { directives: { scriptSrc: ["'self'", "'unsafe-inline'"] } } })
    },
    routes(instance) {
      instance.get('/host/page', async (_request, reply) => reply.type('text/html').send('<p>hi</p>'))
    },
    async check(instance) {
      const response = await instance.inject({ url: '/host/page' })
      expect(response.headers['content-security-policy']).toMatch(/'unsafe-inline'/)
    },
  },
  {
    name: '@fastify/rate-limit (global, 3 a minute)',
    async register(instance) {
      // Global, except the test's own sign-in route (every injected request comes from one address).
      await instance.register(rateLimit, { max: 3, timeWindow: 60_000, allowList: (request) => request.url.startsWith('/host/sign-in/') || request.url.startsWith('/auth/') })
    },
    routes(instance) {
      instance.get('/host/limited', async () => ({ ok: true }))
    },
    async check(instance) {
      const codes: number[] = []
      for (let i = 0; i < 4; i++) codes.push((await instance.inject({ url: '/host/limited' })).statusCode)
      expect(codes).toEqual([200, 200, 200, 429])
    },
  },
  {
    name: '@fastify/jwt (request.user is the JWT payload)',
    wireAuth: { decorators: { user: 'principal' } },
    async register(instance) {
      await instance.register(jwt, { secret: 'jwt-secret-jwt-secret-jwt-secret!!' })
    },
    routes(instance) {
      instance.get('/host/jwt', async (request) => {
        await request.jwtVerify()
        return { jwt: request.user, principal: (request as unknown as { principal: { isAuthenticated: boolean } }).principal.isAuthenticated }
      })
    },
    async check(instance) {
      const token = instance.jwt.sign({ sub: 'j1' })
      const response = await instance.inject({ url: '/host/jwt', headers: { authorization: `Bearer ${token}` } })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toMatchObject({ jwt: { sub: 'j1' }, principal: false })
    },
  },
  {
    name: '@fastify/passport with @fastify/secure-session (request.user is passport\'s)',
    wireAuth: { decorators: { user: 'principal' } },
    async register(instance) {
      await instance.register(secureSession, { key: Buffer.alloc(32, 7), cookie: { path: '/' } })
      await instance.register(passport.initialize())
      await instance.register(passport.secureSession())
    },
    routes(instance) {
      instance.post('/host/passport/login', async (request) => {
        await request.logIn({ id: 'p1' })
        return { ok: true }
      })
      instance.get('/host/passport/me', async (request) => ({ authenticated: request.isAuthenticated(), user: request.user ?? null }))
    },
    async check(instance) {
      const login = await instance.inject({ method: 'POST', url: '/host/passport/login' })
      expect(login.statusCode).toBe(200)
      const pair = String(login.headers['set-cookie']).split(';')[0]!
      expect((await instance.inject({ url: '/host/passport/me', headers: { cookie: pair } })).json()).toEqual({ authenticated: true, user: { id: 'p1', from: 'passport' } })
    },
  },
  {
    name: '@fastify/auth (app.auth composes checks)',
    wireAuth: { decorators: { auth: 'wireAuth' } },
    async register(instance) {
      await instance.register(fastifyAuth)
    },
    routes(instance) {
      const deny = async () => {
        throw Object.assign(new Error('no'), { statusCode: 401 })
      }
      const allow = async () => undefined
      instance.get('/host/either', { preHandler: instance.auth([deny, allow]) }, async () => ({ ok: true }))
      instance.get('/host/both', { preHandler: instance.auth([allow, deny], { relation: 'and' }) }, async () => ({ ok: true }))
    },
    async check(instance) {
      expect((await instance.inject({ url: '/host/either' })).statusCode).toBe(200)
      expect((await instance.inject({ url: '/host/both' })).statusCode).toBe(401)
    },
  },
]

describe('host plugins registered before or after connectAuth', () => {
  for (const setup of SETUPS) {
    for (const order of ['before', 'after'] as const) {
      it(`${setup.name}, ${order} connectAuth: boots, serves the host route and wire-auth's`, async () => {
        app = Fastify({ logger: false })
        if (order === 'before') await setup.register(app)
        await connectAuth(app, options(setup.wireAuth))
        if (order === 'after') await setup.register(app)
        signInRoute(app)
        setup.routes(app)
        await app.ready()

        await setup.check(app)

        // wire-auth: a session works, CORS and preflight for the site, refusals for foreign origins.
        const { id, cookie: pair } = await signIn(app)
        const me = await app.inject({ url: '/auth/me', headers: { origin: SITE, cookie: pair } })
        expect(me.statusCode).toBe(200)
        expect(me.json()).toMatchObject({ authenticated: true, id })
        expect(me.headers['access-control-allow-origin']).toBe(SITE)
        expect(me.headers['content-security-policy']).toMatch(/script-src 'self'/)
        const preflight = await app.inject({ method: 'OPTIONS', url: '/auth/fragments', headers: { origin: SITE, 'access-control-request-method': 'POST' } })
        expect(preflight.statusCode).toBe(204)
        expect(preflight.headers['access-control-allow-origin']).toBe(SITE)
        const forged = await app.inject({ method: 'POST', url: '/auth/logout', headers: { origin: 'https://evil.example', cookie: pair } })
        expect(forged.statusCode).toBe(403)
        expect(forged.json().error.code).toBe('ERR_ORIGIN_NOT_ALLOWED')
        const logout = await app.inject({ method: 'POST', url: '/auth/logout', headers: { origin: SITE, cookie: pair } })
        expect(logout.statusCode).toBe(204)
      })
    }
  }
})

describe('decorator collisions are coded, catchable, and name the option', () => {
  const cases: Array<{ name: string; taken: (instance: FastifyInstance) => Promise<void>; option: string }> = [
    { name: '@fastify/jwt before (request.user)', taken: async (i) => void (await i.register(jwt, { secret: 'jwt-secret-jwt-secret-jwt-secret!!' })), option: 'options.decorators.user' },
    { name: '@fastify/auth before (app.auth)', taken: async (i) => void (await i.register(fastifyAuth)), option: 'options.decorators.auth' },
    { name: 'a host decorator named fragment', taken: async (i) => void i.decorate('fragment', () => undefined), option: 'options.decorators.fragment' },
    { name: 'a host request decorator named sessionId', taken: async (i) => void i.decorateRequest('sessionId', null), option: 'options.decorators.sessionId' },
  ]
  for (const { name, taken, option } of cases) {
    it(`${name} → ERR_DECORATOR_COLLISION naming "${option}", caught by try/catch around connectAuth`, async () => {
      app = Fastify({ logger: false })
      await taken(app)
      let caught: unknown
      try {
        await connectAuth(app, options())
      } catch (err) {
        caught = err
      }
      expect(caught).toMatchObject({ code: 'ERR_DECORATOR_COLLISION', message: expect.stringContaining(`"${option}"`) })
    })
  }

  it('renaming resolves it: wireAuthOf(app) reaches the renamed decorators', async () => {
    app = Fastify({ logger: false })
    await app.register(fastifyAuth)
    await connectAuth(app, options({ decorators: { auth: 'wireAuth', fragment: 'wireFragment' } }))
    const mine = wireAuthOf(app)
    expect((app as unknown as Record<string, unknown>).wireAuth).toBe(mine.auth)
    expect((app as unknown as Record<string, unknown>).wireFragment).toBe(mine.fragment)
    expect(typeof app.auth).toBe('function')
  })

  it('registering wire-auth twice is a collision too', async () => {
    app = Fastify({ logger: false })
    await connectAuth(app, options())
    await expect(connectAuth(app, options({ sqlitePath: `${dir.dir}/second.sqlite` }))).rejects.toMatchObject({ code: 'ERR_DECORATOR_COLLISION' })
  })

  it('bad decorator options are ERR_INVALID_OPTION', async () => {
    for (const decorators of [{ usr: 'x' }, { user: 'not an identifier' }, { auth: 'same', fragment: 'same' }, 'user']) {
      const instance = Fastify({ logger: false })
      await expect(connectAuth(instance, options({ decorators: decorators as WireAuthOptions['decorators'] }))).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' })
      await instance.close().catch(() => undefined)
    }
  })

  it('regression: a host that registered @fastify/cors first no longer crashes at connectAuth (was FST_ERR_DEC_ALREADY_PRESENT: corsPreflightEnabled)', async () => {
    app = Fastify({ logger: false })
    await app.register(cors, { origin: true })
    await expect(connectAuth(app, options())).resolves.toBeDefined()
    await app.ready()
  })
})
