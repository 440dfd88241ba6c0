// OidcProvider against a real oidc-provider on loopback: discovery, the
// authorization URL, and completing logins (and refusing bad ones) without
// the Fastify plugin in between.
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GoogleProvider, OidcProvider, type PendingAuthorization } from '../src/index.js'
import { driveProviderLogin, TestBrowser } from '../../../test/support/oidc-provider-browser.mjs'
import { startOidcProvider, type TestOidcProvider } from '../../../test/support/oidc-provider.mjs'

const REDIRECT_URI = 'http://127.0.0.1:9/auth/demo/callback'
const isCallback = (url: URL) => url.href.startsWith(REDIRECT_URI)

let op: TestOidcProvider
let opUserinfoOnly: TestOidcProvider

beforeAll(async () => {
  op = await startOidcProvider({
    redirectUris: [REDIRECT_URI],
    accounts: { alice: { email: 'Alice@Example.test', email_verified: true, name: 'Alice Liddell' } },
  })
  opUserinfoOnly = await startOidcProvider({ redirectUris: [REDIRECT_URI], idTokenClaims: false })
})

afterAll(async () => {
  await op?.close()
  await opUserinfoOnly?.close()
})

function demo(overrides: Partial<ConstructorParameters<typeof OidcProvider>[0]> = {}, server = op) {
  return new OidcProvider({
    name: 'demo',
    issuer: server.issuer,
    clientId: server.clientId,
    clientSecret: server.clientSecret,
    allowInsecureRequests: true,
    ...overrides,
  })
}

