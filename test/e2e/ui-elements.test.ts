// Issue 17: the UI elements (<wire-auth-sign-in>, <wire-auth-user-button>, <wire-auth-account>,
// <wire-auth-signed-out>) in real Chromium against the real demo backend: a page with one script
// tag and these elements, no other JavaScript.
import type { BrowserContext, Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { axeClean, newVisitor, screenshot } from './support/browser.js'
import { demoInChromium } from './support/demo-server.js'

const PASSWORD = 'correct horse battery staple'

// The page under test is demo/public/elements.html: the bundle's script tag and the elements, nothing else.

const e2e = demoInChromium()

/** A fresh browser profile (its own cookies); CSP bypassed only so that the test can inject axe-core. */
function visitor(): Promise<BrowserContext> {
  return e2e.browser.newContext({ viewport: { width: 1200, height: 820 }, deviceScaleFactor: 1, bypassCSP: true })
}
/** An e-mail no earlier run used (the demo's store may outlive a run). */
const unique = (name: string) => `${name}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`

async function open(context: BrowserContext): Promise<Page> {
  const page = await context.newPage()
  await page.goto(`${e2e.demo.url}/elements.html`)
  return page
}

const anonymous = (page: Page) => page.locator('wire-auth-user-button [part~="sign-in"]').waitFor()
const signedInAs = async (page: Page, name: string) => {
  await page.locator('wire-auth-user-button [part~="name"]').waitFor()
  expect(await page.locator('wire-auth-user-button [part~="name"]').textContent()).toBe(name)
}

async function signUp(page: Page, user: { name: string; email: string }): Promise<void> {
  await page.locator('wire-auth-sign-in [part~="switch"]').click()
  await page.fill('wire-auth-sign-in input[name="name"]', user.name)
  await page.fill('wire-auth-sign-in input[name="email"]', user.email)
  await page.fill('wire-auth-sign-in input[name="password"]', PASSWORD)
  await page.click('wire-auth-sign-in button[type="submit"]')
}

async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.fill('wire-auth-sign-in input[name="email"]', email)
  await page.fill('wire-auth-sign-in input[name="password"]', password)
  await page.click('wire-auth-sign-in button[type="submit"]')
}

