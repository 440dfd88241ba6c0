import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { launchChromium, newVisitor } from './support/browser.js'
import { startE2eApp, type E2eApp } from './support/e2e-app.js'

// Passkeys (issue 18) in Chromium with a virtual authenticator (DevTools
// protocol WebAuthn.addVirtualAuthenticator): register while signed in, sign
// out, sign in with the discoverable credential (no e-mail typed), list,
// rename, remove; replays and other accounts refused. The browser side is
// @simplewebauthn/browser's own bundle; the backend is the built packages.

const BROWSER_LIB = readFileSync(fileURLToPath(new URL('../../node_modules/@simplewebauthn/browser/dist/bundle/index.umd.min.js', import.meta.url)), 'utf8')
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>passkeys</title><script src="/test/webauthn.js"></script></head><body><p>passkeys</p></body></html>`
const PASSWORD = 'a long and unusual passphrase'

let backend: E2eApp
let browser: Browser

beforeAll(async () => {
  // WebAuthn needs a host name as RP ID (not an IP address): localhost.
  backend = await startE2eApp(
    { localIdp: true, passkeys: { rpName: 'wire-auth e2e' } },
    {
      hostname: 'localhost',
      setup(app) {
        app.get('/', async (_request, reply) => reply.type('text/html').send(PAGE))
        app.get('/test/webauthn.js', async (_request, reply) => reply.type('text/javascript').send(BROWSER_LIB))
      },
    },
  )
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await backend?.close()
})

/** `fetch` from the page (its cookies, its Origin). */
function call(page: Page, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  return page.evaluate(
    async ({ path, body }) => {
      const response = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      const text = await response.text()
      return { status: response.status, body: text === '' ? null : JSON.parse(text) }
    },
    { path, body },
  )
}

it('register a passkey, sign out, sign in with it (no e-mail typed), list, rename, remove', async () => {
  const context = await newVisitor(browser)
  const page = await context.newPage()
  await page.goto(backend.url)
  const cdp = await context.newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  })

  // Only a signed-in user may add a passkey.
  expect((await call(page, '/auth/passkeys/register/options', {})).status).toBe(401)
  expect((await call(page, '/auth/account/capabilities')).body.passkeys).toBe(true)
  const registered = await call(page, '/auth/local/register', { email: 'pia@example.com', password: PASSWORD, name: 'Pia' })
  expect(registered.status).toBe(201)
  const userId = registered.body.user.id

  const created = await page.evaluate(async () => {
    const post = (path: string, body: unknown) => fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const optionsJSON = await (await post('/auth/passkeys/register/options', {})).json()
    const credential = await (window as any).SimpleWebAuthnBrowser.startRegistration({ optionsJSON })
    const response = await post('/auth/passkeys/register/verify', { credential, name: 'Laptop' })
    return { status: response.status, body: await response.json(), residentKey: optionsJSON.authenticatorSelection.residentKey }
  })
  expect(created.residentKey).toBe('required')
  expect(created.status).toBe(201)
  expect(created.body.passkey).toMatchObject({ name: 'Laptop', transports: expect.arrayContaining(['internal']), lastUsedAt: null })
  const passkeyId = created.body.passkey.id
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId })
  expect(credentials).toHaveLength(1)
  expect(credentials[0]!.isResidentCredential).toBe(true)

  expect((await call(page, '/auth/logout', {})).status).toBe(204)
  expect((await call(page, '/auth/me')).body.authenticated).toBe(false)

  // Sign in: options without an allow-list, the authenticator offers its discoverable credential.
  const signedIn = await page.evaluate(async () => {
    const post = (path: string, body: unknown) => fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const optionsJSON = await (await post('/auth/passkeys/login/options', {})).json()
    const credential = await (window as any).SimpleWebAuthnBrowser.startAuthentication({ optionsJSON })
    const response = await post('/auth/passkeys/login/verify', { credential })
    const replay = await post('/auth/passkeys/login/verify', { credential })
    // A fresh ceremony does not accept the old answer either (its challenge is another).
    await post('/auth/passkeys/login/options', {})
    const stale = await post('/auth/passkeys/login/verify', { credential })
    return { status: response.status, body: await response.json(), allow: optionsJSON.allowCredentials ?? [], replay: [replay.status, (await replay.json()).error.code], stale: [stale.status, (await stale.json()).error.code] }
  })
  expect(signedIn.allow).toEqual([])
  expect(signedIn.status).toBe(200)
  expect(signedIn.body.user).toEqual({ id: userId, email: 'pia@example.com', name: 'Pia' })
  expect(signedIn.replay).toEqual([400, 'ERR_PASSKEY_INVALID'])
  expect(signedIn.stale).toEqual([400, 'ERR_PASSKEY_INVALID'])
  expect((await call(page, '/auth/me')).body).toEqual({ authenticated: true, id: userId, name: 'Pia' })

  const listed = await call(page, '/auth/passkeys')
  expect(listed.body.passkeys).toHaveLength(1)
  expect(listed.body.passkeys[0].lastUsedAt).toEqual(expect.any(Number))
  expect(listed.body.passkeys[0].publicKey).toBeUndefined()

  // Another account can neither rename nor remove it.
  const other = await backend.app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'ola@example.com', password: PASSWORD } })
  const otherCookie = String(other.headers['set-cookie']).split(';')[0]!
  for (const action of ['rename', 'delete']) {
    const response = await backend.app.inject({ method: 'POST', url: `/auth/passkeys/${encodeURIComponent(passkeyId)}/${action}`, headers: { cookie: otherCookie }, payload: action === 'rename' ? { name: 'Mine' } : {} })
    expect(response.statusCode, action).toBe(404)
    expect(response.json().error.code).toBe('ERR_PASSKEY_NOT_FOUND')
  }

  const renamed = await call(page, `/auth/passkeys/${encodeURIComponent(passkeyId)}/rename`, { name: 'Work laptop' })
  expect(renamed.body.passkey.name).toBe('Work laptop')
  expect((await call(page, `/auth/passkeys/${encodeURIComponent(passkeyId)}/delete`, {})).body).toEqual({ removed: true })
  expect((await call(page, '/auth/passkeys')).body.passkeys).toEqual([])

  // Removed: the authenticator still has it, the server no longer accepts it.
  await call(page, '/auth/logout', {})
  const refused = await page.evaluate(async () => {
    const post = (path: string, body: unknown) => fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const optionsJSON = await (await post('/auth/passkeys/login/options', {})).json()
    const credential = await (window as any).SimpleWebAuthnBrowser.startAuthentication({ optionsJSON })
    const response = await post('/auth/passkeys/login/verify', { credential })
    return [response.status, (await response.json()).error.code]
  })
  expect(refused).toEqual([400, 'ERR_PASSKEY_INVALID'])
  expect((await call(page, '/auth/me')).body.authenticated).toBe(false)

  const actions = (await backend.app.authStore.listAudit({ userId })).map((a) => `${a.action}${a.detail.via === 'passkey' ? ':passkey' : ''}`)
  expect(actions).toEqual(expect.arrayContaining(['passkey.register', 'login.success:passkey', 'passkey.rename', 'passkey.remove', 'login.failure:passkey']))
  await context.close()
})
