import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { MOUNT, SITE, liveHarness } from './live-harness.js'

const live = liveHarness()

describe('token authentication (cross-site pages without cookies)', () => {
  const PASSWORD = 'correct horse battery staple 42'

  async function tokenUser(server: FastifyInstance, email: string, name: string): Promise<{ id: string; token: string }> {
    const registered = await server.inject({ method: 'POST', url: '/auth/local/register', payload: { email, password: PASSWORD, name } })
    expect(registered.statusCode).toBe(201)
    const issued = await server.inject({ method: 'POST', url: '/auth/local/token', payload: { grant_type: 'password', username: email, password: PASSWORD } })
    expect(issued.statusCode).toBe(200)
    return { id: registered.json().user.id, token: issued.json().access_token }
  }

  it('a token in the first message authenticates the socket; claims then follow the user row live', async () => {
    const server = await live.start({ localIdp: { grants: ['authorization_code', 'refresh_token', 'password'] } })
    const { id, token } = await tokenUser(server, 'tok@example.com', 'Tok')
    const client = await live.connect()
    expect((await client.next('principal')).user).toEqual({ authenticated: false, id: null, name: null })
    client.send({ t: 'auth', token })
    expect(await client.next('principal')).toEqual({ t: 'principal', user: { authenticated: true, id, name: 'Tok' } })
    client.send(MOUNT)
    const regions = await client.render()
    expect(regions.find((r) => r.id === 'acct')).toEqual({ id: 'acct', status: 'allowed', html: '<p>Tok</p>' })
    expect(regions.find((r) => r.id === 'beta')).toMatchObject({ status: 'denied', code: 'ERR_DENIED' })

    await server.auth.grantTo(id, 'role', 'beta')
    expect(await client.render()).toEqual([{ id: 'beta', status: 'allowed', html: '<p>beta for Tok</p>' }])
  })

  it('a revoked token or a disabled user turns the token socket anonymous at the next change', async () => {
    const server = await live.start({ localIdp: { grants: ['authorization_code', 'refresh_token', 'password'] } })
    const first = await tokenUser(server, 'one@example.com', 'One')
    const second = await tokenUser(server, 'two@example.com', 'Two')
    const revokedTab = await live.connect()
    const disabledTab = await live.connect()
    revokedTab.send({ t: 'auth', token: first.token })
    disabledTab.send({ t: 'auth', token: second.token })
    for (const tab of [revokedTab, disabledTab]) {
      await tab.next('principal')
      expect((await tab.next('principal')).user).toMatchObject({ authenticated: true })
      tab.send({ t: 'mount', regions: [{ id: 'a', fragment: 'account' }] })
      expect((await tab.render())[0].status).toBe('allowed')
    }

    expect((await server.inject({ method: 'POST', url: '/auth/local/revoke', payload: { token: first.token } })).statusCode).toBe(200)
    await server.auth.grantTo(first.id, 'role', 'beta')
    expect(await revokedTab.next()).toEqual({ t: 'signed-out' })
    expect((await revokedTab.next('principal')).user).toEqual({ authenticated: false, id: null, name: null })
    expect(await revokedTab.render()).toEqual([{ id: 'a', status: 'denied', html: '', code: 'ERR_UNAUTHENTICATED' }])

    await server.auth.setDisabled(second.id, true)
    expect(await disabledTab.next()).toEqual({ t: 'signed-out' })
    expect(await disabledTab.render()).toEqual([{ id: 'a', status: 'denied', html: '', code: 'ERR_UNAUTHENTICATED' }])
  })

  it('a forged, expired-looking or garbage token gets ERR_INVALID_TOKEN and the socket stays anonymous', async () => {
    const server = await live.start({ localIdp: { grants: ['authorization_code', 'refresh_token', 'password'] } })
    const { token } = await tokenUser(server, 'real@example.com', 'Real')
    const client = await live.connect()
    await client.next('principal')
    const [header, payload] = token.split('.')
    for (const bad of ['garbage', `${header}.${payload}.`, `${header}.${payload}.${'A'.repeat(86)}`, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.']) {
      client.send({ t: 'auth', token: bad })
      expect(await client.next('error')).toMatchObject({ code: 'ERR_INVALID_TOKEN' })
    }
    client.send({ t: 'mount', regions: [{ id: 'a', fragment: 'account' }] })
    expect(await client.render()).toEqual([{ id: 'a', status: 'denied', html: '', code: 'ERR_UNAUTHENTICATED' }])
  })

  it('a bearer token on the upgrade request (non-browser clients) authenticates the socket', async () => {
    const server = await live.start({ localIdp: { grants: ['authorization_code', 'refresh_token', 'password'] } })
    const { id, token } = await tokenUser(server, 'cli@example.com', 'Cli')
    const client = await live.connect(undefined, {}, SITE, { authorization: `Bearer ${token}` })
    expect(await client.next('principal')).toEqual({ t: 'principal', user: { authenticated: true, id, name: 'Cli' } })
    await server.auth.grantTo(id, 'role', 'beta')
    client.send({ t: 'mount', regions: [{ id: 'b', fragment: 'beta-panel' }] })
    expect(await client.render()).toEqual([{ id: 'b', status: 'allowed', html: '<p>beta for Cli</p>' }])
  })
})