describe('UI elements in Chromium against the demo backend', () => {
  it('sign-up signs in every element of the page and the other tab, live; sign-out by keyboard in one tab signs out the other', async () => {
    const adaEmail = unique('ada')
    const context = await visitor()
    const first = await open(context)
    const second = await open(context)
    await anonymous(first)
    await anonymous(second)
    expect(await second.locator('#cta').isVisible()).toBe(true)
    await axeClean(first, 'anonymous: sign-in form, "Sign in" link, signed-out region')
    await first.locator('wire-auth-sign-in [part~="switch"]').click()
    await axeClean(first, 'sign-up form')
    await first.locator('wire-auth-sign-in [part~="switch"]').click()

    await signUp(first, { name: 'Ada Lovelace', email: adaEmail })
    // This page: every element follows without a reload.
    await signedInAs(first, 'Ada Lovelace')
    await first.locator('wire-auth-sign-in [part~="signed-in"]').waitFor()
    await first.locator('wire-auth-account [part~="current"]').waitFor()
    await first.locator('#cta').waitFor({ state: 'hidden' })
    // The other tab, anonymous until now, follows too (no reload).
    await signedInAs(second, 'Ada Lovelace')
    await second.locator('#cta').waitFor({ state: 'hidden' })
    await axeClean(second, 'signed in: user button, account, sign-in (signed in)')
    await screenshot(first, 'ui-signed-in')

    // The user button's menu, keyboard only, in the second tab.
    const trigger = second.locator('wire-auth-user-button [part~="button"]')
    await trigger.focus()
    await second.keyboard.press('Enter')
    const items = second.locator('wire-auth-user-button [role="menuitem"]')
    await second.locator('wire-auth-user-button [role="menu"]').waitFor()
    expect(await trigger.getAttribute('aria-expanded')).toBe('true')
    expect(await items.nth(0).evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).toBe(true)
    await axeClean(second, 'user menu open')
    await second.keyboard.press('Escape')
    await second.locator('wire-auth-user-button [role="menu"]').waitFor({ state: 'hidden' })
    expect(await trigger.evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).toBe(true)
    await second.keyboard.press('ArrowUp')
    expect(await items.nth(1).evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).toBe(true)
    expect(await items.nth(1).textContent()).toBe('Sign out')
    await second.keyboard.press('Enter')

    // Signed out in the second tab: both tabs go anonymous, live.
    await anonymous(second)
    await anonymous(first)
    await first.locator('#cta').waitFor()
    await first.locator('wire-auth-sign-in form').waitFor()
    await context.close()
  })

  it('a wrong password shows its message in an aria-live alert, and the form stays usable', async () => {
    const boEmail = unique('bo')
    const context = await visitor()
    const page = await open(context)
    await anonymous(page)
    await signUp(page, { name: 'Bo Diaz', email: boEmail })
    await signedInAs(page, 'Bo Diaz')
    await page.locator('wire-auth-user-button [part~="button"]').click()
    await page.locator('wire-auth-user-button [role="menuitem"]:has-text("Sign out")').click()
    await anonymous(page)

    await signIn(page, boEmail, 'not the password at all')
    const error = page.locator('wire-auth-sign-in [part~="error"]')
    await page.waitForFunction(() => (document.querySelector('wire-auth-sign-in')?.shadowRoot?.querySelector('[part~="error"]')?.textContent ?? '') !== '')
    expect(await error.textContent()).toBe('Wrong e-mail or password.')
    expect(await error.getAttribute('role')).toBe('alert')
    expect(await error.getAttribute('aria-live')).toBe('assertive')
    // The password field is cleared and focused for the next try.
    expect(await page.locator('wire-auth-sign-in input[name="password"]').inputValue()).toBe('')
    await axeClean(page, 'error state')
    await screenshot(page, 'ui-error')

    // Overridable strings: another language for the same code.
    await page.evaluate(() => {
      ;(document.querySelector('wire-auth-sign-in') as unknown as { strings: unknown }).strings = { signIn: 'Anmelden', errors: { ERR_INVALID_CREDENTIALS: 'Falsche E-Mail oder falsches Passwort.' } }
    })
    await signIn(page, boEmail, 'still not the password')
    await page.waitForFunction(() => document.querySelector('wire-auth-sign-in')?.shadowRoot?.querySelector('[part~="error"]')?.textContent === 'Falsche E-Mail oder falsches Passwort.')
    expect(await page.locator('wire-auth-sign-in button[type="submit"]').textContent()).toContain('Anmelden')

    await signIn(page, boEmail)
    await signedInAs(page, 'Bo Diaz')
    await context.close()
  })

  it('the account lists two sessions, this device marked, and ends the other one: that browser goes anonymous live', async () => {
    const cyEmail = unique('cy')
    const laptop = await visitor()
    const phone = await visitor()
    const here = await open(laptop)
    await anonymous(here)
    await signUp(here, { name: 'Cy Young', email: cyEmail })
    await signedInAs(here, 'Cy Young')
    const there = await open(phone)
    await anonymous(there)
    await signIn(there, cyEmail)
    await signedInAs(there, 'Cy Young')

    await here.evaluate(() => (document.querySelector('wire-auth-account') as unknown as { refresh(): Promise<void> }).refresh())
    const sessions = here.locator('wire-auth-account [part~="session"]')
    await here.waitForFunction(() => document.querySelector('wire-auth-account')?.shadowRoot?.querySelectorAll('[part~="session"]').length === 2)
    expect(await here.locator('wire-auth-account [part~="current"]').count()).toBe(1)
    await axeClean(here, 'account with two sessions')
    await screenshot(here, 'ui-account')

    const other = sessions.filter({ hasNot: here.locator('[part~="current"]') })
    await other.locator('[part~="end"]').click()
    await here.locator('wire-auth-account [part~="status"]').filter({ hasText: 'That session is signed out.' }).waitFor()
    await here.waitForFunction(() => document.querySelector('wire-auth-account')?.shadowRoot?.querySelectorAll('[part~="session"]').length === 1)
    // The phone's page turns anonymous over its socket, without a reload.
    await anonymous(there)
    await there.locator('#cta').waitFor()
    // This browser stays signed in.
    await signedInAs(here, 'Cy Young')
    await laptop.close()
    await phone.close()
  })

  it('the account changes the password when the server offers it (wrong current password first); the other session ends', async () => {
    const email = unique('di')
    const laptop = await visitor()
    const phone = await visitor()
    const here = await open(laptop)
    await anonymous(here)
    await signUp(here, { name: 'Di Ng', email })
    await signedInAs(here, 'Di Ng')
    const there = await open(phone)
    await anonymous(there)
    await signIn(there, email)
    await signedInAs(there, 'Di Ng')

    const form = here.locator('wire-auth-account [part~="password-form"]')
    await form.waitFor()
    await form.locator('input[name="currentPassword"]').fill('not my password')
    await form.locator('input[name="newPassword"]').fill('another long passphrase here')
    await form.locator('button[type="submit"]').click()
    await here.locator('wire-auth-account [part~="error"]').filter({ hasText: 'Your current password is not right.' }).waitFor()
    await axeClean(here, 'account: change-password error')

    await form.locator('input[name="currentPassword"]').fill(PASSWORD)
    await form.locator('input[name="newPassword"]').fill('another long passphrase here')
    await form.locator('button[type="submit"]').click()
    await here.locator('wire-auth-account [part~="status"]').filter({ hasText: 'Your password is changed.' }).waitFor()
    // The server signed the other session out: that browser goes anonymous live; this one stays.
    await anonymous(there)
    await signIn(there, email, 'another long passphrase here')
    await signedInAs(there, 'Di Ng')
    await signedInAs(here, 'Di Ng')
    await laptop.close()
    await phone.close()
  })

  it('"Forgot your password?" shows when the server mails reset links (the demo captures its mail)', async () => {
    const context = await visitor()
    const page = await open(context)
    await anonymous(page)
    const capabilities = await page.evaluate(() => fetch('/auth/account/capabilities').then((r) => r.json()))
    await page.locator('wire-auth-sign-in form').waitFor()
    // The demo mails (to its dev mail page); a server that cannot is covered by packages/elements/test/ui.test.js.
    expect(capabilities.passwordReset).toBe(true)
    await page.locator('wire-auth-sign-in [part~="forgot"]').waitFor()
    await context.close()
  })

  it('the demo\'s two themes (login: the site\'s colours; account: "midnight") are axe-clean too', async () => {
    const context = await visitor()
    const page = await context.newPage()
    await page.goto(`${e2e.demo.url}/login`)
    await page.locator('wire-auth-sign-in form').waitFor()
    await page.locator('wire-auth-user-button [part~="sign-in"]').waitFor()
    await axeClean(page, 'demo login page (handbook theme)')
    await signUp(page, { name: 'Eve Theme', email: unique('eve') })
    await page.waitForURL(`${e2e.demo.url}/`)
    await page.goto(`${e2e.demo.url}/account`)
    await page.locator('wire-auth-account [part~="current"]').waitFor()
    await axeClean(page, 'demo account page (midnight theme)')
    await page.locator('wire-auth-user-button [part~="button"]').click()
    await page.locator('wire-auth-user-button [role="menu"]').waitFor()
    await axeClean(page, 'demo account page, user menu open (midnight theme)')
    await context.close()
  })

  it('a page without UI elements never fetches the UI module; one that adds one later does', async () => {
    const context = await newVisitor(e2e.browser)
    const fetched: string[] = []
    context.on('request', (request) => request.url().includes('wire-auth-ui.js') && fetched.push(request.url()))
    await context.route('**/plain.html', (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>x</title><script type="module" src="/wire-auth.js"></script><wire-auth-region fragment="hello-card"></wire-auth-region>' }),
    )
    const page = await context.newPage()
    await page.goto(`${e2e.demo.url}/plain.html`)
    await page.waitForFunction(() => document.querySelector('wire-auth-region')?.getAttribute('status') !== 'pending')
    expect(fetched).toEqual([])
    await page.evaluate(() => document.body.append(document.createElement('wire-auth-user-button')))
    await page.locator('wire-auth-user-button [part~="sign-in"]').waitFor()
    expect(fetched).toEqual([`${e2e.demo.url}/wire-auth-ui.js`])
    await context.close()
  })
})
