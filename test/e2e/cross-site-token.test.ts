import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { connectAuth, html, OidcProvider } from '@wire-auth/server'
import { listenOnFreePort, startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.mjs'

// Issue 16: a page on another SITE than the backend (127.0.0.1 vs localhost),
// in a Chromium that blocks third-party cookies, gets live regions for a user
// who signs in with an OpenID provider: the element runs the authorization
// code flow with PKCE in a popup and presents the token on the socket.

let dir: string
let op: TestOidcProvider
let app: FastifyInstance
let pages: Server
let backendUrl: string
let pageOrigin: string
let browser: Browser

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wire-auth-cross-site-'))
  const backend = await listenOnFreePort()
  // The backend on "localhost", the page on "127.0.0.1": two sites.
  backendUrl = backend.url.replace('127.0.0.1', 'localhost')
  pages = createServer((request, response) => {
    const bundle = `${backendUrl}/wire-auth.js`
    response.setHeader('content-type', 'text/html; charset=utf-8')
    if (request.url?.startsWith('/callback.html')) {
      // In a popup it hands the answer back and closes; after a redirect it finishes here and shows the region.
      response.end(`<!doctype html><title>signed in</title><script type="module">
        import { WireAuth } from ${JSON.stringify(bundle)}
        window.WireAuth = WireAuth
        WireAuth.completeSignIn().catch((err) => { document.body.dataset.error = err.code })
      </script>
      <wire-auth-region fragment="profile"><p slot="else" id="anonymous">anonymous</p></wire-auth-region>`)
      return
    }
    response.end(`<!doctype html><title>partner</title>
      <script type="module">
        import { WireAuth } from ${JSON.stringify(bundle)}
        window.WireAuth = WireAuth
        document.querySelector('#sign-in').onclick = () => WireAuth.signIn({ clientId: 'partner', redirectUri: location.origin + '/callback.html' }).catch((err) => { document.body.dataset.error = err.code })
        document.querySelector('#sign-in-here').onclick = () => WireAuth.signIn({ clientId: 'partner', redirectUri: location.origin + '/callback.html', mode: 'redirect' })
      </script>
      <button id="sign-in">Sign in</button>
      <button id="sign-in-here">Sign in here</button>
      <wire-auth-region fragment="profile"><p slot="else" id="anonymous">anonymous</p></wire-auth-region>`)
  })
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve))
  pageOrigin = `http://127.0.0.1:${(pages.address() as { port: number }).port}`

  op = await startOidcProvider({ login: 'auto', autoLogin: 'grace', redirectUris: [`${backendUrl}/auth/demo/callback`] })
  app = Fastify({ logger: false, serverFactory: (handler) => backend.server.on('request', handler) })
  await connectAuth(app, {
    publicUrl: backendUrl,
    allowedOrigins: [pageOrigin],
    sqlitePath: join(dir, 'auth.sqlite'),
    // Signing in at the authorization endpoint goes straight to the provider.
    loginUrl: '/auth/demo/login',
    // 65 s tokens: renewed (refresh-token rotation) one minute before expiry, i.e. after 5 s.
    localIdp: { accessTokenTtl: 65, clients: [{ clientId: 'partner', redirectUris: [`${pageOrigin}/callback.html`] }] },
    providers: [new OidcProvider({ name: 'demo', issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret, allowInsecureRequests: true })],
  })
  app.fragment('profile', { authenticated: true }, ({ user }) => html`<p id="profile">Signed in as ${user.name}</p>`)
  await app.ready()

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    // Chromium's own switch for the third-party-cookie phase-out: cross-site cookies are blocked.
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--test-third-party-cookie-phaseout'],
  })
})

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await op?.close()
  await new Promise((resolve) => pages?.close(resolve))
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

it('an OpenID-provider user signs in through a popup and the cross-site page gets live regions', async () => {
  const context = await browser.newContext()
  const page = await context.newPage()
  const sockets: string[] = []
  page.on('websocket', (socket) => sockets.push(socket.url()))
  await page.goto(`${pageOrigin}/`)
  await page.locator('#anonymous').waitFor()

  const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#sign-in')])
  // Provider sign-in (auto interaction), back to the authorization endpoint, then to the callback page.
  await popup.waitForEvent('close', { timeout: 30_000 })
  await page.locator('#profile').waitFor({ timeout: 15_000 })
  expect(await page.locator('#profile').textContent()).toBe('Signed in as grace')
  expect(await page.evaluate(() => document.body.dataset.error ?? null)).toBeNull()
  expect(sockets.some((url) => url.startsWith(backendUrl.replace(/^http/, 'ws')))).toBe(true)

  // The session cookie exists (first-party in the popup) but never reaches the backend from this page:
  // the region is authorized by the token. Signing out on this page makes it anonymous again.
  // Renewed before it expires, with the refresh token, and the region stays signed in.
  const getToken = () => page.evaluate(() => (window as unknown as { WireAuth: { getToken(): Promise<string | null> } }).WireAuth.getToken())
  const first = await getToken()
  expect(first).toMatch(/^eyJ/)
  let renewed: string | null = first
  for (let i = 0; i < 40 && renewed === first; i++) {
    await page.waitForTimeout(500)
    renewed = await getToken()
  }
  const payload = (t: string | null) => JSON.parse(Buffer.from(String(t).split('.')[1] as string, 'base64url').toString()) as { jti: string; exp: number }
  expect(payload(renewed).jti).not.toBe(payload(first).jti)
  expect(payload(renewed).exp).toBeGreaterThan(payload(first).exp)
  expect(await page.locator('#profile').textContent()).toBe('Signed in as grace')

  const cookies = await context.cookies(backendUrl)
  expect(cookies.some((c) => c.name === 'wa_sid')).toBe(true)
  await page.evaluate(() => (window as unknown as { WireAuth: { signOut(): void } }).WireAuth.signOut())
  await page.locator('#anonymous').waitFor({ timeout: 15_000 })
  // And the user is an OIDC user: linked to the provider, no password.
  const [user] = await app.authStore.listUsers()
  expect(user?.passwordHash).toBeNull()
  await context.close()
})

it('redirect mode: the tab goes to the backend, signs in with the provider and comes back signed in', async () => {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(`${pageOrigin}/`)
  await page.locator('#anonymous').waitFor()
  await Promise.all([page.waitForURL((url) => url.pathname === '/callback.html', { timeout: 30_000 }), page.click('#sign-in-here')])
  await page.locator('#profile').waitFor({ timeout: 15_000 })
  expect(await page.locator('#profile').textContent()).toBe('Signed in as grace')
  // The code left the address bar; the pending request left sessionStorage.
  expect(new URL(page.url()).search).toBe('')
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
  await context.close()
})
