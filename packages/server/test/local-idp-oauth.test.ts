import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import * as client from 'openid-client'
import { describe, expect, it } from 'vitest'
import type { AuthStore } from '../src/lib/store/auth-store.js'
import { SqliteAuthStore } from '../src/lib/store/sqlite-store.js'
import { errorCode } from '../../../test/support/error-code.js'
import { freePort } from '../../../test/support/free-port.mjs'
import { frozenClock, idpAppPerTest, makeIdp, setCookie } from './local-idp-harness.js'

const PASSWORD = 'a long and unusual passphrase'
const DAY = 24 * 3600 * 1000

const idpApp = idpAppPerTest()

function post(a: FastifyInstance, url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return a.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) })
}
const bearer = (a: FastifyInstance, token: string) => a.inject({ url: '/test/whoami', headers: { authorization: `Bearer ${token}` } })

/** Registers Ada through the API and returns her id and session cookie. */
async function register(a: FastifyInstance): Promise<{ userId: string; cookie: string }> {
  const response = await post(a, '/auth/local/register', { email: 'ada@example.com', password: PASSWORD, name: 'Ada' })
  expect(response.statusCode).toBe(201)
  return { userId: response.json().user.id as string, cookie: setCookie(response) as string }
}

describe('RFC 6749 §5.2 error shapes', () => {
  it('token errors carry error, error_description and wire-auth code', async () => {
    const app = await idpApp.build()
    const response = await post(app, '/auth/local/token', { grant_type: 'refresh_token', refresh_token: 'A'.repeat(43) })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ error: 'invalid_grant', error_description: expect.any(String), code: 'ERR_INVALID_GRANT' })
    const unsupported = await post(app, '/auth/local/token', { grant_type: 'client_credentials' })
    expect(unsupported.json()).toMatchObject({ error: 'unsupported_grant_type', code: 'ERR_UNSUPPORTED_GRANT_TYPE' })
    const malformed = await post(app, '/auth/local/token', { grant_type: 5 })
    expect(malformed.json()).toMatchObject({ error: 'invalid_request', code: 'ERR_VALIDATION' })
    const revoke = await post(app, '/auth/local/revoke', {})
    expect(revoke.statusCode).toBe(400)
    expect(revoke.json()).toMatchObject({ error: 'invalid_request', code: 'ERR_VALIDATION' })
  })

  it('the password grant is off unless listed in grants (RFC 9700 §2.4)', async () => {
    const app = await idpApp.build({ grants: ['authorization_code', 'refresh_token'] })
    await register(app)
    const response = await post(app, '/auth/local/token', { grant_type: 'password', username: 'ada@example.com', password: PASSWORD })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ error: 'unsupported_grant_type', code: 'ERR_UNSUPPORTED_GRANT_TYPE' })
  })
})

describe('refresh-token families have an absolute lifetime (issue 13 F10)', () => {
  it('rotating every 20 days does not keep a family alive past refreshFamilyTtl', async () => {
    const store = await idpApp.env.open()
    const clock = frozenClock()
    const idp = await makeIdp(store, clock.now)
    const user = await store.createUser({ email: 'ada@example.com', name: 'Ada', passwordHash: null })
    let { refresh_token } = await idp.issueTokens(user)
    clock.advance(20 * DAY)
    const second = await idp.refresh(refresh_token)
    expect(second.ok).toBe(true)
    refresh_token = (second as { tokens: { refresh_token: string } }).tokens.refresh_token
    // Day 40: the day-20 token would live until day 50 on its own, but its family ended on day 30.
    clock.advance(20 * DAY)
    const third = await idp.refresh(refresh_token)
    expect(third).toMatchObject({ ok: false, reason: 'invalid' })
  })

  it('a successor never outlives the family, and refreshFamilyTtl is configurable', async () => {
    const store = await idpApp.env.open()
    const clock = frozenClock()
    const idp = await makeIdp(store, clock.now, { refreshTokenTtl: 3600, refreshFamilyTtl: 7200 })
    const user = await store.createUser({ email: 'ada@example.com', name: 'Ada', passwordHash: null })
    let token = (await idp.issueTokens(user)).refresh_token
    for (let i = 0; i < 3; i++) {
      clock.advance(50 * 60 * 1000)
      const next = await idp.refresh(token)
      if (i < 2) {
        expect(next.ok, `rotation ${i}`).toBe(true)
        token = (next as { tokens: { refresh_token: string } }).tokens.refresh_token
      } else {
        // 150 minutes after sign-in: past the 120-minute family.
        expect(next.ok).toBe(false)
      }
    }
  })
})

