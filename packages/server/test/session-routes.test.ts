import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { idpAppPerTest, setCookie } from './local-idp-harness.js'

// GET /auth/sessions, POST /auth/sessions/{id}/revoke and /auth/sessions/revoke-all (issue 17):
// what <wire-auth-account> lists and ends.
const PASSWORD = 'a long and unusual passphrase'
const JSON_HEADERS = { 'content-type': 'application/json' }

const idpApp = idpAppPerTest()

async function signIn(a: FastifyInstance, email: string, register = false, userAgent = 'Browser/1'): Promise<string> {
  const response = await a.inject({
    method: 'POST',
    url: register ? '/auth/local/register' : '/auth/local/login',
    headers: { ...JSON_HEADERS, 'user-agent': userAgent },
    payload: JSON.stringify({ email, password: PASSWORD }),
  })
  expect(response.statusCode).toBeLessThan(300)
  return setCookie(response)!
}

function post(a: FastifyInstance, url: string, cookie?: string, payload: string | undefined = '{}') {
  return a.inject({ method: 'POST', url, headers: { ...JSON_HEADERS, ...(cookie ? { cookie } : {}) }, payload })
}

describe('session routes', () => {
  it('lists the caller\'s own sessions, the current one marked, without the cookie value', async () => {
    const app = await idpApp.build()
    const first = await signIn(app, 'ada@example.com', true, 'Phone/1')
    const second = await signIn(app, 'ada@example.com', false, 'Laptop/2')
    await signIn(app, 'bob@example.com', true)
    const response = await app.inject({ url: '/auth/sessions', headers: { cookie: second } })
    expect(response.statusCode).toBe(200)
    expect(response.headers['cache-control']).toBe('no-store')
    const { sessions } = response.json()
    expect(sessions).toHaveLength(2)
    expect(sessions.map((s: { current: boolean }) => s.current).sort()).toEqual([false, true])
    const current = sessions.find((s: { current: boolean }) => s.current)
    expect(current.userAgent).toBe('Laptop/2')
    expect(Object.keys(current).sort()).toEqual(['createdAt', 'current', 'id', 'lastSeenAt', 'userAgent'])
    const cookieValue = second.split('=')[1]!
    expect(response.body).not.toContain(cookieValue)
    expect(response.body).not.toContain(first.split('=')[1]!)
  })

  it('anonymous callers get 401 ERR_UNAUTHENTICATED on every route', async () => {
    const app = await idpApp.build()
    expect((await app.inject({ url: '/auth/sessions' })).json().error.code).toBe('ERR_UNAUTHENTICATED')
    const revokeAll = await post(app, '/auth/sessions/revoke-all')
    expect(revokeAll.statusCode).toBe(401)
    expect(revokeAll.json().error.code).toBe('ERR_UNAUTHENTICATED')
    const one = await post(app, `/auth/sessions/${'a'.repeat(64)}/revoke`)
    expect(one.statusCode).toBe(401)
  })

  it('ends another session of the same user, which then is anonymous; the caller stays signed in', async () => {
    const app = await idpApp.build()
    const phone = await signIn(app, 'ada@example.com', true)
    const laptop = await signIn(app, 'ada@example.com')
    const { sessions } = (await app.inject({ url: '/auth/sessions', headers: { cookie: laptop } })).json()
    const other = sessions.find((s: { current: boolean }) => !s.current)
    const response = await post(app, `/auth/sessions/${other.id}/revoke`, laptop)
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ ended: true })
    expect((await app.inject({ url: '/auth/me', headers: { cookie: phone } })).json().authenticated).toBe(false)
    expect((await app.inject({ url: '/auth/me', headers: { cookie: laptop } })).json().authenticated).toBe(true)
  })

  it('never ends another user\'s session (answers ended: false)', async () => {
    const app = await idpApp.build()
    const ada = await signIn(app, 'ada@example.com', true)
    const bob = await signIn(app, 'bob@example.com', true)
    const bobs = (await app.inject({ url: '/auth/sessions', headers: { cookie: bob } })).json().sessions
    const response = await post(app, `/auth/sessions/${bobs[0].id}/revoke`, ada)
    expect(response.json()).toEqual({ ended: false })
    expect((await app.inject({ url: '/auth/me', headers: { cookie: bob } })).json().authenticated).toBe(true)
  })

  it('refuses a malformed session id and unknown body fields with ERR_VALIDATION', async () => {
    const app = await idpApp.build()
    const ada = await signIn(app, 'ada@example.com', true)
    const bad = await post(app, '/auth/sessions/not-a-session/revoke', ada)
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.code).toBe('ERR_VALIDATION')
    const extra = await post(app, '/auth/sessions/revoke-all', ada, JSON.stringify({ everyone: true }))
    expect(extra.statusCode).toBe(400)
    expect(extra.json().error.code).toBe('ERR_VALIDATION')
    // A JSON null is not an empty body (found by the HTTP fuzzer: it signed the caller out everywhere).
    const nullBody = await post(app, '/auth/sessions/revoke-all', ada, 'null')
    expect(nullBody.statusCode).toBe(400)
    expect(nullBody.json().error.code).toBe('ERR_VALIDATION')
  })

  it('revoke-all signs the user out everywhere, this browser included', async () => {
    const app = await idpApp.build()
    const phone = await signIn(app, 'ada@example.com', true)
    const laptop = await signIn(app, 'ada@example.com')
    const response = await post(app, '/auth/sessions/revoke-all', laptop)
    expect(response.json()).toEqual({ ended: 2 })
    for (const cookie of [phone, laptop]) expect((await app.inject({ url: '/auth/me', headers: { cookie } })).json().authenticated).toBe(false)
  })

  it('refuses a request from a foreign origin (CSRF) with ERR_ORIGIN_NOT_ALLOWED', async () => {
    const app = await idpApp.build()
    const ada = await signIn(app, 'ada@example.com', true)
    const response = await app.inject({ method: 'POST', url: '/auth/sessions/revoke-all', headers: { 'content-type': 'application/json', origin: 'https://evil.example', cookie: ada }, payload: '{}' })
    expect(response.statusCode).toBe(403)
    expect(response.json().error.code).toBe('ERR_ORIGIN_NOT_ALLOWED')
    expect((await app.inject({ url: '/auth/me', headers: { cookie: ada } })).json().authenticated).toBe(true)
  })
})