/** Runs a login through the provider's forms; returns the callback params. */
async function authorize(provider: OidcProvider, login = 'alice') {
  const pending = await provider.beginLogin(REDIRECT_URI)
  const browser = new TestBrowser()
  const { callbackUrl } = await driveProviderLogin(browser, pending.url, { login, isCallback })
  return { pending, params: new URL(callbackUrl).searchParams, browser }
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('OidcProvider options', () => {
  const base = { name: 'demo', issuer: 'https://idp.example', clientId: 'c', clientSecret: 's' }
  const bad: Array<[string, Record<string, unknown>]> = [
    ['an http issuer without allowInsecureRequests', { issuer: 'http://127.0.0.1:1' }],
    ['an issuer that is not a URL', { issuer: 'idp.example' }],
    ['an issuer with a query', { issuer: 'https://idp.example/?x=1' }],
    ['the reserved name "local"', { name: 'local' }],
    ['a name that is not a URL segment', { name: 'Demo/../x' }],
    ['scopes without openid', { scopes: ['email'] }],
    ['authorizationParams overriding state', { authorizationParams: { state: 'fixed' } }],
    ['authorizationParams overriding redirect_uri', { authorizationParams: { redirect_uri: 'https://evil.example' } }],
    ['a secret-based auth method without a secret', { clientSecret: undefined, tokenEndpointAuthMethod: 'client_secret_post' }],
    ['a non-boolean allowInsecureRequests', { allowInsecureRequests: 'yes' }],
    ['a non-function mapClaims', { mapClaims: { email: 'email' } }],
    ['a zero timeout', { timeoutMs: 0 }],
  ]
  for (const [label, override] of bad) {
    it(`refuses ${label} with ERR_INVALID_OPTION`, () => {
      expect(() => new OidcProvider({ ...base, ...override } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
    })
  }

  it('accepts a public client (PKCE only) and defaults displayName to the name', () => {
    const provider = new OidcProvider({ name: 'pub', issuer: 'https://idp.example', clientId: 'c' })
    expect(provider.displayName).toBe('pub')
    expect(provider.allowInsecureRequests).toBe(false)
  })

  it('GoogleProvider is a preset for accounts.google.com named "google"', () => {
    const google = new GoogleProvider({ clientId: 'id.apps.googleusercontent.com', clientSecret: 'x' })
    expect(google).toBeInstanceOf(OidcProvider)
    expect(google.name).toBe('google')
    expect(google.displayName).toBe('Google')
    expect(google.issuer).toBe('https://accounts.google.com/')
    expect(google.allowInsecureRequests).toBe(false)
    expect(() => new GoogleProvider({ clientId: 'a', clientSecret: 'b', hostedDomain: 'not a domain' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
  })
})

describe('discovery and the authorization request', () => {
  it('builds a code + PKCE S256 + state + nonce request at the discovered authorization endpoint', async () => {
    const provider = demo({ authorizationParams: { prompt: 'login' } })
    const pending = await provider.beginLogin(REDIRECT_URI)
    const { url } = pending
    expect(url.origin).toBe(op.issuer)
    expect(url.pathname).toBe('/auth')
    const q = url.searchParams
    expect(q.get('client_id')).toBe(op.clientId)
    expect(q.get('redirect_uri')).toBe(REDIRECT_URI)
    expect(q.get('response_type')).toBe('code')
    expect(q.get('scope')).toBe('openid email profile')
    expect(q.get('code_challenge_method')).toBe('S256')
    expect(q.get('code_challenge')).toBe(createHash('sha256').update(pending.codeVerifier).digest('base64url'))
    expect(q.get('state')).toBe(pending.state)
    expect(q.get('nonce')).toBe(pending.nonce)
    expect(q.get('prompt')).toBe('login')
    expect(q.has('code_verifier')).toBe(false)
  })

  it('draws fresh state, nonce and verifier for every login', async () => {
    const provider = demo()
    const a = await provider.beginLogin(REDIRECT_URI)
    const b = await provider.beginLogin(REDIRECT_URI)
    expect(a.state).not.toBe(b.state)
    expect(a.nonce).not.toBe(b.nonce)
    expect(a.codeVerifier).not.toBe(b.codeVerifier)
  })

  it('a provider on a closed port fails with ERR_PROVIDER_UNAVAILABLE (502)', async () => {
    const closed = createServer()
    const url = await listen(closed)
    await new Promise((resolve) => closed.close(resolve))
    const provider = new OidcProvider({ name: 'down', issuer: url, clientId: 'c', clientSecret: 's', allowInsecureRequests: true, timeoutMs: 2000 })
    await expect(provider.beginLogin(REDIRECT_URI)).rejects.toMatchObject({ code: 'ERR_PROVIDER_UNAVAILABLE', statusCode: 502 })
  })

  it('an issuer whose discovery document names another issuer is refused (ERR_PROVIDER_UNAVAILABLE)', async () => {
    // Serves the real provider's metadata, so everything but `issuer` is consistent.
    const metadata = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()
    const impostor = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(metadata))
    })
    const url = await listen(impostor)
    try {
      const provider = new OidcProvider({ name: 'impostor', issuer: url, clientId: op.clientId, clientSecret: op.clientSecret, allowInsecureRequests: true })
      const err = await provider.beginLogin(REDIRECT_URI).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'ERR_PROVIDER_UNAVAILABLE', statusCode: 502 })
      expect((err as Error).cause).toMatchObject({ code: 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' })
    } finally {
      await new Promise((resolve) => impostor.close(resolve))
    }
  })

  it('a failed discovery is replayed briefly, then retried', async () => {
    let hits = 0
    const broken = createServer((_req, res) => {
      hits++
      res.writeHead(500, { 'content-type': 'text/plain' })
      res.end('down for maintenance')
    })
    const url = await listen(broken)
    try {
      const cached = new OidcProvider({ name: 'broken', issuer: url, clientId: 'c', clientSecret: 's', allowInsecureRequests: true, retryAfterMs: 60_000 })
      await expect(cached.beginLogin(REDIRECT_URI)).rejects.toMatchObject({ code: 'ERR_PROVIDER_UNAVAILABLE' })
      await expect(cached.beginLogin(REDIRECT_URI)).rejects.toMatchObject({ code: 'ERR_PROVIDER_UNAVAILABLE' })
      expect(hits).toBe(1)

      const retrying = new OidcProvider({ name: 'broken', issuer: url, clientId: 'c', clientSecret: 's', allowInsecureRequests: true, retryAfterMs: 1 })
      await expect(retrying.beginLogin(REDIRECT_URI)).rejects.toMatchObject({ code: 'ERR_PROVIDER_UNAVAILABLE' })
      await new Promise((resolve) => setTimeout(resolve, 20))
      await expect(retrying.beginLogin(REDIRECT_URI)).rejects.toMatchObject({ code: 'ERR_PROVIDER_UNAVAILABLE' })
      expect(hits).toBe(3)
    } finally {
      await new Promise((resolve) => broken.close(resolve))
    }
  })

  it('concurrent first logins share one discovery request', async () => {
    let hits = 0
    const metadata = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()
    const counting = createServer((_req, res) => {
      hits++
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ ...metadata, issuer: `http://127.0.0.1:${(counting.address() as AddressInfo).port}` }))
    })
    const url = await listen(counting)
    try {
      const provider = new OidcProvider({ name: 'shared', issuer: url, clientId: 'c', clientSecret: 's', allowInsecureRequests: true })
      await Promise.all([provider.beginLogin(REDIRECT_URI), provider.beginLogin(REDIRECT_URI), provider.beginLogin(REDIRECT_URI)])
      await provider.beginLogin(REDIRECT_URI)
      expect(hits).toBe(1)
    } finally {
      await new Promise((resolve) => counting.close(resolve))
    }
  })
})

