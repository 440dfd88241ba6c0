// Every route of the product says how it is protected: `config.wireAuth` is
// 'public' or 'guarded'. The test walks the router of the full product (local
// IdP, an OpenID provider, fragments, the live socket, the bundle, the
// standalone server's static site, the demo's fragments and JSON routes) and
// fails on any route that says neither; the public ones must be exactly the
// reviewed list below, and each guarded one must refuse an anonymous caller.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Fastify from 'fastify'
import WebSocket from 'ws'
import { connectAuth } from '@wire-auth/server'
import { tempDir } from '../../packages/server/test/support/app.js'
import { routeKey, routeTable, unmarkedRoutes, type RouteInfo } from './support/route-table.js'
import { securityApp, SITE, type SecurityApp } from './support/security-app.js'

/**
 * Routes of other plugins that run no wire-auth code and cannot carry a
 * config: @fastify/cors answers preflights in its own onRequest hook.
 */
const THIRD_PARTY = new Set(['OPTIONS *'])

/** Reviewed: what anyone may call. A new public route must be added here on purpose. */
const REVIEWED_PUBLIC = [
  'GET /auth/me', // the caller's own summary; anonymous gets ANONYMOUS
  'POST /auth/logout', // ends the caller's own session (CSRF-checked)
  'POST /auth/local/register',
  'POST /auth/local/login',
  'POST /auth/local/token',
  'POST /auth/local/verify-token',
  'POST /auth/local/revoke',
  'GET /.well-known/jwks.json', // public keys only
  'GET /auth/providers',
  'GET /auth/:provider/login',
  'GET /auth/:provider/callback',
  'GET /wire-auth.js',
  'GET /wire-auth.js.map',
  'GET /*', // the standalone server's static site
  'GET /vendor/wire-auth-core/*', // the demo's copy of @wire-auth/core's modules (resolveSafeRedirect)
]
const REVIEWED_GUARDED = [
  'POST /auth/fragments',
  'GET /auth/fragments/:name',
  'GET /auth/live',
  'POST /demo/api/users/:id/claims',
  'POST /demo/api/users/:id/claims/revoke',
  'POST /demo/api/users/:id/sessions/revoke',
  'POST /demo/api/me/sessions/revoke-all',
  'POST /demo/api/me/sessions/:sessionId/revoke',
]

/** Fastify adds a HEAD route for each GET; it shares the GET's config. */
const withHead = (keys: string[]) => keys.flatMap((key) => (key.startsWith('GET ') ? [key, `HEAD ${key.slice(4)}`] : [key]))

let product: SecurityApp
beforeAll(async () => {
  product = await securityApp({ testRoutes: false })
})
afterAll(async () => {
  await product?.close()
})

describe('the route table (every route is explicitly public or guarded)', () => {
  it('no route of the full product lacks config.wireAuth', () => {
    expect(product.routes.length).toBeGreaterThan(20)
    expect(unmarkedRoutes(product.routes, THIRD_PARTY)).toEqual([])
  })

  it('the public routes are exactly the reviewed list, and so are the guarded ones', () => {
    const by = (mark: string) => product.routes.filter((r) => r.config.wireAuth === mark).map(routeKey).sort()
    expect(by('public')).toEqual(withHead(REVIEWED_PUBLIC).sort())
    expect(by('guarded')).toEqual(withHead(REVIEWED_GUARDED).sort())
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
        const ws = new WebSocket(`ws://127.0.0.1:${port}/auth/live`, { headers: { origin: SITE } })
        const messages: Array<Record<string, unknown>> = []
        const renders = new Promise<Array<Record<string, unknown>>>((resolve, reject) => {
          ws.on('message', (data) => {
            const message = JSON.parse(String(data))
            messages.push(message)
            if (message.t === 'render') resolve(message.regions)
          })
          ws.on('error', reject)
        })
        await new Promise((resolve) => ws.once('open', resolve))
        ws.send(JSON.stringify({ t: 'mount', regions: [{ id: 'a', fragment: 'hello-card' }, { id: 'b', fragment: 'admin-console' }] }))
        for (const region of await renders) expect(region.status).toBe('denied')
        expect(messages[0]).toEqual({ t: 'principal', user: { authenticated: false, id: null, name: null } })
        ws.terminate()
      },
    }
    for (const key of REVIEWED_GUARDED.filter((k) => k.startsWith('POST /demo/api/'))) {
      probes[key] = async () => {
        const url = key.slice(5).replace(':id', 'u1').replace(':sessionId', 'a'.repeat(64))
        const response = await app.inject({ method: 'POST', url, payload: { type: 'role', value: 'admin' } })
        expect(response.statusCode, key).toBe(401)
        expect(response.json().error.code).toBe('ERR_UNAUTHENTICATED')
      }
    }
    const guarded = product.routes.filter((r) => r.config.wireAuth === 'guarded' && r.method !== 'HEAD').map(routeKey)
    // A guarded route without a probe here fails: say how it refuses strangers.
    expect(guarded.filter((key) => probes[key] === undefined)).toEqual([])
    for (const key of guarded) await probes[key]!()
  })
})
