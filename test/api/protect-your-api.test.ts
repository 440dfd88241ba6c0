import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectAuth, OidcProvider } from '../../packages/server/src/index.js'
import { driveProviderLogin, TestBrowser } from '../support/oidc-provider-browser.mjs'
import { listenOnFreePort, startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.mjs'
import { startProtectedApi } from '../support/protected-api.mjs'

// Issue 16: another backend (plain node:http, not Fastify) verifies wire-auth's
// tokens with jose's createRemoteJWKSet found through discovery. Tokens of
// each kind of user are accepted; expired, revoked and foreign ones refused.

const PASSWORD = 'correct horse battery staple'
const CLIENT = 'orders-page'
const REDIRECT = 'https://orders.example/signed-in'
const PAGE_ORIGIN = 'https://orders.example'
const RS = { id: 'orders-api', secret: 'orders-api-introspection-secret-0123456789' }

let dir: string
let op: TestOidcProvider
let app: FastifyInstance
let backendUrl: string
let api: Awaited<ReturnType<typeof startProtectedApi>>
let close: () => Promise<void>

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wire-auth-api-'))
  const backend = await listenOnFreePort()
  backendUrl = backend.url
  op = await startOidcProvider({ redirectUris: [`${backendUrl}/auth/demo/callback`] })
  app = Fastify({ logger: false, serverFactory: (handler) => backend.server.on('request', handler) })
  await connectAuth(app, {
    publicUrl: backendUrl,
    allowedOrigins: [PAGE_ORIGIN],
    sqlitePath: join(dir, 'auth.sqlite'),
    localIdp: { clients: [{ clientId: CLIENT, redirectUris: [REDIRECT] }], resourceServers: [RS] },
    providers: [new OidcProvider({ name: 'demo', issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret, allowInsecureRequests: true })],
  })
  await app.ready()
  api = await startProtectedApi({ issuer: backendUrl, introspection: RS })
  close = async () => {
    await api.close()
    await app.close()
    await op.close()
  }
})

afterAll(async () => {
  await close?.()
  rmSync(dir, { recursive: true, force: true })
})

/** The code flow with PKCE for the browser `b` (signed in on the backend). */
async function codeFlow(b: TestBrowser): Promise<{ access_token: string; refresh_token: string }> {
  const verifier = randomBytes(32).toString('base64url')
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  const authorize = new URL(`${backendUrl}/auth/local/authorize`)
  authorize.search = new URLSearchParams({ response_type: 'code', client_id: CLIENT, redirect_uri: REDIRECT, state: 's1', code_challenge: challenge, code_challenge_method: 'S256' }).toString()
  const answer = await b.request(authorize, { redirect: 'manual' })
  expect(answer.status).toBe(303)
  const code = new URL(answer.headers.get('location') as string).searchParams.get('code') as string
  const token = await fetch(`${backendUrl}/auth/local/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: CLIENT, code_verifier: verifier }),
  })
  expect(token.status).toBe(200)
  return (await token.json()) as { access_token: string; refresh_token: string }
}

const callApi = (token: string) => fetch(`${api.url}/orders`, { headers: { authorization: `Bearer ${token}` } })

describe('a node:http API verifying wire-auth tokens (jose createRemoteJWKSet through discovery)', () => {
  it('accepts a token of a password user (code flow)', async () => {
    const b = new TestBrowser()
    const registered = await b.request(`${backendUrl}/auth/local/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'pat@example.com', password: PASSWORD, name: 'Pat' }) })
    expect(registered.status).toBe(201)
    const { access_token } = await codeFlow(b)
    const answer = await callApi(access_token)
    expect(answer.status).toBe(200)
    expect(await answer.json()).toMatchObject({ name: 'Pat' })
  })

  it('accepts a token of a user who signed in with an OpenID provider (code flow)', async () => {
    const b = new TestBrowser()
    const { callbackUrl } = await driveProviderLogin(b, `${backendUrl}/auth/demo/login`, { login: 'grace' })
    await b.navigate(callbackUrl)
    expect(((await (await b.request(`${backendUrl}/auth/me`)).json()) as { authenticated: boolean }).authenticated).toBe(true)
    const { access_token } = await codeFlow(b)
    const answer = await callApi(access_token)
    expect(answer.status).toBe(200)
    expect(await answer.json()).toMatchObject({ name: 'grace' })
  })

  it('accepts a session token (WireAuth.getToken on a same-site page)', async () => {
    const b = new TestBrowser()
    await b.request(`${backendUrl}/auth/local/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'sam@example.com', password: PASSWORD, name: 'Sam' }) })
    const minted = await b.request(`${backendUrl}/auth/local/session-token`, { method: 'POST', headers: { origin: PAGE_ORIGIN } })
    expect(minted.status).toBe(200)
    const answer = await callApi(((await minted.json()) as { access_token: string }).access_token)
    expect(answer.status).toBe(200)
    expect(await answer.json()).toMatchObject({ name: 'Sam' })
  })

  it('refuses a revoked token, an expired one, a foreign one, and none', async () => {
    const b = new TestBrowser()
    await b.request(`${backendUrl}/auth/local/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'rev@example.com', password: PASSWORD, name: 'Rev' }) })
    const { access_token } = await codeFlow(b)
    expect((await callApi(access_token)).status).toBe(200)
    await fetch(`${backendUrl}/auth/local/revoke`, { method: 'POST', body: new URLSearchParams({ token: access_token }) })
    expect((await callApi(access_token)).status, 'revoked').toBe(401)

    // Expired: signed with the backend's own key, every claim right, exp an hour ago.
    const [key] = await app.authStore.listSigningKeys()
    const claims = JSON.parse(Buffer.from(access_token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>
    const past = Math.floor(Date.now() / 1000) - 3600
    const expired = await new SignJWT({ ...claims, iat: past - 600, nbf: past - 600, exp: past })
      .setProtectedHeader({ alg: key!.alg, kid: key!.kid, typ: 'at+jwt' })
      .sign(await importJWK(key!.privateJwk as JWK, key!.alg))
    expect((await callApi(expired)).status, 'expired').toBe(401)

    // Foreign: the same claims and kid, signed by a key that is not wire-auth's.
    const other = await generateKeyPair('EdDSA')
    const foreign = await new SignJWT({ ...claims, jti: 'foreign' }).setProtectedHeader({ alg: 'EdDSA', kid: key!.kid, typ: 'at+jwt' }).sign(other.privateKey)
    expect((await callApi(foreign)).status, 'foreign').toBe(401)
    expect((await fetch(`${api.url}/orders`)).status, 'no token').toBe(401)
  })
})
