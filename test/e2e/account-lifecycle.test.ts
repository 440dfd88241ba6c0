import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { axeClean, launchChromium, markDocument, newVisitor, register, screenshot, settled, stillSameDocument } from './support/browser.js'
import { startDemo, type DemoServer } from './support/demo-server.js'

// Issue 18 on the demo (`node demo/server.mjs`, as `npm start` runs it): its mail goes through the real
// smtp-server it runs on loopback, and Chromium reads it on the dev-only page /dev/mail and follows the
// links, as a newcomer would.
//   - sign up → mail → link → the members' region (claim email_verified=true) opens live in two tabs;
//     the same link again, and another account's link, are refused; a new link can be asked for;
//   - forgot password (another device) → mail → reset → the tabs signed in elsewhere go anonymous live;
//     an unknown address gets the same answer and no mail;
//   - passkey added with <wire-auth-account> (Chromium's virtual authenticator) → signed out → signed in
//     with it, no e-mail typed, and the other tab follows;
//   - under NODE_ENV=production the demo has no mail capture and no /dev/mail.

const PASSWORD = 'correct horse battery staple'
// @simplewebauthn/browser's own bundle: the sign-in ceremony as a site runs it (<wire-auth-sign-in> offers no passkey yet).
const WEBAUTHN_BROWSER = readFileSync(fileURLToPath(new URL('../../node_modules/@simplewebauthn/browser/dist/bundle/index.umd.min.js', import.meta.url)), 'utf8')

let demo: DemoServer
let browser: Browser
const unique = () => `${process.pid}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 6)}`

/** Opens /dev/mail in `page` until `count` mails to `to` with `subject` are listed; returns their list items, newest first. */
async function waitForMail(page: Page, to: string, subject: string, count = 1) {
  const mail = page.locator(`li.mail[data-to="${to}"]`).filter({ has: page.locator('.mail-subject', { hasText: subject }) })
  for (let attempt = 0; ; attempt++) {
    await page.goto(demo.mailPage!)
    if ((await mail.count()) >= count) return mail
    if (attempt === 50) throw new Error(`no mail "${subject}" to ${to} on /dev/mail`)
    await page.waitForTimeout(200)
  }
}

