import type { Browser } from 'playwright-core'
import { html } from '@wire-auth/core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { linkToken, startSmtpServer, type TestSmtpServer } from '../support/smtp-server.js'
import { launchChromium, markDocument, newVisitor, settled, stillSameDocument } from './support/browser.js'
import { startE2eApp, type E2eApp } from './support/e2e-app.js'

// Issue 18 end to end: sign up in Chromium → the verification mail is
// delivered through a real SMTP server (smtp-server) → the link is followed
// in a third tab → a region guarded on email_verified opens live in the two
// tabs already open, without a reload. The built packages, a real SQLite file.

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>verify</title>
<script type="module" src="/wire-auth.js"></script></head><body>
<wire-auth-region fragment="verified-panel">
  <p slot="pending">checking…</p>
  <p slot="else" data-testid="unverified">Confirm your e-mail address to open this.</p>
</wire-auth-region>
</body></html>`

// What a site's (or the ui elements') verification page does: post the token from the fragment.
const VERIFY_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>verify e-mail</title></head><body>
<p id="result">working…</p>
<script type="module">
  const token = new URLSearchParams(location.hash.slice(1)).get('token')
  const response = await fetch('/auth/account/verify-email', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) })
  const body = await response.json()
  document.getElementById('result').textContent = response.ok ? 'verified ' + body.user.email : 'refused ' + body.error.code
</script></body></html>`

let smtp: TestSmtpServer
let backend: E2eApp
let browser: Browser

beforeAll(async () => {
  smtp = await startSmtpServer()
  backend = await startE2eApp(
    { localIdp: true, mail: { transport: smtp.url, from: 'no-reply@example.test' } },
    {
      setup(app) {
        app.fragment('verified-panel', { claims: [['email_verified', 'true']] }, ({ user }) => html`<p data-testid="verified">Welcome, ${user.name}: your address is verified.</p>`)
        app.get('/', async (_request, reply) => reply.type('text/html').send(PAGE))
        app.get('/account/verify-email', async (_request, reply) => reply.type('text/html').send(VERIFY_PAGE))
      },
    },
  )
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await backend?.close()
  await smtp?.close()
})

it('sign up → mail through SMTP → follow the link → the email_verified region opens live in two open tabs', async () => {
  const context = await newVisitor(browser)
  const first = await context.newPage()
  await first.goto(backend.url)
  const email = `e2e.${process.pid}@example.test`
  const status = await first.evaluate(async (address) => {
    const response = await fetch('/auth/local/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: address, password: 'a long and unusual passphrase', name: 'Noor' }) })
    return response.status
  }, email)
  expect(status).toBe(201)
  await first.reload()
  const second = await context.newPage()
  await second.goto(backend.url)
  for (const page of [first, second]) {
    await settled(page)
    await page.getByTestId('unverified').waitFor()
    await markDocument(page)
  }

  const mail = await smtp.waitFor(email, (m) => m.subject === 'Confirm your e-mail address')
  const link = /https?:\/\/\S+#token=[A-Za-z0-9_-]{43}/.exec(mail.text)![0]
  expect(link.startsWith(`${backend.url}/account/verify-email#token=`)).toBe(true)
  const third = await context.newPage()
  await third.goto(link)
  await third.locator('#result', { hasText: 'verified' }).waitFor()

  for (const page of [first, second]) {
    await page.getByTestId('verified').waitFor({ timeout: 10_000 })
    expect(await page.getByTestId('verified').textContent()).toContain('Noor')
    expect(await stillSameDocument(page)).toBe(true)
  }

  // The same link a second time: refused.
  await third.goto(`${backend.url}/`)
  await third.goto(link)
  await third.locator('#result', { hasText: 'refused ERR_LINK_INVALID' }).waitFor()
  expect(linkToken(mail)).toHaveLength(43)
  await context.close()
})
