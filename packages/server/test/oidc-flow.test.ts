// Provider logins end to end over real HTTP: a wire-auth backend on
// 127.0.0.1 and oidc-provider (the certified OpenID provider) on loopback,
// driven with fetch, a browser-like cookie jar and the provider's forms.
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { connectAuth, OidcProvider } from '../src/index.js'
import { createCookieSealer } from '../src/lib/cookie-sealer.js'
import { CookieJar, driveProviderLogin, TestBrowser } from '../../../test/support/oidc-provider-browser.mjs'
import { listenOnFreePort, startOidcProvider, type TestOidcProvider } from '../../../test/support/oidc-provider.mjs'
import { tempDir } from './support/app.js'

const SECRET = randomBytes(32).toString('base64url')
const sealer = createCookieSealer(Buffer.from(SECRET, 'utf8'), 'oidc-login-state')
const ALLOWED_ORIGIN = 'http://www.example.test'

let dir: ReturnType<typeof tempDir>
let backendUrl: string
let app: FastifyInstance
let op: TestOidcProvider
let second: TestOidcProvider
let impostor: Server
let db: Database.Database

beforeAll(async () => {
  dir = tempDir('wire-auth-oidc-')
  const backend = await listenOnFreePort()
  backendUrl = backend.url
  const callback = (name: string) => `${backendUrl}/auth/${name}/callback`
  op = await startOidcProvider({
    redirectUris: [callback('demo'), callback('friendly')],
    accounts: { alice: { email: 'Alice@Example.test', email_verified: true, name: 'Alice Liddell' } },
  })
  second = await startOidcProvider({ clientId: 'second-client', clientSecret: 'second-secret', redirectUris: [callback('second')] })

  // A closed port: the provider is down.
  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const downUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
  await new Promise((resolve) => closed.close(resolve))

  // Serves the real provider's metadata under another issuer URL.
  const metadata = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()
  impostor = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(metadata))
  })
  await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve))
  const impostorUrl = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`

  const demoLike = (name: string, extra: Partial<ConstructorParameters<typeof OidcProvider>[0]> = {}) =>
    new OidcProvider({ name, issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret, allowInsecureRequests: true, ...extra })

  app = Fastify({ logger: false, serverFactory: (handler) => backend.server.on('request', handler) })
  await connectAuth(app, {
    publicUrl: backendUrl,
    allowedOrigins: [ALLOWED_ORIGIN],
    sqlitePath: join(dir.dir, 'auth.sqlite'),
    secret: SECRET,
    localIdp: true,
    providers: [
      demoLike('demo', { displayName: 'Demo OpenID' }),
      new OidcProvider({ name: 'second', issuer: second.issuer, clientId: 'second-client', clientSecret: 'second-secret', allowInsecureRequests: true }),
      new OidcProvider({ name: 'down', issuer: downUrl, clientId: 'c', clientSecret: 's', allowInsecureRequests: true, timeoutMs: 2000 }),
      new OidcProvider({ name: 'impostor', issuer: impostorUrl, clientId: op.clientId, clientSecret: op.clientSecret, allowInsecureRequests: true }),
      demoLike('friendly', { errorRedirect: '/login-error?from=oidc' }),
    ],
  })
  await app.ready()
  db = new Database(join(dir.dir, 'auth.sqlite'), { readonly: true, fileMustExist: true })
})

afterAll(async () => {
  db?.close()
  await app?.close()
  await op?.close()
  await second?.close()
  await new Promise((resolve) => impostor?.close(resolve))
  dir?.cleanup()
})

afterEach(() => {
  vi.useRealTimers()
})

/** Rows that a login writes. */
function counts() {
  const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n
  return { users: count('users'), claims: count('user_claims'), identities: count('identities'), sessions: count('sessions') }
}

async function json(response: Response) {
  return (await response.json()) as { error?: { code: string; message: string } } & Record<string, unknown>
}

/** Starts a login in `browser` and drives the provider up to the callback (unfetched). */
async function loginUpToCallback(browser: TestBrowser, provider = 'demo', login = 'alice', returnTo?: string) {
  const start = new URL(`${backendUrl}/auth/${provider}/login`)
  if (returnTo !== undefined) start.searchParams.set('returnTo', returnTo)
  return driveProviderLogin(browser, start, { login })
}

async function me(browser: TestBrowser) {
  return json(await browser.request(`${backendUrl}/auth/me`))
}

/** Re-seals the login cookie of `jar` with `change` applied to its payload (only possible with the secret). */
async function forgeLoginCookie(jar: CookieJar, name: string, change: (payload: Record<string, unknown>) => void) {
  const value = jar.get(name)
  if (value === undefined) throw new Error(`no ${name} cookie`)
  const payload = await sealer.open(value)
  if (payload === null) throw new Error('cookie did not decrypt')
  const data = JSON.parse(payload)
  change(data)
  return sealer.seal(JSON.stringify(data))
}

describe('GET /auth/providers', () => {
  it('lists every configured provider with its display name and absolute login URL', async () => {
    const response = await fetch(`${backendUrl}/auth/providers`)
    expect(response.status).toBe(200)
    const body = await json(response)
    expect(body.providers).toContainEqual({ name: 'demo', displayName: 'Demo OpenID', loginUrl: `${backendUrl}/auth/demo/login` })
    expect((body.providers as Array<{ name: string }>).map((p) => p.name)).toEqual(['demo', 'second', 'down', 'impostor', 'friendly'])
    expect(app.authProviders.map((p) => p.name)).toContain('demo')
  })

  it('an unknown provider answers 404 ERR_PROVIDER_NOT_FOUND on login and callback', async () => {
    for (const path of ['/auth/nope/login', '/auth/nope/callback?code=x&state=y']) {
      const response = await fetch(`${backendUrl}${path}`, { redirect: 'manual' })
      expect(response.status).toBe(404)
      expect((await json(response)).error?.code).toBe('ERR_PROVIDER_NOT_FOUND')
    }
  })
})

describe('a full login through the provider', () => {
  it('creates the user on first login, links (issuer, subject), starts a session and returns to returnTo', async () => {
    const before = counts()
    const browser = new TestBrowser()

    const login = await browser.request(`${backendUrl}/auth/demo/login?returnTo=${encodeURIComponent('/account?tab=1')}`)
    expect(login.status).toBe(302)
    expect(login.headers.get('location')).toMatch(new RegExp(`^${op.issuer}/auth\\?`))
    const stateCookie = login.headers.getSetCookie().find((c) => c.startsWith('wa_oidc_demo='))
    expect(stateCookie).toMatch(/HttpOnly/i)
    expect(stateCookie).toMatch(/SameSite=Lax/i)
    expect(stateCookie).toMatch(/Path=\/auth\/demo\/callback/)
    expect(stateCookie).toMatch(/Max-Age=600/)

    const { callbackUrl, forms } = await driveProviderLogin(browser, login.headers.get('location')!, { login: 'alice' })
    expect(forms).toEqual(['login', 'consent'])
    const landing = await browser.request(callbackUrl)
    expect(landing.status).toBe(302)
    expect(landing.headers.get('location')).toBe('/account?tab=1')
    expect(browser.jar.get('wa_oidc_demo')).toBeUndefined()
    expect(browser.jar.get('wa_sid')).toBeDefined()

    const principal = await me(browser)
    expect(principal).toMatchObject({ authenticated: true, name: 'Alice Liddell' })
    const userId = principal.id as string
    expect(await app.authStore.findIdentity(op.issuer, 'alice')).toBe(userId)
    const user = await app.authStore.getUser(userId)
    expect(user).toMatchObject({ email: 'alice@example.test', name: 'Alice Liddell', passwordHash: null })
    expect(user!.claims).toEqual(
      expect.arrayContaining([
        // Canonical like a local account's e-mail, with the issuer that asserted it (C11).
        { type: 'email', value: 'alice@example.test' },
        { type: 'email_verified', value: 'true' },
        { type: 'name', value: 'Alice Liddell' },
        { type: 'iss', value: op.issuer },
      ]),
    )
    const after = counts()
    expect(after.users).toBe(before.users + 1)
    expect(after.identities).toBe(before.identities + 1)
    expect(after.sessions).toBe(before.sessions + 1)
    const audit = await app.authStore.listAudit({ userId, action: 'login.success' })
    expect(audit[0]?.detail).toMatchObject({ method: 'oidc', provider: 'demo', created: true })
  })

  it('a returning user gets the same account, a fresh session, updated provider claims and keeps claims granted through app.auth', async () => {
    const browser = new TestBrowser()
    await browser.request((await loginUpToCallback(browser)).callbackUrl)
    const first = await me(browser)
    const userId = first.id as string
    const firstSession = browser.jar.get('wa_sid')!

    await app.auth.grantTo(userId, 'role', 'beta')
    op.setAccount('alice', { email: 'Alice@Example.test', email_verified: true, name: 'Alice Pleasance Liddell' })
    const before = counts()

    // The provider remembers the user and the consent: no forms the second time.
    const again = await loginUpToCallback(browser)
    expect(again.forms).toEqual([])
    const landing = await browser.request(again.callbackUrl)
    expect(landing.status).toBe(302)
    expect(landing.headers.get('location')).toBe('/')

    const second = await me(browser)
    expect(second.id).toBe(userId)
    expect(browser.jar.get('wa_sid')).not.toBe(firstSession)
    const stale = await fetch(`${backendUrl}/auth/me`, { headers: { cookie: `wa_sid=${firstSession}` } })
    expect((await json(stale)).authenticated).toBe(false)

    const user = await app.authStore.getUser(userId)
    expect(user!.claims).toContainEqual({ type: 'role', value: 'beta' })
    expect(user!.claims).toContainEqual({ type: 'name', value: 'Alice Pleasance Liddell' })
    expect(user!.claims.filter((c) => c.type === 'name')).toHaveLength(1)
    const after = counts()
    expect(after.users).toBe(before.users)
    expect(after.identities).toBe(before.identities)
    op.setAccount('alice', { email: 'Alice@Example.test', email_verified: true, name: 'Alice Liddell' })
  })

  it('a planted pre-login session id stops working after the login', async () => {
    const victim = new TestBrowser()
    await victim.request((await loginUpToCallback(victim)).callbackUrl)
    const planted = victim.jar.get('wa_sid')!
    const browser = new TestBrowser()
    browser.jar.set('wa_sid', planted)
    await browser.request((await loginUpToCallback(browser)).callbackUrl)
    expect(browser.jar.get('wa_sid')).not.toBe(planted)
    const old = await fetch(`${backendUrl}/auth/me`, { headers: { cookie: `wa_sid=${planted}` } })
    expect((await json(old)).authenticated).toBe(false)
  })
})

describe('GET /auth/account/identities', () => {
  it('lists the caller\'s linked providers (name, display name, issuer, when) and never the subject, and whether the account has a password; anonymous is 401', async () => {
    const anonymous = await fetch(`${backendUrl}/auth/account/identities`)
    expect(anonymous.status).toBe(401)
    expect((await json(anonymous)).error?.code).toBe('ERR_UNAUTHENTICATED')

    const browser = new TestBrowser()
    const { callbackUrl } = await loginUpToCallback(browser, 'second', 'heidi')
    expect((await browser.request(callbackUrl)).status).toBe(302)
    const userId = (await me(browser)).id as string
    const response = await browser.request(`${backendUrl}/auth/account/identities`)
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    const body = await json(response)
    expect(body).toEqual({ identities: [{ provider: 'second', displayName: 'second', issuer: second.issuer, linkedAt: expect.any(Number) }], hasPassword: false })
    expect(JSON.stringify(body)).not.toContain('heidi')

    // A local account with no provider identity has none.
    const local = new TestBrowser()
    const registered = await local.request(`${backendUrl}/auth/local/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ivan@example.test', password: 'a long and unusual passphrase' }),
    })
    expect(registered.status).toBe(201)
    expect(await json(await local.request(`${backendUrl}/auth/account/identities`))).toEqual({ identities: [], hasPassword: true })
    expect((await app.authStore.listIdentities(userId)).map((i) => i.subject)).toEqual(['heidi'])
  })
})

