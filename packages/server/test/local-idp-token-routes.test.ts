import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { idpAppPerTest } from './local-idp-harness.js'
import { errorCode } from '../../../test/support/error-code.js'

const PASSWORD = 'a long and unusual passphrase'

const idpApp = idpAppPerTest()

async function post(a: FastifyInstance, url: string, body: Record<string, unknown>): Promise<LightMyRequestResponse> {
  return a.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })
}
async function postForm(a: FastifyInstance, url: string, form: string): Promise<LightMyRequestResponse> {
  return a.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form })
}
/** The resource server these tests introspect as. */
const RS = { id: 'api.example', secret: 'an introspection secret of 32+ characters', name: true }
const RS_AUTH = `Basic ${Buffer.from(`${RS.id}:${RS.secret}`).toString('base64')}`
const introspect = (a: FastifyInstance, token: string) =>
  a.inject({ method: 'POST', url: '/auth/local/verify-token', headers: { 'content-type': 'application/json', authorization: RS_AUTH }, payload: JSON.stringify({ token }) })

async function setup(options = {}) {
  const app = await idpApp.build({ resourceServers: [RS], ...options })
  const registered = await post(app, '/auth/local/register', { email: 'ada@example.com', password: PASSWORD, name: 'Ada' })
  expect(registered.statusCode).toBe(201)
  return { a: app, userId: registered.json().user.id as string }
}
async function passwordGrant(a: FastifyInstance) {
  const response = await post(a, '/auth/local/token', { grant_type: 'password', username: 'ada@example.com', password: PASSWORD })
  expect(response.statusCode).toBe(200)
  return response.json() as { access_token: string; refresh_token: string; token_type: string; expires_in: number }
}
const bearer = (a: FastifyInstance, token: string) => a.inject({ url: '/test/whoami', headers: { authorization: `Bearer ${token}` } })