describe('"sign out everywhere" racing a refresh in flight (issue 13 C5)', () => {
  it('the refresh mints no access token that survives the sign-out', async () => {
    const sqlite = new SqliteAuthStore(idpApp.env.path)
    // Holds the two operations at the interleaving that broke: the refresh has
    // marked its token used; the sign-out is about to revoke refresh tokens.
    let armed = false
    let release: { refreshUsed?: () => void; signOutAtRevoke?: () => void; refreshDone?: () => void } = {}
    const refreshUsed = new Promise<void>((r) => (release.refreshUsed = r))
    const signOutAtRevoke = new Promise<void>((r) => (release.signOutAtRevoke = r))
    const refreshDone = new Promise<void>((r) => (release.refreshDone = r))
    const timeout = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
    const store = new Proxy(sqlite, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown
        if (typeof value !== 'function') return value
        if (name === 'useRefreshToken') {
          return async (...args: unknown[]) => {
            const result = await (value as (...a: unknown[]) => Promise<boolean>).apply(target, args)
            if (armed) {
              release.refreshUsed?.()
              await Promise.race([signOutAtRevoke, timeout(2000)])
            }
            return result
          }
        }
        if (name === 'revokeUserRefreshTokens') {
          return async (...args: unknown[]) => {
            if (armed) {
              release.signOutAtRevoke?.()
              await Promise.race([refreshDone, timeout(2000)])
            }
            return (value as (...a: unknown[]) => Promise<void>).apply(target, args)
          }
        }
        return (value as (...a: unknown[]) => unknown).bind(target)
      },
    }) as AuthStore
    const app = await idpApp.build({}, { store })
    const { userId } = await register(app)
    const issued = (await post(app, '/auth/local/token', { grant_type: 'password', username: 'ada@example.com', password: PASSWORD })).json()

    armed = true
    const a = app
    const refreshing = (async () => {
      try {
        return await post(a, '/auth/local/token', { grant_type: 'refresh_token', refresh_token: issued.refresh_token })
      } finally {
        release.refreshDone?.()
      }
    })()
    await Promise.race([refreshUsed, timeout(2000)])
    const signingOut = a.auth.revokeAllSessions(userId)
    const [refreshed] = await Promise.all([refreshing, signingOut])
    armed = false
    release = {}

    expect((await bearer(a, issued.access_token)).statusCode).toBe(401)
    if (refreshed.statusCode === 200) {
      const body = refreshed.json()
      expect((await bearer(a, body.access_token)).statusCode, 'the access token minted during the sign-out').toBe(401)
      expect((await post(a, '/auth/local/token', { grant_type: 'refresh_token', refresh_token: body.refresh_token })).statusCode).toBe(400)
    } else {
      expect(errorCode(refreshed.json())).toBe('ERR_INVALID_GRANT')
    }
  })
})