describe('completing a login', () => {
  it('redeems the code and returns the validated identity (ID token claims)', async () => {
    const provider = demo()
    const { pending, params } = await authorize(provider)
    const identity = await provider.completeLogin(REDIRECT_URI, params, pending)
    expect(identity.issuer).toBe(op.issuer)
    expect(identity.subject).toBe('alice')
    expect(identity.claims).toMatchObject({ email: 'Alice@Example.test', email_verified: true, name: 'Alice Liddell', aud: op.clientId })
    expect(provider.mapClaims(identity.claims)).toEqual({
      claims: [
        { type: 'email', value: 'alice@example.test' },
        { type: 'email_verified', value: 'true' },
        { type: 'name', value: 'Alice Liddell' },
        { type: 'iss', value: op.issuer },
      ],
      types: ['email', 'email_verified', 'name', 'iss'],
    })
  })

  it('completes the claims from userinfo when the ID token lacks them', async () => {
    const withUserinfo = demo({}, opUserinfoOnly)
    const first = await authorize(withUserinfo, 'bob')
    const identity = await withUserinfo.completeLogin(REDIRECT_URI, first.params, first.pending)
    expect(identity.claims).toMatchObject({ sub: 'bob', email: 'bob@example.test', name: 'bob' })

    const idTokenOnly = demo({ userInfo: false }, opUserinfoOnly)
    const second = await authorize(idTokenOnly, 'bob')
    const bare = await idTokenOnly.completeLogin(REDIRECT_URI, second.params, second.pending)
    expect(bare.subject).toBe('bob')
    expect(bare.claims.email).toBeUndefined()
  })

  it('works with the helper\'s programmatic login (login: "auto"): no forms, the configured account', async () => {
    const auto = await startOidcProvider({ login: 'auto', autoLogin: 'demo-user', redirectUris: [REDIRECT_URI], accounts: { 'demo-user': { email: 'demo@example.test', email_verified: true, name: 'Demo User' } } })
    try {
      const provider = demo({}, auto)
      const pending = await provider.beginLogin(REDIRECT_URI)
      const { callbackUrl, forms } = await driveProviderLogin(new TestBrowser(), pending.url, { isCallback })
      expect(forms).toEqual([])
      const identity = await provider.completeLogin(REDIRECT_URI, new URL(callbackUrl).searchParams, pending)
      expect(identity).toMatchObject({ issuer: auto.issuer, subject: 'demo-user', claims: { name: 'Demo User', email: 'demo@example.test' } })
    } finally {
      await auto.close()
    }
  })

  it('refuses an ID token whose nonce is not the one sent (ERR_OIDC_CALLBACK_FAILED)', async () => {
    const provider = demo()
    const { pending, params } = await authorize(provider)
    const err = await provider.completeLogin(REDIRECT_URI, params, { ...pending, nonce: 'another-nonce' }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_OIDC_CALLBACK_FAILED', statusCode: 400 })
    expect((err as Error).cause).toBeInstanceOf(Error)
  })

  it('refuses a tampered PKCE code verifier: the provider rejects the code (ERR_OIDC_CALLBACK_FAILED)', async () => {
    const provider = demo()
    const { pending, params } = await authorize(provider)
    const tampered: PendingAuthorization = { ...pending, codeVerifier: `${pending.codeVerifier.slice(0, -1)}${pending.codeVerifier.endsWith('A') ? 'B' : 'A'}` }
    await expect(provider.completeLogin(REDIRECT_URI, params, tampered)).rejects.toMatchObject({ code: 'ERR_OIDC_CALLBACK_FAILED', cause: expect.objectContaining({ error: 'invalid_grant' }) })
  })

  it('refuses a replayed authorization code (ERR_OIDC_CALLBACK_FAILED)', async () => {
    const provider = demo()
    const { pending, params } = await authorize(provider)
    await provider.completeLogin(REDIRECT_URI, params, pending)
    await expect(provider.completeLogin(REDIRECT_URI, params, pending)).rejects.toMatchObject({ code: 'ERR_OIDC_CALLBACK_FAILED', cause: expect.objectContaining({ error: 'invalid_grant' }) })
  })

  it('refuses a response whose iss parameter names another issuer (mix-up)', async () => {
    const provider = demo()
    const { pending, params } = await authorize(provider)
    expect(params.get('iss')).toBe(op.issuer)
    params.set('iss', 'https://evil.example')
    await expect(provider.completeLogin(REDIRECT_URI, params, pending)).rejects.toMatchObject({ code: 'ERR_OIDC_CALLBACK_FAILED' })
  })

  it('refuses a code issued to another client (audience)', async () => {
    const other = await startOidcProvider({
      clients: [
        { clientId: 'client-a', clientSecret: 'secret-a', redirectUris: [REDIRECT_URI] },
        { clientId: 'client-b', clientSecret: 'secret-b', redirectUris: [REDIRECT_URI] },
      ],
    })
    try {
      const a = new OidcProvider({ name: 'a', issuer: other.issuer, clientId: 'client-a', clientSecret: 'secret-a', allowInsecureRequests: true })
      const b = new OidcProvider({ name: 'b', issuer: other.issuer, clientId: 'client-b', clientSecret: 'secret-b', allowInsecureRequests: true })
      const { pending, params } = await authorize(a)
      await expect(b.completeLogin(REDIRECT_URI, params, pending)).rejects.toMatchObject({ code: 'ERR_OIDC_CALLBACK_FAILED' })
    } finally {
      await other.close()
    }
  })

  it('a wrong client secret is a provider-side configuration failure (ERR_PROVIDER_UNAVAILABLE)', async () => {
    const provider = demo({ clientSecret: 'not-the-secret' })
    const { pending, params } = await authorize(provider)
    await expect(provider.completeLogin(REDIRECT_URI, params, pending)).rejects.toMatchObject({ code: 'ERR_PROVIDER_UNAVAILABLE', statusCode: 502 })
  })
})