describe('POST /auth/local/token', () => {
  it('password grant (JSON) answers the OAuth token response with no-store', async () => {
    const { a, userId } = await setup()
    const response = await post(a, '/auth/local/token', { grant_type: 'password', username: ' ADA@example.com', password: PASSWORD })
    expect(response.statusCode).toBe(200)
    expect(response.headers['cache-control']).toBe('no-store')
    const body = response.json()
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 600, refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) })
    const me = await bearer(a, body.access_token)
    expect(me.statusCode).toBe(200)
    expect(me.json()).toMatchObject({ id: userId, tokenUse: 'access' })
  })

  it('password grant (form-encoded) works too', async () => {
    const { a } = await setup()
    const response = await postForm(a, '/auth/local/token', `grant_type=password&username=ada%40example.com&password=${encodeURIComponent(PASSWORD)}`)
    expect(response.statusCode).toBe(200)
    expect(response.json().token_type).toBe('Bearer')
  })

  it.each([
    [{ grant_type: 'password', username: 'ada@example.com', password: 'wrong passphrase' }, 400, 'ERR_INVALID_GRANT'],
    [{ grant_type: 'password', username: 'nobody@example.com', password: PASSWORD }, 400, 'ERR_INVALID_GRANT'],
    [{ grant_type: 'refresh_token', refresh_token: 'A'.repeat(43) }, 400, 'ERR_INVALID_GRANT'],
    [{ grant_type: 'client_credentials' }, 400, 'ERR_UNSUPPORTED_GRANT_TYPE'],
    [{ grant_type: 'authorization_code', code: 'x' }, 400, null],
    [{ grant_type: 'password', username: 'ada@example.com' }, 400, 'ERR_VALIDATION'],
    [{ grant_type: 'refresh_token' }, 400, 'ERR_VALIDATION'],
    [{ username: 'ada@example.com', password: PASSWORD }, 400, 'ERR_VALIDATION'],
  ])('refuses %j with %i %s', async (body, status, code) => {
    const { a } = await setup()
    const response = await post(a, '/auth/local/token', body)
    expect(response.statusCode).toBe(status)
    expect(errorCode(response.json())).toEqual(code ?? expect.stringMatching(/^ERR_(UNSUPPORTED_GRANT_TYPE|VALIDATION)$/))
  })

  it('refuses a repeated form field (no parameter shadowing)', async () => {
    const { a } = await setup()
    const response = await postForm(a, '/auth/local/token', `grant_type=refresh_token&grant_type=password&username=ada%40example.com&password=${encodeURIComponent(PASSWORD)}`)
    expect(response.statusCode).toBe(400)
    expect(errorCode(response.json())).toBe('ERR_VALIDATION')
  })

  it('a disabled user gets no tokens', async () => {
    const { a, userId } = await setup()
    await a.authStore.updateUser(userId, { disabled: true })
    const response = await post(a, '/auth/local/token', { grant_type: 'password', username: 'ada@example.com', password: PASSWORD })
    expect(response.statusCode).toBe(400)
    expect(errorCode(response.json())).toBe('ERR_INVALID_GRANT')
  })

  it('refresh grant rotates; reuse of a rotated token revokes the whole family (checklist 13)', async () => {
    const { a } = await setup()
    const first = await passwordGrant(a)
    const second = await post(a, '/auth/local/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token })
    expect(second.statusCode).toBe(200)
    const rotated = second.json()
    expect(rotated.refresh_token).not.toBe(first.refresh_token)
    expect((await bearer(a, rotated.access_token)).statusCode).toBe(200)

    const reuse = await postForm(a, '/auth/local/token', `grant_type=refresh_token&refresh_token=${first.refresh_token}`)
    expect(reuse.statusCode).toBe(400)
    expect(errorCode(reuse.json())).toBe('ERR_INVALID_GRANT')
    // The legitimate holder's newer token died with the family.
    const after = await post(a, '/auth/local/token', { grant_type: 'refresh_token', refresh_token: rotated.refresh_token })
    expect(after.statusCode).toBe(400)
    expect(errorCode(after.json())).toBe('ERR_INVALID_GRANT')
    expect((await a.authStore.listAudit({ action: 'token.reuse' })).length).toBe(1)
  })

  it('an access token is not a refresh token, and a refresh token is not an access token (checklist 11)', async () => {
    const { a } = await setup()
    const tokens = await passwordGrant(a)
    const swapped = await post(a, '/auth/local/token', { grant_type: 'refresh_token', refresh_token: tokens.access_token })
    expect(swapped.statusCode).toBe(400)
    expect(['ERR_INVALID_GRANT', 'ERR_VALIDATION']).toContain(errorCode(swapped.json()))
    const asAccess = await bearer(a, tokens.refresh_token)
    expect(asAccess.statusCode).toBe(401)
    expect(errorCode(asAccess.json())).toBe('ERR_UNAUTHENTICATED')
  })
})

describe('bearer tokens on the host app', () => {
  it('malformed and oversized tokens answer 401, never a crash (checklist 12)', async () => {
    const { a } = await setup()
    const { access_token } = await passwordGrant(a)
    const [h, p, s] = access_token.split('.')
    const samples = [
      'x',
      'a.b.c',
      `${h}.${p}`,
      `${h}.${p}.`,
      `${h}.${p}.${s}x`,
      `${h}.${p.slice(0, -2)}.${s}`,
      `${'A'.repeat(20_000)}.${p}.${s}`,
      `${h}..${s}`,
      '....',
      'ey.ey.ey',
    ]
    for (const token of samples) {
      const response = await bearer(a, token)
      expect(response.statusCode).toBe(401)
      expect(errorCode(response.json())).toBe('ERR_UNAUTHENTICATED')
    }
    for (const authorization of ['Bearer', 'Bearer ', 'bearer    ', `Basic ${Buffer.from('a:b').toString('base64')}`]) {
      const response = await a.inject({ url: '/test/whoami', headers: { authorization } })
      expect(response.statusCode).toBe(401)
    }
  })
})