describe('introspection per RFC 7662 (issue 13 F14)', () => {
  const RS = { id: 'orders-api', secret: 'orders-api-introspection-secret-0123456789', claimTypes: ['plan'] }
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`

  it('is off (404) unless a resource server is configured', async () => {
    const app = await idpApp.build()
    await register(app)
    const { access_token } = (await post(app, '/auth/local/token', { grant_type: 'password', username: 'ada@example.com', password: PASSWORD })).json()
    const response = await post(app, '/auth/local/verify-token', { token: access_token })
    expect(response.statusCode).toBe(404)
    expect(JSON.stringify(response.json())).not.toContain('Ada')
  })

  it('refuses callers that do not authenticate as a resource server with 401 invalid_client', async () => {
    const app = await idpApp.build({ resourceServers: [RS] })
    await register(app)
    const { access_token } = (await post(app, '/auth/local/token', { grant_type: 'password', username: 'ada@example.com', password: PASSWORD })).json()
    for (const authorization of [undefined, basic(RS.id, 'wrong-secret-of-enough-length-0123456789'), basic('other', RS.secret), 'Bearer ' + access_token, 'Basic !!!']) {
      const response = await post(app, '/auth/local/verify-token', { token: access_token }, authorization === undefined ? {} : { authorization })
      expect(response.statusCode, String(authorization)).toBe(401)
      expect(response.headers['www-authenticate']).toMatch(/^Basic /)
      expect(response.json()).toMatchObject({ error: 'invalid_client', code: 'ERR_INVALID_CLIENT' })
    }
  })

  it('answers what that resource server may see: its claim types, no name unless allowed', async () => {
    const app = await idpApp.build({ resourceServers: [RS] })
    const { userId } = await register(app)
    await app.auth.grantTo(userId, 'plan', 'pro')
    await app.auth.grantTo(userId, 'role', 'admin')
    const { access_token } = (await post(app, '/auth/local/token', { grant_type: 'password', username: 'ada@example.com', password: PASSWORD })).json()
    const response = await post(app, '/auth/local/verify-token', { token: access_token }, { authorization: basic(RS.id, RS.secret) })
    expect(response.statusCode).toBe(200)
    const body = response.json()
    expect(body).toMatchObject({ active: true, sub: userId, claims: [['plan', 'pro']], token_type: 'Bearer' })
    expect(body).not.toHaveProperty('name')
    expect(JSON.stringify(body)).not.toContain('admin')
  })
})

describe('authorization code flow with PKCE, openid-client as the relying party', () => {
  const CLIENT = 'spa'
  let issuer: string
  let redirectUri: string
  let config: client.Configuration

  async function start(extra: Record<string, unknown> = {}): Promise<FastifyInstance> {
    const port = await freePort()
    issuer = `http://127.0.0.1:${port}`
    redirectUri = 'http://127.0.0.1:9999/callback'
    const app = await idpApp.build(
      { clients: [{ clientId: CLIENT, redirectUris: [redirectUri] }, { clientId: 'other', redirectUris: ['http://127.0.0.1:9998/cb'] }], ...extra },
      { publicUrl: issuer },
    )
    await app.listen({ port, host: '127.0.0.1' })
    config = await client.discovery(new URL(issuer), CLIENT, undefined, client.None(), { execute: [client.allowInsecureRequests] })
    return app
  }

  /** What the browser does: GET the authorization URL with the session cookie; returns the Location it is sent to. */
  async function authorize(cookie: string | null, params: Record<string, string>): Promise<{ status: number; location: string | null; body: string }> {
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', ...params })
    const response = await fetch(url, { redirect: 'manual', headers: cookie === null ? {} : { cookie } })
    return { status: response.status, location: response.headers.get('location'), body: await response.text() }
  }

  async function pkce() {
    const verifier = client.randomPKCECodeVerifier()
    return { verifier, challenge: await client.calculatePKCECodeChallenge(verifier), state: client.randomState() }
  }

  it('discovery: openid-client reads both documents; they describe the endpoints, grants, algorithms and PKCE', async () => {
    await start()
    const metadata = config.serverMetadata()
    expect(metadata).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/auth/local/authorize`,
      token_endpoint: `${issuer}/auth/local/token`,
      revocation_endpoint: `${issuer}/auth/local/revoke`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      grant_types_supported: ['authorization_code', 'refresh_token', 'password'],
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
      id_token_signing_alg_values_supported: ['EdDSA'],
    })
    expect(metadata.introspection_endpoint).toBeUndefined()
    const rfc8414 = await client.discovery(new URL(issuer), CLIENT, undefined, client.None(), { execute: [client.allowInsecureRequests], algorithm: 'oauth2' })
    expect(rfc8414.serverMetadata()).toEqual(metadata)
  })

  it('happy path: signed-in session → code → tokens that authenticate; the refresh token rotates', async () => {
    const a = await start()
    const { userId, cookie } = await register(a)
    const { verifier, challenge, state } = await pkce()
    const answer = await authorize(cookie, { code_challenge: challenge, code_challenge_method: 'S256', state })
    expect(answer.status).toBe(303)
    const back = new URL(answer.location as string)
    expect(back.origin + back.pathname).toBe(redirectUri)
    expect(back.searchParams.get('iss')).toBe(issuer)
    const tokens = await client.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state })
    expect(tokens.token_type).toBe('bearer')
    expect((await bearer(a, tokens.access_token)).json()).toMatchObject({ id: userId, tokenUse: 'access' })
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string)
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token)
    expect((await a.authStore.listAudit({ action: 'authorization.code' })).length).toBe(1)
  })

  it('a wrong verifier gets invalid_grant, and burns the code', async () => {
    const a = await start()
    const { cookie } = await register(a)
    const { challenge, state, verifier } = await pkce()
    const back = new URL((await authorize(cookie, { code_challenge: challenge, code_challenge_method: 'S256', state })).location as string)
    const wrong = client.randomPKCECodeVerifier()
    await expect(client.authorizationCodeGrant(config, back, { pkceCodeVerifier: wrong, expectedState: state })).rejects.toMatchObject({ error: 'invalid_grant' })
    await expect(client.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state })).rejects.toMatchObject({ error: 'invalid_grant' })
  })

  it('a reused code gets invalid_grant and revokes the tokens the first exchange gave', async () => {
    const a = await start()
    const { cookie } = await register(a)
    const { verifier, challenge, state } = await pkce()
    const back = new URL((await authorize(cookie, { code_challenge: challenge, code_challenge_method: 'S256', state })).location as string)
    const first = await client.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state })
    await expect(client.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state })).rejects.toMatchObject({ error: 'invalid_grant' })
    await expect(client.refreshTokenGrant(config, first.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' })
    expect((await a.authStore.listAudit({ action: 'token.reuse' })).length).toBe(1)
  })

  it('a foreign or inexact redirect URI is refused with 400 and never redirected to', async () => {
    const a = await start()
    const { cookie } = await register(a)
    const { challenge, state } = await pkce()
    for (const foreign of ['https://evil.example/callback', `${'http://127.0.0.1:9999/callback'}/`, 'http://127.0.0.1:9999/callback?x=1', 'http://127.0.0.1:9999/CALLBACK', 'http://127.0.0.1:9998/cb']) {
      const answer = await authorize(cookie, { redirect_uri: foreign, code_challenge: challenge, code_challenge_method: 'S256', state })
      expect(answer.status, foreign).toBe(400)
      expect(answer.location, foreign).toBeNull()
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'invalid_request', code: 'ERR_INVALID_REDIRECT_URI' })
    }
    void a
  })

  it('a wrong client: unknown at the authorization endpoint (400), another client\'s code at the token endpoint (invalid_grant)', async () => {
    const a = await start()
    const { cookie } = await register(a)
    const { verifier, challenge, state } = await pkce()
    const unknown = await authorize(cookie, { client_id: 'nobody', code_challenge: challenge, code_challenge_method: 'S256', state })
    expect(unknown.status).toBe(400)
    expect(unknown.location).toBeNull()
    expect(JSON.parse(unknown.body)).toMatchObject({ error: 'invalid_client', code: 'ERR_INVALID_CLIENT' })

    const back = new URL((await authorize(cookie, { code_challenge: challenge, code_challenge_method: 'S256', state })).location as string)
    const other = await client.discovery(new URL(issuer), 'other', undefined, client.None(), { execute: [client.allowInsecureRequests] })
    await expect(client.authorizationCodeGrant(other, back, { pkceCodeVerifier: verifier, expectedState: state })).rejects.toMatchObject({ error: 'invalid_grant' })
    const unregistered = await client.discovery(new URL(issuer), 'nobody', undefined, client.None(), { execute: [client.allowInsecureRequests] })
    await expect(client.authorizationCodeGrant(unregistered, back, { pkceCodeVerifier: verifier, expectedState: state })).rejects.toMatchObject({ error: 'invalid_client' })
  })

  it('without a session: to the login page with returnTo, or login_required with prompt=none; without PKCE: invalid_request', async () => {
    const a = await start()
    const { cookie } = await register(a)
    const { challenge, state } = await pkce()
    const anonymous = await authorize(null, { code_challenge: challenge, code_challenge_method: 'S256', state })
    expect(anonymous.status).toBe(303)
    const login = new URL(anonymous.location as string, issuer)
    expect(login.pathname).toBe('/login')
    expect(new URL(login.searchParams.get('returnTo') as string).pathname).toBe('/auth/local/authorize')

    const silent = new URL((await authorize(null, { code_challenge: challenge, code_challenge_method: 'S256', state, prompt: 'none' })).location as string)
    expect(Object.fromEntries(silent.searchParams)).toMatchObject({ error: 'login_required', state, iss: issuer })

    const plain = new URL((await authorize(cookie, { code_challenge: challenge, code_challenge_method: 'plain', state })).location as string)
    expect(plain.searchParams.get('error')).toBe('invalid_request')
    expect(plain.searchParams.get('code')).toBeNull()
    void a
  })

  it('a bearer token alone does not sign the user in at the authorization endpoint', async () => {
    const a = await start()
    await register(a)
    const { access_token } = (await post(a, '/auth/local/token', { grant_type: 'password', username: 'ada@example.com', password: PASSWORD })).json()
    const { challenge, state } = await pkce()
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state, prompt: 'none' })
    const response = await fetch(url, { redirect: 'manual', headers: { authorization: `Bearer ${access_token}` } })
    expect(new URL(response.headers.get('location') as string).searchParams.get('error')).toBe('login_required')
  })
})

describe('POST /auth/local/session-token (WireAuth.getToken)', () => {
  const ORIGIN = 'https://www.example.com'

  it('gives a signed-in session a short-lived access token, for allowed origins only', async () => {
    const app = await idpApp.build({}, { allowedOrigins: [ORIGIN] })
    const { userId, cookie } = await register(app)
    const ok = await app.inject({ method: 'POST', url: '/auth/local/session-token', headers: { cookie, origin: ORIGIN } })
    expect(ok.statusCode).toBe(200)
    expect(ok.headers['cache-control']).toBe('no-store')
    const body = ok.json()
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 600 })
    expect((await bearer(app, body.access_token)).json()).toMatchObject({ id: userId })

    const noOrigin = await app.inject({ method: 'POST', url: '/auth/local/session-token', headers: { cookie } })
    expect(noOrigin.statusCode).toBe(403)
    expect(errorCode(noOrigin.json())).toBe('ERR_ORIGIN_NOT_ALLOWED')
    const foreign = await app.inject({ method: 'POST', url: '/auth/local/session-token', headers: { cookie, origin: 'https://evil.example' } })
    expect(foreign.statusCode).toBe(403)
    const anonymous = await app.inject({ method: 'POST', url: '/auth/local/session-token', headers: { origin: ORIGIN } })
    expect(anonymous.statusCode).toBe(401)
    const withToken = await app.inject({ method: 'POST', url: '/auth/local/session-token', headers: { origin: ORIGIN, authorization: `Bearer ${body.access_token}` } })
    expect(withToken.statusCode).toBe(401)
  })
})