describe('returnTo', () => {
  const unsafe = [
    '//evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    'https://evil.example',
    'https://evil.example/account',
    'http://www.example.test.evil.example/',
    'https://www.example.test@evil.example/',
    'javascript:alert(1)',
    '%2F%2Fevil.example',
    '/%2F%2Fevil.example',
    '/%5Cevil.example',
    '/%252F%252Fevil.example',
    '/..%2F..%2F%2Fevil.example',
    ' //evil.example',
    '/\t/evil.example',
    'https:evil.example',
  ]

  it.each(unsafe)('refuses %j and lands on "/" instead', async (returnTo) => {
    const browser = new TestBrowser()
    const { callbackUrl } = await loginUpToCallback(browser, 'demo', 'alice', returnTo)
    const landing = await browser.request(callbackUrl)
    expect(landing.status).toBe(302)
    expect(landing.headers.get('location')).toBe('/')
  })

  it('follows an absolute URL on an allowed origin', async () => {
    const browser = new TestBrowser()
    const { callbackUrl } = await loginUpToCallback(browser, 'demo', 'alice', `${ALLOWED_ORIGIN}/welcome?x=1`)
    const landing = await browser.request(callbackUrl)
    expect(landing.headers.get('location')).toBe(`${ALLOWED_ORIGIN}/welcome?x=1`)
  })
})