describe('POST /auth/local/verify-token (RFC 7662)', () => {
  it('describes an active access token to a resource server allowed to see names', async () => {
    const { a, userId } = await setup()
    const { access_token } = await passwordGrant(a)
    const response = await introspect(a, access_token)
    expect(response.statusCode).toBe(200)
    expect(response.headers['cache-control']).toBe('no-store')
    expect(response.json()).toEqual({
      active: true,
      sub: userId,
      name: 'Ada',
      claims: [],
      exp: expect.any(Number),
      iat: expect.any(Number),
      nbf: expect.any(Number),
      iss: 'http://localhost:3000',
      aud: 'wire-auth',
      token_type: 'Bearer',
      jti: expect.any(String),
    })
  })

  it('answers { active: false } for garbage, refresh tokens and oversized input', async () => {
    const { a } = await setup()
    const { refresh_token } = await passwordGrant(a)
    for (const token of ['', 'garbage', 'a.b.c', refresh_token, 'A'.repeat(20_000)]) {
      const response = await introspect(a, token)
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ active: false })
    }
    const form = await a.inject({ method: 'POST', url: '/auth/local/verify-token', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: RS_AUTH }, payload: 'token=nope' })
    expect(form.json()).toEqual({ active: false })
  })
})

describe('POST /auth/local/revoke (RFC 7009)', () => {
  it('answers 200 for unknown and garbage tokens, and is idempotent', async () => {
    const { a } = await setup()
    for (const token of ['', 'unknown', 'A'.repeat(43), 'a.b.c', 'x'.repeat(10_000)]) {
      const response = await post(a, '/auth/local/revoke', { token })
      expect(response.statusCode).toBe(200)
    }
    const { access_token } = await passwordGrant(a)
    for (let i = 0; i < 2; i++) expect((await postForm(a, '/auth/local/revoke', `token=${access_token}&token_type_hint=access_token`)).statusCode).toBe(200)
  })

  it('revoking an access token makes it fail everywhere at once', async () => {
    const { a } = await setup()
    const { access_token } = await passwordGrant(a)
    expect((await bearer(a, access_token)).statusCode).toBe(200)
    expect((await post(a, '/auth/local/revoke', { token: access_token })).statusCode).toBe(200)
    expect((await bearer(a, access_token)).statusCode).toBe(401)
    expect((await introspect(a, access_token)).json()).toEqual({ active: false })
    expect((await a.authStore.listAudit({ action: 'token.revoke' })).length).toBe(1)
  })

  it('revoking a refresh token revokes its grant', async () => {
    const { a } = await setup()
    const { refresh_token } = await passwordGrant(a)
    expect((await post(a, '/auth/local/revoke', { token: refresh_token })).statusCode).toBe(200)
    const response = await post(a, '/auth/local/token', { grant_type: 'refresh_token', refresh_token })
    expect(response.statusCode).toBe(400)
    expect(errorCode(response.json())).toBe('ERR_INVALID_GRANT')
  })
})

describe('GET /.well-known/jwks.json', () => {
  it('publishes the public key; a third party verifies our tokens with it', async () => {
    const { a, userId } = await setup()
    const { access_token } = await passwordGrant(a)
    const response = await a.inject({ url: '/.well-known/jwks.json' })
    expect(response.statusCode).toBe(200)
    const jwks = response.json()
    expect(jwks.keys).toHaveLength(1)
    expect(jwks.keys[0]).not.toHaveProperty('d')
    const { payload, protectedHeader } = await jwtVerify(access_token, createLocalJWKSet(jwks), { issuer: 'http://localhost:3000', audience: 'wire-auth', typ: 'at+jwt' })
    expect(payload.sub).toBe(userId)
    expect(protectedHeader.kid).toBe(jwks.keys[0].kid)
  })
})

describe('restart', () => {
  it('a new app on the same SQLite file verifies a token issued before the restart', async () => {
    const { a, userId } = await setup()
    const { access_token, refresh_token } = await passwordGrant(a)
    await a.close()
    const app = await idpApp.build()
    const me = await bearer(app, access_token)
    expect(me.statusCode).toBe(200)
    expect(me.json().id).toBe(userId)
    expect((await post(app, '/auth/local/token', { grant_type: 'refresh_token', refresh_token })).statusCode).toBe(200)
  })
})
