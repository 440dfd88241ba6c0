// Issue 17: <wire-auth-account>'s passkey, e-mail, password and linked-provider sections in real
// Chromium against a real backend (the built packages, a SQLite file): passkeys through a virtual
// authenticator (DevTools protocol WebAuthn.addVirtualAuthenticator, as test/e2e/passkeys.test.ts),
// the e-mail change through a real SMTP server (smtp-server), the provider through a real
// oidc-provider. The page is the bundle's script tag and the elements, nothing else; a second
// theme is CSS custom properties only. axe-core checks each state; the screenshots go to
// docs/screenshots (README.md and docs/elements.md show them).
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { OidcProvider } from '@wire-auth/server'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startOidcProvider } from '../support/oidc-provider.mjs'
import { startSmtpServer, type TestSmtpServer } from '../support/smtp-server.js'
import { axeClean, launchChromium, screenshot } from './support/browser.js'
import { startE2eApp, type E2eApp } from './support/e2e-app.js'

const PASSWORD = 'a long and unusual passphrase'

// The second theme: custom properties only (docs/elements.md, "Theming").
const MIDNIGHT = `body.midnight { background: #0f1424; color: #e8ecf8; }
body.midnight a { color: #8fa8ff; }
body.midnight wire-auth-sign-in, body.midnight wire-auth-account, body.midnight wire-auth-user-button {
  --wire-auth-text: #e8ecf8; --wire-auth-background: #161d33; --wire-auth-border: #4a5a8a; --wire-auth-muted: #b4bdd8;
  --wire-auth-accent: #8fa8ff; --wire-auth-accent-text: #0f1424; --wire-auth-danger: #ffab91; --wire-auth-focus: #ffd166;
  --wire-auth-hover: #26304f; --wire-auth-radius: 2px;
}`

