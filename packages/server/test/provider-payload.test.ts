import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ClaimsPrincipal } from '@wire-auth/core'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { html } from '@wire-auth/core'
import { connectAuth, OidcProvider } from '../src/index.js'
import { driveProviderLogin, TestBrowser } from '../../../test/support/oidc-provider-browser.mjs'
import { listenOnFreePort, startOidcProvider, type TestOidcProvider } from '../../../test/support/oidc-provider.mjs'

// Issue 16: the provider's raw payload (ID-token and userinfo claims of the
// last sign-in, secrets excluded) is on the principal for policies and
// fragments (`user.raw.provider`), never sent to the browser.

type ProviderRaw = { name: string; issuer: string; subject: string; claims: Record<string, unknown> }
const providerOf = (user: ClaimsPrincipal) => user.raw.provider as ProviderRaw | undefined

let dir: string
let op: TestOidcProvider
let app: FastifyInstance
let backendUrl: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wire-auth-payload-'))
  const backend = await listenOnFreePort()
  backendUrl = backend.url
  op = await startOidcProvider({ redirectUris: [`${backendUrl}/auth/demo/callback`], accounts: { grace: { name: 'Grace Hopper', given_name: 'Grace', locale: 'en-US', email: 'grace@example.test', email_verified: true } } })
  app = Fastify({ logger: false, serverFactory: (handler) => backend.server.on('request', handler) })
  await connectAuth(app, {
    publicUrl: backendUrl,
    sqlitePath: join(dir, 'auth.sqlite'),
    localIdp: true,
    providers: [new OidcProvider({ name: 'demo', issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret, allowInsecureRequests: true })],
    policies: {
      // A policy on a provider claim that is not mapped to a wire-auth claim.
      UsLocale: (user) => providerOf(user)?.claims.locale === 'en-US',
    },
  })
  app.get('/test/payload', { config: { wireAuth: 'guarded' }, preHandler: app.requirePolicy('UsLocale') }, async (request) => providerOf(request.user))
  app.fragment('greeting', { policy: 'UsLocale' }, ({ user }) => html`<p>Hi ${String(providerOf(user)?.claims.given_name)}</p>`)
  await app.ready()
})

afterAll(async () => {
  await app?.close()
  await op?.close()
  rmSync(dir, { recursive: true, force: true })
})

async function oidcSignIn(login: string): Promise<TestBrowser> {
  const b = new TestBrowser()
  const { callbackUrl } = await driveProviderLogin(b, `${backendUrl}/auth/demo/login`, { login })
  await b.navigate(callbackUrl)
  return b
}

describe('the provider payload on the principal', () => {
  it('a policy and a fragment read the provider claims of the sign-in; secrets and plumbing are left out', async () => {
    const b = await oidcSignIn('grace')
    const answer = await b.request(`${backendUrl}/test/payload`)
    expect(answer.status).toBe(200)
    const payload = (await answer.json()) as ProviderRaw
    expect(payload).toMatchObject({ name: 'demo', issuer: op.issuer, subject: 'grace', claims: { sub: 'grace', given_name: 'Grace', locale: 'en-US', email_verified: true } })
    for (const left of ['nonce', 'at_hash', 'c_hash']) expect(payload.claims).not.toHaveProperty(left)
    expect(JSON.stringify(payload)).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./) // no JWT (ID token, access token) anywhere

    const fragment = await b.request(`${backendUrl}/auth/fragments/greeting`)
    expect(await fragment.text()).toContain('Hi Grace')
  })

  it('never reaches the browser: /auth/me carries none of it', async () => {
    const b = await oidcSignIn('grace')
    const me = await (await b.request(`${backendUrl}/auth/me`)).text()
    expect(me).toContain('Grace Hopper')
    expect(me).not.toContain('en-US')
    expect(me).not.toContain(op.issuer)
  })

  it('a password user has no provider payload: the policy denies', async () => {
    const b = new TestBrowser()
    const registered = await b.request(`${backendUrl}/auth/local/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'pat@example.com', password: 'correct horse battery staple', name: 'Pat' }) })
    expect(registered.status).toBe(201)
    expect((await b.request(`${backendUrl}/test/payload`)).status).toBe(403)
  })
})