describe('refused callbacks write nothing to the store', () => {
  async function expectRefused(response: Response, status: number, code: string, before: ReturnType<typeof counts>) {
    const body = await json(response)
    expect({ status: response.status, code: body.error?.code }).toEqual({ status, code })
    expect(counts()).toEqual(before)
  }

  it('a callback without the login cookie (another browser) → ERR_OIDC_STATE_MISMATCH', async () => {
    const browser = new TestBrowser()
    const { callbackUrl } = await loginUpToCallback(browser, 'demo', 'eve-missing')
    const before = counts()
    await expectRefused(await new TestBrowser().request(callbackUrl), 400, 'ERR_OIDC_STATE_MISMATCH', before)
  })

  it('a callback whose state differs, is missing or is repeated → ERR_OIDC_STATE_MISMATCH', async () => {
    for (const mutate of [
      (u: URL) => u.searchParams.set('state', 'not-the-state'),
      (u: URL) => u.searchParams.delete('state'),
      (u: URL) => u.searchParams.append('state', u.searchParams.get('state')!),
    ]) {
      const browser = new TestBrowser()
      const { callbackUrl } = await loginUpToCallback(browser, 'demo', 'eve-state')
      const url = new URL(callbackUrl)
      mutate(url)
      const before = counts()
      await expectRefused(await browser.request(url), 400, 'ERR_OIDC_STATE_MISMATCH', before)
    }
  })

  it('a login cookie of another provider is refused (bound to its provider)', async () => {
    const browser = new TestBrowser()
    const { callbackUrl } = await loginUpToCallback(browser, 'demo', 'eve-bound')
    // Start a login with "friendly" (same issuer, other name) and present its cookie to demo's callback.
    const other = await browser.request(`${backendUrl}/auth/friendly/login`)
    await other.arrayBuffer()
    const friendlyCookie = browser.jar.get('wa_oidc_friendly')!
    const before = counts()
    const response = await fetch(callbackUrl, { headers: { cookie: `wa_oidc_demo=${friendlyCookie}` } })
    await expectRefused(response, 400, 'ERR_OIDC_STATE_MISMATCH', before)
  })

  it('an expired login cookie → ERR_OIDC_STATE_MISMATCH', async () => {
    const browser = new TestBrowser()
    const { callbackUrl } = await loginUpToCallback(browser, 'demo', 'eve-late')
    const cookie = browser.jar.get('wa_oidc_demo')!
    const before = counts()
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 11 * 60 * 1000)
    const response = await fetch(callbackUrl, { headers: { cookie: `wa_oidc_demo=${cookie}` } })
    vi.useRealTimers()
    await expectRefused(response, 400, 'ERR_OIDC_STATE_MISMATCH', before)
  })

  it('a code verifier edited in the cookie breaks its authentication tag → ERR_OIDC_STATE_MISMATCH', async () => {
    const browser = new TestBrowser()
    const { callbackUrl } = await loginUpToCallback(browser, 'demo', 'eve-pkce')
    const value = browser.jar.get('wa_oidc_demo')!
    // The payload is encrypted: flip ciphertext bits where the verifier may be.
    const parts = value.split('.')
    const ciphertext = Buffer.from(parts[3]!, 'base64url')
    for (let i = 0; i < ciphertext.length; i += 7) ciphertext[i] ^= 0x20
    browser.jar.set('wa_oidc_demo', [...parts.slice(0, 3), ciphertext.toString('base64url'), parts[4]].join('.'), { path: '/auth/demo/callback' })
    const before = counts()
    await expectRefused(await browser.request(callbackUrl), 400, 'ERR_OIDC_STATE_MISMATCH', before)
  })

  it('a validly sealed cookie with another code verifier → the provider refuses PKCE → ERR_OIDC_CALLBACK_FAILED', async () => {
    const browser = new TestBrowser()
    const { callbackUrl } = await loginUpToCallback(browser, 'demo', 'eve-pkce2')
    const forged = await forgeLoginCookie(browser.jar, 'wa_oidc_demo', (d) => {
      d.v = randomBytes(32).toString('base64url')
    })
    const before = counts()
    const response = await fetch(callbackUrl, { headers: { cookie: `wa_oidc_demo=${forged}` } })
    await expectRefused(response, 400, 'ERR_OIDC_CALLBACK_FAILED', before)
  })

  it('an ID token whose nonce is not the one in the cookie → ERR_OIDC_CALLBACK_FAILED, audited as login.failure', async () => {
    const browser = new TestBrowser()
    const { callbackUrl } = await loginUpToCallback(browser, 'demo', 'eve-nonce')
    const forged = await forgeLoginCookie(browser.jar, 'wa_oidc_demo', (d) => {
      d.n = 'another-nonce'
    })
    const before = counts()
    const response = await fetch(callbackUrl, { headers: { cookie: `wa_oidc_demo=${forged}` } })
    await expectRefused(response, 400, 'ERR_OIDC_CALLBACK_FAILED', before)
    const failures = await app.authStore.listAudit({ action: 'login.failure' })
    expect(failures.some((f) => f.detail.provider === 'demo' && f.detail.code === 'ERR_OIDC_CALLBACK_FAILED')).toBe(true)
  })

  it('a replayed authorization code (with the original login cookie) → ERR_OIDC_CALLBACK_FAILED', async () => {
    const browser = new TestBrowser()
    const { callbackUrl } = await loginUpToCallback(browser, 'demo', 'replayed')
    const saved = browser.jar.clone()
    expect((await browser.request(callbackUrl)).status).toBe(302)
    const before = counts()
    await expectRefused(await new TestBrowser(saved).request(callbackUrl), 400, 'ERR_OIDC_CALLBACK_FAILED', before)
    // Without the saved cookie the single-use login cookie is already gone.
    await expectRefused(await browser.request(callbackUrl), 400, 'ERR_OIDC_STATE_MISMATCH', before)
  })

  it('an iss parameter naming another issuer → ERR_OIDC_CALLBACK_FAILED', async () => {
    const browser = new TestBrowser()
    const { callbackUrl } = await loginUpToCallback(browser, 'demo', 'eve-iss')
    const url = new URL(callbackUrl)
    url.searchParams.set('iss', 'https://evil.example')
    const before = counts()
    await expectRefused(await browser.request(url), 400, 'ERR_OIDC_CALLBACK_FAILED', before)
  })

  it('a user who cancels at the provider (access_denied) → ERR_OIDC_CALLBACK_FAILED', async () => {
    const browser = new TestBrowser()
    const step = await browser.navigate(`${backendUrl}/auth/demo/login`)
    expect(step.url).toMatch(/\/interaction\/[^/]+$/)
    await step.response!.arrayBuffer()
    const aborted = await browser.navigate(`${step.url}/abort`, { stopAt: (u) => u.pathname.endsWith('/callback') })
    expect(new URL(aborted.next!).searchParams.get('error')).toBe('access_denied')
    const before = counts()
    await expectRefused(await browser.request(aborted.next!), 400, 'ERR_OIDC_CALLBACK_FAILED', before)
  })

  it('a new identity whose verified e-mail belongs to another account → 409 ERR_ACCOUNT_EXISTS (never linked by e-mail)', async () => {
    await app.authStore.createUser({ email: 'carol@example.test', name: 'Carol (local)', passwordHash: null })
    const browser = new TestBrowser()
    const { callbackUrl } = await loginUpToCallback(browser, 'demo', 'carol')
    const before = counts()
    await expectRefused(await browser.request(callbackUrl), 409, 'ERR_ACCOUNT_EXISTS', before)
  })

  it('the same subject and e-mail at another issuer is another identity, not linked to the first', async () => {
    const first = new TestBrowser()
    await first.request((await loginUpToCallback(first, 'demo', 'frank')).callbackUrl)
    const frankAtDemo = (await me(first)).id
    const browser = new TestBrowser()
    const { callbackUrl } = await loginUpToCallback(browser, 'second', 'frank')
    const before = counts()
    // frank@example.test (verified) is taken by demo's frank: refused, not merged.
    await expectRefused(await browser.request(callbackUrl), 409, 'ERR_ACCOUNT_EXISTS', before)
    expect(await app.authStore.findIdentity(second.issuer, 'frank')).toBeNull()
    expect(await app.authStore.findIdentity(op.issuer, 'frank')).toBe(frankAtDemo)
  })
})

