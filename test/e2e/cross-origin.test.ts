import { expect, it } from 'vitest'
import { markDocument, newVisitor, register, screenshot, settled, signIn, stillSameDocument } from './support/browser.js'
import { demoInChromium } from './support/demo-server.js'

const e2e = demoInChromium()

it('works on a host page served from another origin than the backend', async () => {
  expect(new URL(e2e.demo.hostUrl).origin).not.toBe(new URL(e2e.demo.url).origin)

  // Anonymous: the partner page shows its own else content.
  const visitor = await newVisitor(e2e.browser)
  const anonymous = await visitor.newPage()
  await anonymous.goto(e2e.demo.hostUrl)
  await settled(anonymous)
  await anonymous.getByTestId('host-anonymous').waitFor()
  await visitor.close()

  // Signed in on the backend, the same browser sees its regions on the partner page.
  const context = await newVisitor(e2e.browser)
  const page = await context.newPage()
  const sockets: string[] = []
  page.on('websocket', (socket) => sockets.push(socket.url()))
  const user = { name: 'Noor Haddad', email: 'noor@example.com', password: 'correct horse battery staple' }
  await register(page, e2e.demo.url, user)
  await page.goto(e2e.demo.hostUrl)
  await settled(page)
  await page.getByTestId('hello-card').waitFor()
  expect(await page.getByTestId('hello-card').textContent()).toContain('Noor Haddad')
  expect(await page.getByTestId('hello-card').textContent()).toContain(new URL(e2e.demo.hostUrl).origin)
  expect(sockets.some((url) => url.startsWith(`${e2e.demo.url.replace(/^http/, 'ws')}/auth/live`))).toBe(true)
  await page.getByTestId('host-beta-else').waitFor()
  await markDocument(page)

  // A grant by the admin reaches the partner page live, too.
  const adminContext = await newVisitor(e2e.browser)
  const admin = await adminContext.newPage()
  await signIn(admin, e2e.demo.url, e2e.demo.admin)
  await admin.goto(`${e2e.demo.url}/admin`)
  const row = admin.locator(`tr[data-email="${user.email}"]`)
  await row.waitFor({ timeout: 15_000 })
  await row.locator('button[data-action="grant-claim"][data-value="beta"]').click()

  await page.getByTestId('beta-panel').waitFor({ timeout: 10_000 })
  expect(await stillSameDocument(page)).toBe(true)
  await screenshot(page, 'partner-site')
  await adminContext.close()
  await context.close()
})
