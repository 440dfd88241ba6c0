import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startSmtpServer, type TestSmtpServer } from '../support/smtp-server.js'
import { axeClean, launchChromium } from './support/browser.js'
import { startE2eApp, type E2eApp } from './support/e2e-app.js'

// Issue 17 × 18: "Forgot your password?" in <wire-auth-sign-in> appears when the server mails reset
// links; the mail goes through a real SMTP server (smtp-server); the link opens a page holding
// <wire-auth-sign-in mode="reset">, which sets the new password; signing in with it works. Pages: the
// bundle's script tag and the element, nothing else. The built packages, a real SQLite file.

const page = (element: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>reset</title>
<script type="module" src="/wire-auth.js"></script></head><body><main><h1>Site</h1>
<wire-auth-user-button></wire-auth-user-button>${element}</main></body></html>`

const OLD = 'the first long passphrase'
const NEW = 'a brand new long passphrase'

let smtp: TestSmtpServer
let backend: E2eApp
/** A second server that lets only verified addresses sign in. */
let strict: E2eApp
let browser: Browser

beforeAll(async () => {
  smtp = await startSmtpServer()
  const mail = { transport: smtp.url, from: 'no-reply@example.test' }
  backend = await startE2eApp(
    { localIdp: true, mail },
    {
      setup(app) {
        app.get('/', async (_request, reply) => reply.type('text/html').send(page('<wire-auth-sign-in></wire-auth-sign-in>')))
        app.get('/account/reset-password', async (_request, reply) => reply.type('text/html').send(page('<wire-auth-sign-in mode="reset"></wire-auth-sign-in>')))
      },
    },
  )
  strict = await startE2eApp(
    { localIdp: true, requireVerifiedEmail: true, mail },
    { setup: (app) => app.get('/', async (_request, reply) => reply.type('text/html').send(page('<wire-auth-sign-in mode="sign-up"></wire-auth-sign-in>'))) },
  )
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await backend?.close()
  await strict?.close()
  await smtp?.close()
})

it('forgot password → mail through SMTP → the reset page sets a new password → sign in with it', async () => {
  const context = await browser.newContext({ bypassCSP: true })
  const home = await context.newPage()
  await home.goto(backend.url)
  const email = `reset.${process.pid}.${Date.now().toString(36)}@example.test`
  const registered = await home.evaluate(
    async ([address, password]) => (await fetch('/auth/local/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: address, password }) })).status,
    [email, OLD],
  )
  expect(registered).toBe(201)
  await home.evaluate(() => fetch('/auth/logout', { method: 'POST' }))
  await home.reload()
  await home.locator('wire-auth-user-button [part~="sign-in"]').waitFor()

  // Offered because the server mails (GET /auth/account/capabilities: passwordReset).
  await home.locator('wire-auth-sign-in [part~="forgot"]').click()
  await home.fill('wire-auth-sign-in input[name="email"]', email)
  await axeClean(home, 'forgot-password form')
  await home.click('wire-auth-sign-in button[type="submit"]')
  await home.locator('wire-auth-sign-in [part~="status"]').filter({ hasText: 'a link to reset its password is on its way' }).waitFor()

  const mail = await smtp.waitFor(email, (m) => m.subject === 'Reset your password')
  const link = /https?:\/\/\S+#token=[A-Za-z0-9_-]{43}/.exec(mail.text)![0]
  expect(link.startsWith(`${backend.url}/account/reset-password#token=`)).toBe(true)

  const reset = await context.newPage()
  await reset.goto(link)
  await reset.locator('wire-auth-sign-in input[name="password"]').waitFor()
  // The token left the address bar.
  expect(new URL(reset.url()).hash).toBe('')
  await axeClean(reset, 'reset form')
  await reset.fill('wire-auth-sign-in input[name="password"]', NEW)
  await reset.click('wire-auth-sign-in button[type="submit"]')
  await reset.locator('wire-auth-sign-in [part~="status"]').filter({ hasText: 'Your password is changed.' }).waitFor()

  // The sign-in form is back: the old password is refused, the new one works, and the other tab follows.
  await reset.fill('wire-auth-sign-in input[name="email"]', email)
  await reset.fill('wire-auth-sign-in input[name="password"]', OLD)
  await reset.click('wire-auth-sign-in button[type="submit"]')
  await reset.locator('wire-auth-sign-in [part~="error"]').filter({ hasText: 'Wrong e-mail or password.' }).waitFor()
  await reset.fill('wire-auth-sign-in input[name="password"]', NEW)
  await reset.click('wire-auth-sign-in button[type="submit"]')
  await reset.locator('wire-auth-sign-in [part~="signed-in"]').waitFor()
  await home.locator('wire-auth-user-button [part~="name"]').waitFor()

  // The same link again (signed in: the token is the proof either way): refused by the server, with its message.
  const again = await context.newPage()
  await again.goto(link)
  await again.fill('wire-auth-sign-in input[name="password"]', 'yet another long passphrase')
  await again.click('wire-auth-sign-in button[type="submit"]')
  await again.locator('wire-auth-sign-in [part~="error"]').filter({ hasText: 'This link is not valid any more. Ask for a new one.' }).waitFor()
  await context.close()
})

it('with requireVerifiedEmail, sign-up says to open the mailed link first, and signing in before that says why it is refused', async () => {
  const context = await browser.newContext()
  const p = await context.newPage()
  await p.goto(strict.url)
  const email = `strict.${process.pid}.${Date.now().toString(36)}@example.test`
  await p.fill('wire-auth-sign-in input[name="email"]', email)
  await p.fill('wire-auth-sign-in input[name="password"]', OLD)
  await p.click('wire-auth-sign-in button[type="submit"]')
  await p.locator('wire-auth-sign-in [part~="status"]').filter({ hasText: 'open the link we mailed you' }).waitFor()
  await smtp.waitFor(email, (m) => m.subject === 'Confirm your e-mail address')
  // Still anonymous; the form is the sign-in form now.
  await p.locator('wire-auth-user-button [part~="sign-in"]').waitFor()
  await p.fill('wire-auth-sign-in input[name="email"]', email)
  await p.fill('wire-auth-sign-in input[name="password"]', OLD)
  await p.click('wire-auth-sign-in button[type="submit"]')
  await p.locator('wire-auth-sign-in [part~="error"]').filter({ hasText: 'Confirm your e-mail address first' }).waitFor()
  await context.close()
})
