import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { beforeEach, describe, expect, it } from 'vitest'
import { appsPerTest, signedInUser } from './support/app.js'

// Host routes guarded by `config.authGuard`: the guard decides in wire-auth's
// onRequest hook, before any hook of the app or the route and before the handler.

const apps = appsPerTest()
let app: FastifyInstance
let calls: Record<string, number>

const NAVIGATION = { 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate', accept: 'text/html,application/xhtml+xml' }
const FETCH = { 'sec-fetch-dest': 'empty', accept: 'application/json' }

function count(name: string) {
  return async () => {
    calls[name] = (calls[name] ?? 0) + 1
  }
}

beforeEach(async () => {
  calls = {}
  // The guarded routes are the host's: coded JSON because the host opts in to wire-auth's error handler.
  app = await apps.build({ loginUrl: '/login', policies: { AdminOnly: { requiresClaim: ['role', 'admin'] } } }, { codedErrors: true })
  // A hook of the whole app, added after wire-auth (as apps do), and one of an encapsulated plugin.
  app.addHook('onRequest', count('app.onRequest'))
  app.addHook('preHandler', count('app.preHandler'))
  const routeHooks = {
    onRequest: count('route.onRequest'),
    preParsing: count('route.preParsing'),
    preValidation: count('route.preValidation'),
    preHandler: count('route.preHandler'),
  }
  const handler = async () => {
    calls.handler = (calls.handler ?? 0) + 1
    return { secret: 'admin stats' }
  }
  app.get('/bare', { ...routeHooks, config: { authGuard: true } }, handler)
  app.get('/named', { ...routeHooks, config: { authGuard: 'AdminOnly' } }, handler)
  app.get('/with-redirect', { ...routeHooks, config: { authGuard: { policy: 'AdminOnly', redirect: '/no-access' } } }, handler)
  app.get('/claims', { ...routeHooks, config: { authGuard: { claims: [['role', 'admin'], ['team', 'eng']] } } }, handler)
  app.post('/form', { ...routeHooks, config: { authGuard: 'AdminOnly' } }, handler)
  await app.register(async (child) => {
    child.addHook('onRequest', count('child.onRequest'))
    child.get('/child', { ...routeHooks, config: { authGuard: 'AdminOnly' } }, handler)
  })
  await app.register(
    fp(async (plugin) => {
      plugin.addHook('onRequest', count('fp.onRequest'))
    }),
  )
})

function beforeHandler(): number {
  return Object.entries(calls).reduce((sum, [, n]) => sum + n, 0)
}

describe('host routes with config.authGuard', () => {
  it('a denied navigation answers 303 to the login URL with returnTo, an empty body, and no hook or handler ran', async () => {
    for (const url of ['/bare', '/named', '/claims', '/child']) {
      const response = await app.inject({ url: `${url}?tab=1`, headers: NAVIGATION })
      expect(response.statusCode, url).toBe(303)
      expect(response.headers.location).toBe(`/login?returnTo=${encodeURIComponent(`${url}?tab=1`)}`)
      expect(response.body).toBe('')
      expect(response.headers['x-wire-auth-code']).toBe('ERR_UNAUTHENTICATED')
      expect(response.headers['cache-control']).toBe('no-store')
    }
    expect(calls).toEqual({})
  })

  it('{ policy, redirect } sends a denied signed-in navigation to its redirect', async () => {
    const { cookie } = await signedInUser(app)
    calls = {}
    const response = await app.inject({ url: '/with-redirect', headers: { ...NAVIGATION, cookie } })
    expect(response.statusCode).toBe(303)
    expect(response.headers.location).toBe('/no-access')
    expect(response.headers['x-wire-auth-code']).toBe('ERR_DENIED')
    expect(response.body).toBe('')
    expect(calls).toEqual({})
  })

  it('an API request keeps 401 / 403 JSON, also before every hook', async () => {
    const anonymous = await app.inject({ url: '/named', headers: FETCH })
    expect(anonymous.statusCode).toBe(401)
    expect(anonymous.json().error.code).toBe('ERR_UNAUTHENTICATED')
    const { cookie } = await signedInUser(app)
    calls = {}
    const denied = await app.inject({ url: '/named', headers: { ...FETCH, cookie } })
    expect(denied.statusCode).toBe(403)
    expect(denied.json().error.code).toBe('ERR_FORBIDDEN')
    // curl's default `Accept: */*` is not a navigation either.
    const curl = await app.inject({ url: '/named', headers: { accept: '*/*' } })
    expect(curl.statusCode).toBe(401)
    expect(calls).toEqual({})
  })

  it('without Fetch metadata, a GET accepting text/html is a navigation; a form POST navigation gets 303 too', async () => {
    const old = await app.inject({ url: '/bare', headers: { accept: 'text/html' } })
    expect(old.statusCode).toBe(303)
    const form = await app.inject({ method: 'POST', url: '/form', headers: { ...NAVIGATION, 'content-type': 'application/json' }, payload: '{}' })
    expect(form.statusCode).toBe(303)
    expect(form.body).toBe('')
    expect(calls).toEqual({})
  })

  it('an allowed request runs every hook and the handler, once', async () => {
    const { user, cookie } = await signedInUser(app)
    await app.auth.grantTo(user.id, 'role', 'admin')
    await app.auth.grantTo(user.id, 'team', 'eng')
    calls = {}
    for (const url of ['/bare', '/named', '/claims']) {
      const response = await app.inject({ url, headers: { ...NAVIGATION, cookie } })
      expect(response.statusCode, url).toBe(200)
      expect(response.json()).toEqual({ secret: 'admin stats' })
    }
    expect(calls.handler).toBe(3)
    expect(calls['route.preHandler']).toBe(3)
    expect(calls['app.onRequest']).toBe(3)
    expect(beforeHandler()).toBeGreaterThan(3)
  })

  it('a malformed spec stops the boot with ERR_GUARD_SPEC_INVALID', async () => {
    expect(() => app.get('/bad', { config: { authGuard: { policy: 'has spaces' } } }, async () => 'x')).toThrow(expect.objectContaining({ code: 'ERR_GUARD_SPEC_INVALID' }))
    expect(() => app.get('/bad2', { config: { authGuard: { claims: [] } } }, async () => 'x')).toThrow(expect.objectContaining({ code: 'ERR_GUARD_SPEC_INVALID' }))
  })
})