/** The link of the newest mail to `to` with `subject`, as /dev/mail (now open in `page`) shows it. */
async function mailLink(page: Page, to: string, subject: string, count = 1): Promise<string> {
  const href = await (await waitForMail(page, to, subject, count)).first().locator('a.mail-link').getAttribute('href')
  expect(href).toMatch(/#token=[A-Za-z0-9_-]{43}$/)
  return href!
}

/** The mail's link clicked on /dev/mail (the page must show it). */
async function followLink(page: Page, href: string): Promise<void> {
  await Promise.all([page.waitForURL((url) => url.pathname === new URL(href).pathname), page.click(`a.mail-link[href="${href}"]`)])
}

async function newUser(context: BrowserContext, name: string): Promise<{ page: Page; email: string }> {
  const email = `${name.toLowerCase()}.${unique()}@example.test`
  const page = await context.newPage()
  await register(page, demo.url, { name, email, password: PASSWORD })
  return { page, email }
}

describe('the demo in development: account mail through its SMTP server, read on /dev/mail', () => {
  beforeAll(async () => {
    demo = await startDemo()
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await demo?.stop()
  })

  it('prints /dev/mail and says it is for development; the page escapes what it shows', async () => {
    expect(demo.mailPage).toBe(`${demo.url}/dev/mail`)
    const email = `markup.${unique()}@example.test`
    const registered = await fetch(`${demo.url}/auth/local/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: demo.url },
      body: JSON.stringify({ email, password: PASSWORD, name: '<img src=x onerror=alert(1)>' }),
    })
    expect(registered.status).toBe(201)
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(demo.mailPage!)
      expect(response.status).toBe(200)
      expect(response.headers.get('cache-control')).toBe('no-store')
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'")
      const page = await response.text()
      expect(page).toContain('development only')
      if (page.includes(email)) {
        expect(page).toContain('Hello &lt;img src&#61;x onerror&#61;alert(1)&gt;')
        expect(page).not.toContain('<img src=x')
        break
      }
      if (attempt === 50) throw new Error('the mail never showed on /dev/mail')
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  })

  it('sign up → mail → link → the email_verified region opens live in two tabs; reused and foreign links are refused', async () => {
    const context = await newVisitor(browser)
    const { page: first, email } = await newUser(context, 'Noor')
    const second = await context.newPage()
    await second.goto(`${demo.url}/`)
    for (const tab of [first, second]) {
      await settled(tab)
      await tab.getByTestId('members-locked').waitFor()
      await markDocument(tab)
    }
    await axeClean(second, 'home, members corner locked', '[data-testid="members"]')

    const mailbox = await context.newPage()
    const link = await mailLink(mailbox, email, 'Confirm your e-mail address')
    expect(link.startsWith(`${demo.url}/account/verify-email#token=`)).toBe(true)
    await screenshot(mailbox, 'dev-mail')
    await axeClean(mailbox, '/dev/mail')
    await followLink(mailbox, link)
    await mailbox.getByTestId('verify-status').filter({ hasText: `Confirmed: ${email}` }).waitFor()
    // The token left the address bar.
    expect(new URL(mailbox.url()).hash).toBe('')
    await screenshot(mailbox, 'verify-email')
    await axeClean(mailbox, '/account/verify-email, confirmed')

    for (const tab of [first, second]) {
      await tab.getByTestId('members-open').waitFor({ timeout: 10_000 })
      expect(await stillSameDocument(tab)).toBe(true)
    }
    await screenshot(first, 'home-members-verified')
    await axeClean(first, 'home, members corner open', '[data-testid="members"]')

    // The same link again (from another page: the same path with a new #fragment would not reload): refused, and the page says why.
    await mailbox.goto(`${demo.url}/`)
    await mailbox.goto(link)
    await mailbox.getByTestId('verify-error').filter({ hasText: 'not valid any more' }).waitFor()
    await axeClean(mailbox, '/account/verify-email, refused')

    // Another account's link, opened where Noor is signed in: refused, and it verifies nobody.
    const other = await newVisitor(browser)
    const { page: olaHome, email: olaEmail } = await newUser(other, 'Ola')
    const olaLink = await mailLink(mailbox, olaEmail, 'Confirm your e-mail address')
    await followLink(mailbox, olaLink)
    await mailbox.getByTestId('verify-error').filter({ hasText: 'not valid any more' }).waitFor()
    await settled(olaHome)
    expect(await olaHome.getByTestId('members-locked').isVisible()).toBe(true)

    // That link is burnt for Ola too; signed in, Ola asks for a new one from the page and follows it.
    const olaTab = await other.newPage()
    await olaTab.goto(olaLink)
    await olaTab.getByTestId('verify-error').filter({ hasText: 'not valid any more' }).waitFor()
    await olaTab.getByTestId('verify-resend').click()
    await olaTab.getByTestId('verify-status').filter({ hasText: 'A new link is on its way' }).waitFor()
    const fresh = await mailLink(olaTab, olaEmail, 'Confirm your e-mail address', 2)
    expect(fresh).not.toBe(olaLink)
    await followLink(olaTab, fresh)
    await olaTab.getByTestId('verify-status').filter({ hasText: `Confirmed: ${olaEmail}` }).waitFor()
    await olaHome.getByTestId('members-open').waitFor({ timeout: 10_000 })
    await other.close()
    await context.close()
  })

  it('forgot password on another device → mail → reset → the tabs signed in elsewhere go anonymous live', async () => {
    const laptop = await newVisitor(browser)
    const { page: home, email } = await newUser(laptop, 'Pia')
    const account = await laptop.newPage()
    await account.goto(`${demo.url}/account`)
    await account.getByTestId('account').waitFor()
    await settled(home)
    for (const tab of [home, account]) await markDocument(tab)
    await home.waitForFunction(() => document.documentElement.dataset.auth === 'authenticated')

    const phone = await newVisitor(browser)
    const login = await phone.newPage()
    const forgot = async (address: string) => {
      await login.goto(`${demo.url}/login`)
      await login.locator('wire-auth-sign-in [part~="forgot"]').click()
      await login.fill('wire-auth-sign-in input[name="email"]', address)
      await login.click('wire-auth-sign-in button[type="submit"]')
      const status = login.locator('wire-auth-sign-in [part~="status"]')
      await status.filter({ hasText: 'on its way' }).waitFor()
      return status.textContent()
    }
    // No enumeration: an address nobody has gets the same answer as Pia's.
    const nobody = `nobody.${unique()}@example.test`
    const answerForNobody = await forgot(nobody)
    const answerForPia = await forgot(email)
    expect(answerForNobody!.replace(nobody, '')).toBe(answerForPia!.replace(email, ''))

    const link = await mailLink(login, email, 'Reset your password')
    expect(link.startsWith(`${demo.url}/account/reset-password#token=`)).toBe(true)
    expect(await login.locator(`li.mail[data-to="${nobody}"]`).count()).toBe(0)
    await followLink(login, link)
    await login.locator('wire-auth-sign-in input[name="password"]').waitFor()
    expect(new URL(login.url()).hash).toBe('')
    await screenshot(login, 'reset-password')
    await axeClean(login, '/account/reset-password')
    const newPassword = 'a different and longer passphrase'
    await login.fill('wire-auth-sign-in input[name="password"]', newPassword)
    await login.click('wire-auth-sign-in button[type="submit"]')
    await login.locator('wire-auth-sign-in [part~="status"]').filter({ hasText: 'Your password is changed.' }).waitFor()

    // The laptop's tabs: anonymous at once, no reload; the guarded account page leaves for the sign-in page.
    await home.waitForFunction(() => document.documentElement.dataset.auth === 'anonymous', undefined, { timeout: 10_000 })
    await home.locator('header wire-auth-user-button [part~="sign-in"]').waitFor()
    expect(await stillSameDocument(home)).toBe(true)
    await account.waitForURL((url) => url.pathname === '/login', { timeout: 10_000 })

    // A notice went to the address; the new password signs in on the phone.
    await waitForMail(login, email, 'Your password was changed')
    await login.goto(`${demo.url}/login`)
    await login.fill('wire-auth-sign-in input[name="email"]', email)
    await login.fill('wire-auth-sign-in input[name="password"]', newPassword)
    await Promise.all([login.waitForURL(`${demo.url}/`), login.click('wire-auth-sign-in button[type="submit"]')])
    await login.waitForFunction(() => document.documentElement.dataset.auth === 'authenticated', undefined, { timeout: 10_000 })
    await phone.close()
    await laptop.close()
  })

  it('passkey added on the account page → signed out (both tabs) → signed in with it, no e-mail typed → both tabs follow, live', async () => {
    const context = await newVisitor(browser)
    const { page: main, email } = await newUser(context, 'Kim')
    const other = await context.newPage()
    await other.goto(`${demo.url}/`)
    await settled(other)
    await markDocument(other)

    // The virtual authenticator belongs to this tab (and stays through its navigations).
    const cdp = await context.newCDPSession(main)
    await cdp.send('WebAuthn.enable')
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    })

    // Added with <wire-auth-account> on the demo's account page (WebAuthn needs the focused tab).
    await main.goto(`${demo.url}/account`)
    await main.bringToFront()
    await main.locator('wire-auth-account [part~="add-passkey"]').click()
    await main.locator('wire-auth-account [part~="status"]').filter({ hasText: 'The passkey is added.' }).waitFor()
    await main.locator('wire-auth-account [part~="passkey"]').first().waitFor()
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId })
    expect(credentials).toHaveLength(1)
    expect(credentials[0]!.isResidentCredential).toBe(true)

    // Sign out from the menu: both tabs go anonymous; the guarded account page leaves for the sign-in page.
    await main.click('header wire-auth-user-button [part~="button"]')
    await main.click('header wire-auth-user-button [role="menuitem"]:has-text("Sign out")')
    await main.waitForURL((url) => url.pathname === '/login', { timeout: 10_000 })
    await other.waitForFunction(() => document.documentElement.dataset.auth === 'anonymous', undefined, { timeout: 10_000 })

    // Sign in with the passkey: the options name no account; the authenticator offers its discoverable
    // credential. <wire-auth-sign-in> has no passkey button yet: the page runs the ceremony with
    // @simplewebauthn/browser (evaluated through the DevTools protocol, so the page's CSP stays on).
    await main.bringToFront()
    await main.evaluate(WEBAUTHN_BROWSER)
    // A string, evaluated as the DevTools console would: vitest leaves its import() alone, the page's CSP stays on.
    const signedIn = (await main.evaluate(`(async () => {
      const post = (path, body) => fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      const optionsJSON = await (await post('/auth/passkeys/login/options', {})).json()
      const credential = await SimpleWebAuthnBrowser.startAuthentication({ optionsJSON })
      const response = await post('/auth/passkeys/login/verify', { credential })
      // Signed in with fetch: the page tells its wire-auth connection (the documented WireAuth.reconnect()).
      const { WireAuth } = await import('/wire-auth.js')
      WireAuth.reconnect()
      return { status: response.status, body: await response.json(), allow: optionsJSON.allowCredentials ?? [] }
    })()`)) as { status: number; body: { user: { email: string } }; allow: unknown[] }
    expect(signedIn.allow).toEqual([])
    expect(signedIn.status).toBe(200)
    expect(signedIn.body.user.email).toBe(email)

    // Both tabs follow the sign-in without a reload.
    for (const tab of [main, other]) {
      await tab.waitForFunction(() => document.documentElement.dataset.auth === 'authenticated', undefined, { timeout: 10_000 })
      await tab.locator('header wire-auth-user-button [part~="name"]').filter({ hasText: 'Kim' }).waitFor()
    }
    expect(await stillSameDocument(other)).toBe(true)
    await context.close()
  })
})

describe('the demo under NODE_ENV=production', () => {
  let production: DemoServer
  beforeAll(async () => {
    production = await startDemo({ env: { NODE_ENV: 'production' } })
  })
  afterAll(async () => {
    await production?.stop()
  })

  it('runs no mail capture and serves no /dev/mail; the mail flows are off', async () => {
    expect(production.mailPage).toBeNull()
    expect(production.output()).not.toContain('/dev/mail')
    expect(production.output()).toContain('Mail: off')
    const page = await fetch(`${production.url}/dev/mail`)
    expect(page.status).toBe(404)
    expect((await page.json()).error.code).toBe('ERR_NOT_FOUND')
    const capabilities = await (await fetch(`${production.url}/auth/account/capabilities`)).json()
    expect(capabilities).toMatchObject({ mail: false, emailVerification: false, passwordReset: false })
  })
})
