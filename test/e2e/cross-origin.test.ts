import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { launchChromium, markDocument, newVisitor, register, screenshot, settled, signIn, stillSameDocument } from './support/browser.js'
import { startDemo, type DemoServer } from './support/demo-server.js'

let demo: DemoServer
let browser: Browser

beforeAll(async () => {
  demo = await startDemo()
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await demo?.stop()
})

it('works on a host page served from another origin than the backend', async () => {
  expect(new URL(demo.hostUrl).origin).not.toBe(new URL(demo.url).origin)

  // Anonymous: the partner page shows its own else content.
  const visitor = await newVisitor(browser)
  const anonymous = await visitor.newPage()
  await anonymous.goto(demo.hostUrl)
  await settled(anonymous)
  await anonymous.getByTestId('host-anonymous').waitFor()
  await visitor.close()

  // Signed in on the backend, the same browser sees its regions on the partner page.
  const context = await newVisitor(browser)
  const page = await context.newPage()
  const sockets: string[] = []
  page.on('websocket', (socket) => sockets.push(socket.url()))
  const user = { name: 'Noor Haddad', email: 'noor@example.com', password: 'correct horse battery staple' }
  await register(page, demo.url, user)
  await page.goto(demo.hostUrl)
  await settled(page)
  await page.getByTestId('hello-card').waitFor()
  expect(await page.getByTestId('hello-card').textContent()).toContain('Noor Haddad')
  expect(await page.getByTestId('hello-card').textContent()).toContain(new URL(demo.hostUrl).origin)
  expect(sockets.some((url) => url.startsWith(`${demo.url.replace(/^http/, 'ws')}/auth/live`))).toBe(true)
  await page.getByTestId('host-beta-else').waitFor()
  await markDocument(page)

  // A grant by the admin reaches the partner page live, too.
  const adminContext = await newVisitor(browser)
  const admin = await adminContext.newPage()
  await signIn(admin, demo.url, demo.admin)
  await admin.goto(`${demo.url}/admin`)
  const row = admin.locator(`tr[data-email="${user.email}"]`)
  await row.waitFor({ timeout: 15_000 })
  await row.locator('button[data-action="grant-claim"][data-value="beta"]').click()

  await page.getByTestId('beta-panel').waitFor({ timeout: 10_000 })
  expect(await stillSameDocument(page)).toBe(true)
  await screenshot(page, 'partner-site')
  await adminContext.close()
  await context.close()
})
