// Checklist 9: revoking a session, revoking a claim, revoking a token and
// disabling a user take effect on the very next request and on every open
// socket — cookie sockets and token sockets alike — without a reload.
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client } from './support/live-client.js'
import { cookieFrom, securityApp, SITE, type SecurityApp, INTROSPECTION_HEADERS } from './support/security-app.js'
import { errorCode } from '../support/error-code.js'

const PASSWORD = 'correct horse battery staple'
const MOUNT = { t: 'mount', regions: [{ id: 'hello', fragment: 'hello-card' }, { id: 'beta', fragment: 'beta-panel' }] }

let product: SecurityApp
let url: string
let adminCookie: string
let n = 0
const clients: Client[] = []

beforeAll(async () => {
  product = await securityApp({
    config: {
      localIdp: { rateLimitPerMinute: 1000, grants: ['authorization_code', 'refresh_token', 'password'] },
      setup(app) {
        app.get('/test/beta', { config: { wireAuth: 'guarded' }, preHandler: app.requirePolicy({ claims: [['role', 'beta']] }) }, async (request) => ({ hello: request.user.name }))
      },
    },
  })
  const admin = await product.app.authStore.createUser({ email: 'root@example.com', name: 'Root', passwordHash: null, claims: [{ type: 'role', value: 'admin' }] })
  adminCookie = await product.signIn(admin.id)
  await product.app.listen({ port: 0, host: '127.0.0.1' })
  url = `ws://127.0.0.1:${(product.app.server.address() as { port: number }).port}/auth/live`
}, 60_000)
afterAll(async () => {
  for (const client of clients) client.close()
  await product?.close()
})

/** A password user with two browser sessions, a token pair, the beta claim, and a socket on each. */
async function victim() {
  const { app } = product
  const email = `victim${n++}@example.com`
  const registered = await app.inject({ method: 'POST', url: '/auth/local/register', payload: { email, password: PASSWORD, name: 'Victim' } })
  expect(registered.statusCode).toBe(201)
  const id = registered.json().user.id as string
  const cookieA = cookieFrom(registered)!
  const cookieB = cookieFrom(await app.inject({ method: 'POST', url: '/auth/local/login', payload: { email, password: PASSWORD } }))!
  await app.auth.grantTo(id, 'role', 'beta')
  const tokens = (await app.inject({ method: 'POST', url: '/auth/local/token', payload: { grant_type: 'password', username: email, password: PASSWORD } })).json()
  const socket = async (headers: Record<string, string>, token?: string) => {
    const client = await Client.open(url, headers)
    clients.push(client)
    await client.next('principal')
    if (token !== undefined) {
      client.send({ t: 'auth', token })
      expect((await client.next('principal')).user).toMatchObject({ authenticated: true, id })
    }
    client.send(MOUNT)
    const regions = await client.regions()
    expect(regions.hello!.status).toBe('allowed')
    expect(regions.beta!.status).toBe('allowed')
    return client
  }
  return {
    id,
    email,
    cookieA,
    cookieB,
    access: tokens.access_token as string,
    refresh: tokens.refresh_token as string,
    socketA: await socket({ cookie: cookieA }),
    socketB: await socket({ cookie: cookieB }),
    socketT: await socket({}, tokens.access_token),
  }
}

const me = async (headers: Record<string, string>) => (await product.app.inject({ url: '/auth/me', headers })).json().authenticated as boolean
const beta = async (headers: Record<string, string>) => (await product.app.inject({ url: '/test/beta', headers })).statusCode
const hashOf = (cookie: string) => createHash('sha256').update(cookie.split('=')[1]!).digest('hex')

/** Nothing arrives on these sockets for a moment (they were not concerned). */
async function quiet(...sockets: Client[]): Promise<void> {
  const counts = sockets.map((s) => s.messages.length)
  await new Promise((resolve) => setTimeout(resolve, 150))
  sockets.forEach((s, i) => expect(s.messages.slice(counts[i]).filter((m) => m.t === 'signed-out')).toEqual([]))
}

