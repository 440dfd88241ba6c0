// The host's own routes see the principal wire-auth resolved.
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { connectAuth } from '../src/index.js'
import { buildApp, sqliteFilePerTest } from './support/app.js'

const sqlite = sqliteFilePerTest()

describe('host apps', () => {
  it('works when the host already registered @fastify/cookie (with its own secret)', async () => {
    const { default: cookie } = await import('@fastify/cookie')
    const app = Fastify({ logger: false })
    await app.register(cookie, { secret: 'host-secret-host-secret-host-secret!' })
    await connectAuth(app, { sqlitePath: sqlite() })
    app.post<{ Params: { userId: string } }>('/sign-in/:userId', { config: { wireAuth: 'public' } }, async (request, reply) => {
      await app.auth.signIn(request, reply, request.params.userId)
      reply.setCookie('host', 'value', { signed: true, path: '/' })
      return { ok: true }
    })
    app.get('/host-cookie', { config: { wireAuth: 'public' } }, async (request) => request.unsignCookie(request.cookies.host ?? ''))
    const user = await app.authStore.createUser({ email: 'h@example.com', name: 'Host', passwordHash: null })
    const response = await app.inject({ method: 'POST', url: `/sign-in/${user.id}` })
    const cookies = (response.headers['set-cookie'] as string[]).map((line) => line.split(';')[0]).join('; ')
    expect((await app.inject({ url: '/auth/me', headers: { cookie: cookies } })).json()).toMatchObject({ authenticated: true, id: user.id })
    expect((await app.inject({ url: '/host-cookie', headers: { cookie: cookies } })).json()).toMatchObject({ valid: true, value: 'value' })
    await app.close()
  })

  it('decorates the app up front: auth, authStore, authChannel, authEngine, requirePolicy, localIdp, authProviders', async () => {
    const app = await buildApp({ sqlitePath: sqlite(), localIdp: true })
    for (const name of ['auth', 'authStore', 'authChannel', 'authEngine', 'requirePolicy', 'localIdp', 'authProviders', 'fragment']) {
      expect(app.hasDecorator(name), name).toBe(true)
    }
    expect(app.authProviders).toEqual([])
    await app.close()
  })
})