const PAGE = (theme: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Account · wire-auth</title>
<script type="module" src="/wire-auth.js"></script>
<style>body { font-family: system-ui, sans-serif; max-width: 680px; margin: 2rem auto; padding: 0 1rem; }
header { display: flex; justify-content: space-between; align-items: center; } ${MIDNIGHT}</style></head>
<body class="${theme}"><header><a href="/">Team Handbook</a><wire-auth-user-button account-href="/" sign-in-href="/"></wire-auth-user-button></header>
<main><h1>Your account</h1>
<wire-auth-signed-out hidden><p id="cta">Create an account to read the handbook.</p></wire-auth-signed-out>
<wire-auth-sign-in></wire-auth-sign-in>
<wire-auth-account></wire-auth-account></main></body></html>`

let backend: E2eApp
let browser: Browser
let smtp: TestSmtpServer
let op: Awaited<ReturnType<typeof startOidcProvider>>

beforeAll(async () => {
  smtp = await startSmtpServer()
  backend = await startE2eApp(
    async (url) => {
      op = await startOidcProvider({ login: 'auto', autoLogin: 'olga', redirectUris: [`${url}/auth/corp/callback`], accounts: { olga: { email: 'olga@example.test', email_verified: true, name: 'Olga Tokarczuk' } } })
      return {
        localIdp: true,
        passkeys: { rpName: 'wire-auth e2e' },
        mail: { transport: smtp.url, from: 'no-reply@example.test' },
        providers: [new OidcProvider({ name: 'corp', displayName: 'Corp SSO', issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret, allowInsecureRequests: true })],
      }
    },
    {
      // WebAuthn needs a host name as RP ID (not an IP address): localhost.
      hostname: 'localhost',
      setup: (app) => app.get<{ Querystring: { theme?: string } }>('/', async (request, reply) => reply.type('text/html').send(PAGE(request.query.theme === 'midnight' ? 'midnight' : ''))),
    },
  )
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await backend?.close()
  await op?.close()
  await smtp?.close()
})

function visitor(): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1, bypassCSP: true })
}

const unique = (name: string) => `${name}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.test`

/** Registers through the local IdP from the page (its cookie), then reloads: the elements show the account. */
async function registered(page: Page, name: string): Promise<string> {
  await page.goto(backend.url)
  const email = unique(name.toLowerCase().split(' ')[0]!)
  const status = await page.evaluate(
    async ([email, password, name]) => (await fetch('/auth/local/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password, name }) })).status,
    [email, PASSWORD, name],
  )
  expect(status).toBe(201)
  await page.reload()
  await page.locator('wire-auth-account [part~="session"]').first().waitFor()
  return email
}

const account = (page: Page, selector: string) => page.locator(`wire-auth-account ${selector}`)
const statusIs = (page: Page, text: string) => account(page, '[part~="status"]').filter({ hasText: text }).waitFor()
const serverPasskeys = (page: Page) => page.evaluate(async () => ((await (await fetch('/auth/passkeys')).json()) as { passkeys: Array<{ name: string }> }).passkeys)

it('passkeys: add one with the authenticator (the ceremony module loads only then), rename it, sign in with it, remove it; axe clean in both themes', async () => {
  const context = await visitor()
  const page = await context.newPage()
  const loaded: string[] = []
  page.on('request', (request) => loaded.push(new URL(request.url()).pathname))
  await registered(page, 'Pia Passkey')
  const cdp = await context.newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  })

  await account(page, 'p.muted').filter({ hasText: 'No passkeys yet.' }).waitFor()
  expect(loaded.filter((path) => path.startsWith('/wire-auth-webauthn'))).toEqual([])
  // The two forms the server offers (passwordChange, and emailChange since it sends mail).
  expect(await account(page, '[part~="email-form"]').count()).toBe(1)
  expect(await account(page, '[part~="password-form"]').count()).toBe(1)

  await account(page, '[part~="add-passkey"]').click()
  await statusIs(page, 'The passkey is added.')
  expect(loaded.filter((path) => path === '/wire-auth-webauthn.js')).toHaveLength(1)
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId })
  expect(credentials).toHaveLength(1)
  // Named after this browser, ready to be renamed.
  const name = account(page, '[part~="passkey"] input[name="name"]')
  expect(await name.inputValue()).toBe('Chrome on Linux')
  expect(await serverPasskeys(page)).toMatchObject([{ name: 'Chrome on Linux' }])
  await axeClean(page, 'account with a passkey')

  await name.fill('Work laptop')
  await name.press('Enter')
  await statusIs(page, 'The passkey is renamed.')
  expect(await serverPasskeys(page)).toMatchObject([{ name: 'Work laptop' }])
  await screenshot(page, 'ui-account-passkeys')

  // Signed out, <wire-auth-sign-in> offers the passkey (the server has passkeys on): no e-mail typed.
  expect(await page.evaluate(async () => (await fetch('/auth/logout', { method: 'POST' })).status)).toBe(204)
  await page.reload()
  await page.locator('wire-auth-user-button [part~="sign-in"]').waitFor()
  const signedIn = page.evaluate(() => new Promise<string>((resolve) => document.addEventListener('wire-auth-signed-in', (e) => resolve((e as CustomEvent<{ user: { name: string } }>).detail.user.name), { once: true })))
  await page.locator('wire-auth-sign-in [part~="passkey"]').click()
  expect(await signedIn).toBe('Pia Passkey')
  await page.locator('wire-auth-user-button [part~="name"]').filter({ hasText: 'Pia Passkey' }).waitFor()
  await account(page, '[part~="passkey"] .muted').filter({ hasText: 'last used' }).waitFor()

  await page.goto(`${backend.url}/?theme=midnight`)
  await account(page, '[part~="passkey"]').waitFor()
  await axeClean(page, 'account with a passkey, midnight theme')
  await screenshot(page, 'ui-account-midnight')

  await account(page, '[part~="remove"]').click()
  await statusIs(page, 'The passkey is removed.')
  expect(await serverPasskeys(page)).toEqual([])
  await account(page, 'p.muted').filter({ hasText: 'No passkeys yet.' }).waitFor()
  // The removed passkey's button had the focus: it moved to "Add a passkey".
  expect(await page.evaluate(() => document.querySelector('wire-auth-account')?.shadowRoot?.activeElement?.getAttribute('part'))).toBe('add-passkey')
  await context.close()
})

it('change e-mail: a wrong password is announced and focused; the right one mails the link to the new address', async () => {
  const context = await visitor()
  const page = await context.newPage()
  await registered(page, 'Eli Email')
  const next = unique('eli.new')
  await account(page, '[part~="email-form"] input[name="email"]').fill(next)
  await account(page, '[part~="email-form"] input[name="password"]').fill('not the password at all')
  await account(page, '[part~="email-form"] button[type="submit"]').click()
  const error = account(page, '[part~="error"]')
  await error.filter({ hasText: 'Your current password is not right.' }).waitFor()
  expect(await error.getAttribute('role')).toBe('alert')
  expect(await page.evaluate(() => document.querySelector('wire-auth-account')?.shadowRoot?.activeElement?.getAttribute('name'))).toBe('password')
  await axeClean(page, 'account, e-mail change refused')
  await screenshot(page, 'ui-account-error')

  await account(page, '[part~="email-form"] input[name="email"]').fill(next)
  await account(page, '[part~="email-form"] input[name="password"]').fill(PASSWORD)
  await account(page, '[part~="email-form"] button[type="submit"]').click()
  await statusIs(page, `To confirm, open the link we mailed to ${next}.`)
  expect(await error.textContent()).toBe('')
  const mail = await smtp.waitFor(next)
  expect(mail.text).toMatch(/#token=/)
  await context.close()
})

it('linked providers: who signed in through the provider sees it listed (never the subject) and no password forms; a local account shows no such section', async () => {
  const context = await visitor()
  const page = await context.newPage()
  await page.goto(`${backend.url}/?theme=midnight`)
  await page.locator('wire-auth-sign-in [part~="provider"]').filter({ hasText: 'Sign in with Corp SSO' }).click()
  await page.waitForURL(`${backend.url}/?theme=midnight`)
  const identity = account(page, '[part~="identity"]')
  await identity.waitFor()
  expect(await identity.textContent()).toContain('Corp SSO')
  expect(await page.locator('wire-auth-user-button [part~="name"]').textContent()).toBe('Olga Tokarczuk')
  // Made by the provider: no password, so no form asks for the current one.
  await account(page, '[part~="end-all"]').waitFor()
  expect(await account(page, '[part~="email-form"]').count()).toBe(0)
  expect(await account(page, '[part~="password-form"]').count()).toBe(0)
  await axeClean(page, 'account with a linked provider, midnight theme')
  await screenshot(page, 'ui-account-provider-midnight')
  await context.close()

  const local = await visitor()
  const other = await local.newPage()
  await registered(other, 'Lou Local')
  await account(other, '[part~="end-all"]').waitFor()
  expect(await account(other, '[part~="identities"]').count()).toBe(0)
  expect(await account(other, '[part~="password-form"]').count()).toBe(1)
  await local.close()
})

it('the sign-in and user-button elements in the second theme: signed out, an error, signed in (menu open); axe clean', async () => {
  const context = await visitor()
  const page = await context.newPage()
  await page.goto(`${backend.url}/?theme=midnight`)
  await page.locator('wire-auth-user-button [part~="sign-in"]').waitFor()
  await axeClean(page, 'signed out, midnight theme')
  await screenshot(page, 'ui-signed-out-midnight')

  await page.fill('wire-auth-sign-in input[name="email"]', unique('nobody'))
  await page.fill('wire-auth-sign-in input[name="password"]', 'a wrong password, clearly')
  await page.click('wire-auth-sign-in button[type="submit"]')
  await page.locator('wire-auth-sign-in [part~="error"]').filter({ hasText: 'Wrong e-mail or password.' }).waitFor()
  await axeClean(page, 'sign-in error, midnight theme')
  await screenshot(page, 'ui-error-midnight')

  await registered(page, 'Mia Midnight')
  await page.goto(`${backend.url}/?theme=midnight`)
  await page.locator('wire-auth-user-button [part~="name"]').waitFor()
  await page.locator('wire-auth-user-button [part~="button"]').click()
  await page.locator('wire-auth-user-button [part~="menu"]').waitFor()
  await axeClean(page, 'signed in, menu open, midnight theme')
  await screenshot(page, 'ui-signed-in-midnight')
  await context.close()
})