describe('login errors as a redirect (errorRedirect)', () => {
  it('sends the browser to errorRedirect with the error code', async () => {
    const response = await fetch(`${backendUrl}/auth/friendly/callback?code=x&state=y`, { redirect: 'manual' })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/login-error?from=oidc&error=ERR_OIDC_STATE_MISMATCH')
  })
})

describe('a provider that is down or misbehaving affects only itself', () => {
  it('a provider on a closed port answers 502 ERR_PROVIDER_UNAVAILABLE and sets no cookie', async () => {
    const response = await fetch(`${backendUrl}/auth/down/login`, { redirect: 'manual' })
    expect(response.status).toBe(502)
    expect((await json(response)).error?.code).toBe('ERR_PROVIDER_UNAVAILABLE')
    expect(response.headers.getSetCookie().some((c) => c.startsWith('wa_oidc_'))).toBe(false)
  })

  it('an issuer whose discovery document names another issuer answers 502 ERR_PROVIDER_UNAVAILABLE', async () => {
    const response = await fetch(`${backendUrl}/auth/impostor/login`, { redirect: 'manual' })
    expect(response.status).toBe(502)
    expect((await json(response)).error?.code).toBe('ERR_PROVIDER_UNAVAILABLE')
  })

  it('meanwhile another provider and the local IdP keep working', async () => {
    expect((await fetch(`${backendUrl}/auth/down/login`, { redirect: 'manual' })).status).toBe(502)

    const browser = new TestBrowser()
    const { callbackUrl } = await loginUpToCallback(browser, 'second', 'grace')
    const landing = await browser.request(callbackUrl)
    expect(landing.status).toBe(302)
    expect(await me(browser)).toMatchObject({ authenticated: true, name: 'grace' })
    expect(await app.authStore.findIdentity(second.issuer, 'grace')).not.toBeNull()

    const credentials = { email: 'local-user@example.test', password: 'a long enough passphrase 42' }
    const register = await fetch(`${backendUrl}/auth/local/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: backendUrl },
      body: JSON.stringify(credentials),
    })
    expect(register.status).toBe(201)
    const login = await fetch(`${backendUrl}/auth/local/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: backendUrl },
      body: JSON.stringify(credentials),
    })
    expect(login.status).toBe(200)

    expect((await fetch(`${backendUrl}/auth/down/login`, { redirect: 'manual' })).status).toBe(502)
  })
})