describe('revocation takes effect on the next request and on open sockets (checklist 9)', () => {
  it('revoking one session (from another of the user’s devices): that cookie is anonymous at once, its socket signs out; the rest stay', async () => {
    const v = await victim()
    const revoked = await product.app.inject({ method: 'POST', url: `/demo/api/me/sessions/${hashOf(v.cookieA)}/revoke`, headers: { cookie: v.cookieB, origin: SITE } })
    expect(revoked.json()).toEqual({ ended: true })
    expect(await me({ cookie: v.cookieA })).toBe(false)
    expect(await beta({ cookie: v.cookieA })).toBe(401)
    await v.socketA.next('signed-out')
    const regions = await v.socketA.regions()
    expect(regions.hello).toMatchObject({ status: 'denied', code: 'ERR_UNAUTHENTICATED' })
    expect(await me({ cookie: v.cookieB })).toBe(true)
    await quiet(v.socketB, v.socketT)
  })

  it('revoking a claim (admin action): the next request is denied and every socket of the user re-renders denied', async () => {
    const v = await victim()
    const revoked = await product.app.inject({ method: 'POST', url: `/demo/api/users/${v.id}/claims/revoke`, headers: { cookie: adminCookie, origin: SITE }, payload: { type: 'role', value: 'beta' } })
    expect(revoked.statusCode).toBe(200)
    expect(await beta({ cookie: v.cookieB })).toBe(403)
    expect(await beta({ authorization: `Bearer ${v.access}` })).toBe(403)
    for (const socket of [v.socketA, v.socketB, v.socketT]) expect((await socket.regions()).beta).toMatchObject({ status: 'denied', code: 'ERR_DENIED' })
    const introspection = (await product.app.inject({ method: 'POST', url: '/auth/local/verify-token', headers: INTROSPECTION_HEADERS, payload: { token: v.access } })).json()
    expect(introspection.active).toBe(true)
    expect(introspection.claims).toEqual([])
  })

  it('revoking an access token: the next bearer request is anonymous and the socket it opened signs out at once', async () => {
    const v = await victim()
    expect(await me({ authorization: `Bearer ${v.access}` })).toBe(true)
    expect((await product.app.inject({ method: 'POST', url: '/auth/local/revoke', payload: { token: v.access } })).statusCode).toBe(200)
    expect(await me({ authorization: `Bearer ${v.access}` })).toBe(false)
    expect(await beta({ authorization: `Bearer ${v.access}` })).toBe(401)
    expect((await product.app.inject({ method: 'POST', url: '/auth/local/verify-token', headers: INTROSPECTION_HEADERS, payload: { token: v.access } })).json()).toEqual({ active: false })
    await v.socketT.next('signed-out')
    expect((await v.socketT.regions()).beta).toMatchObject({ status: 'denied', code: 'ERR_UNAUTHENTICATED' })
    // The user's cookie sessions are another matter.
    await quiet(v.socketA, v.socketB)
    expect(await me({ cookie: v.cookieA })).toBe(true)
  })

  it('revoking a refresh token: the next refresh grant fails', async () => {
    const v = await victim()
    expect((await product.app.inject({ method: 'POST', url: '/auth/local/revoke', payload: { token: v.refresh } })).statusCode).toBe(200)
    const refreshed = await product.app.inject({ method: 'POST', url: '/auth/local/token', payload: { grant_type: 'refresh_token', refresh_token: v.refresh } })
    expect(refreshed.statusCode).toBe(400)
    expect(errorCode(refreshed.json())).toBe('ERR_INVALID_GRANT')
  })

  it('disabling a user (admin action) signs them out everywhere: sessions, tokens, refresh, every socket, and new sign-ins', async () => {
    const v = await victim()
    await product.app.auth.setDisabled(v.id, true)
    for (const cookie of [v.cookieA, v.cookieB]) expect(await me({ cookie })).toBe(false)
    expect(await me({ authorization: `Bearer ${v.access}` })).toBe(false)
    expect((await product.app.inject({ method: 'POST', url: '/auth/local/token', payload: { grant_type: 'refresh_token', refresh_token: v.refresh } })).statusCode).toBe(400)
    for (const socket of [v.socketA, v.socketB, v.socketT]) {
      await socket.next('signed-out')
      expect((await socket.regions()).hello).toMatchObject({ status: 'denied', code: 'ERR_UNAUTHENTICATED' })
    }
    const login = await product.app.inject({ method: 'POST', url: '/auth/local/login', payload: { email: v.email, password: PASSWORD } })
    expect(login.statusCode).toBe(401)
    expect(errorCode(login.json())).toBe('ERR_INVALID_CREDENTIALS')
    const token = await product.app.inject({ method: 'POST', url: '/auth/local/token', payload: { grant_type: 'password', username: v.email, password: PASSWORD } })
    expect(errorCode(token.json())).toBe('ERR_INVALID_GRANT')
    // A new socket with an old cookie is anonymous.
    const late = await Client.open(url, { cookie: v.cookieA })
    clients.push(late)
    expect((await late.next('principal')).user).toMatchObject({ authenticated: false })
  })

  it('"sign out everywhere" ends every cookie session, refresh token and issued access token at once, and their sockets', async () => {
    const v = await victim()
    const ended = await product.app.inject({ method: 'POST', url: '/demo/api/me/sessions/revoke-all', headers: { cookie: v.cookieB, origin: SITE } })
    expect(ended.json()).toEqual({ ended: 2 })
    for (const cookie of [v.cookieA, v.cookieB]) expect(await me({ cookie })).toBe(false)
    expect((await product.app.inject({ method: 'POST', url: '/auth/local/token', payload: { grant_type: 'refresh_token', refresh_token: v.refresh } })).statusCode).toBe(400)
    // Regression: access tokens issued before it kept working until they expired.
    expect(await me({ authorization: `Bearer ${v.access}` })).toBe(false)
    expect((await product.app.inject({ method: 'POST', url: '/auth/local/verify-token', headers: INTROSPECTION_HEADERS, payload: { token: v.access } })).json()).toEqual({ active: false })
    for (const socket of [v.socketA, v.socketB, v.socketT]) await socket.next('signed-out')
    // A token issued afterwards works.
    const fresh = await product.app.inject({ method: 'POST', url: '/auth/local/token', payload: { grant_type: 'password', username: v.email, password: PASSWORD } })
    expect(await me({ authorization: `Bearer ${fresh.json().access_token}` })).toBe(true)
  })
})
