import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { authState, markDocument, newVisitor, register, screenshot, settled, signIn, stillSameDocument } from './support/browser.js'
import { demoInChromium } from './support/demo-server.js'

// Text that exists only in the admin console fragment, never in a static file.
const ADMIN_MARKERS = ['User management', 'admin-users-table']
const PASSWORD = 'correct horse battery staple'

const e2e = demoInChromium()

/** Signs the admin in (own browser profile) and opens the admin page. */
async function openAdmin(): Promise<Page> {
  const context = await newVisitor(e2e.browser)
  const page = await context.newPage()
  await page.goto(`${e2e.demo.url}/admin`)
  await page.waitForURL((url) => url.pathname === '/login')
  await signIn(page, e2e.demo.url, e2e.demo.admin, { goto: false })
  await page.waitForURL(`${e2e.demo.url}/admin`)
  await page.locator('[data-marker="admin-users-table"]').waitFor({ timeout: 15_000 })
  return page
}

async function adminRow(admin: Page, email: string) {
  const row = admin.locator(`tr[data-email="${email}"]`)
  await row.waitFor({ timeout: 15_000 })
  return row
}

describe('the demo, driven by Chromium', () => {
  it('registers a newcomer, signs them in again, and opens the guarded account page', async () => {
    const context = await newVisitor(e2e.browser)
    const page = await context.newPage()

    await page.goto(`${e2e.demo.url}/`)
    await settled(page)
    expect(await authState(page)).toBe('anonymous')
    await page.getByTestId('beta-else').waitFor()
    expect(await page.locator('[data-doc="welcome"] .locked').isVisible()).toBe(true)
    await screenshot(page, 'home-signed-out')

    await page.goto(`${e2e.demo.url}/login`)
    await page.locator('a[data-provider="demo"]').waitFor()
    await screenshot(page, 'login')

    const user = { name: 'Lin Park', email: 'lin@example.com', password: PASSWORD }
    await register(page, e2e.demo.url, user)
    await settled(page)
    expect(await authState(page)).toBe('authenticated')
    await page.locator('header wire-auth-user-button [part~="name"]').waitFor()
    expect(await page.locator('header wire-auth-user-button [part~="name"]').textContent()).toBe('Lin Park')
    expect(await page.locator('[data-doc="welcome"] wire-auth-region.doc-body').textContent()).toContain('Coffee is on the second floor')
    expect(await page.locator('[data-doc="board-minutes"] wire-auth-region.doc-body').getAttribute('status')).toBe('denied')

    // Signing out turns this tab anonymous over its socket, without a reload.
    await markDocument(page)
    await page.click('header wire-auth-user-button [part~="button"]')
    await page.click('header wire-auth-user-button [role="menuitem"]:has-text("Sign out")')
    await page.waitForFunction(() => document.documentElement.dataset.auth === 'anonymous')
    await page.waitForFunction(() => document.querySelector('[data-doc="welcome"] wire-auth-region.doc-body')?.getAttribute('status') === 'denied')
    expect(await stillSameDocument(page)).toBe(true)

    // The guarded page sends an anonymous visitor to the login page and back.
    await page.goto(`${e2e.demo.url}/account`)
    await page.waitForURL((url) => url.pathname === '/login')
    expect(new URL(page.url()).searchParams.get('returnTo') ?? '').toContain('/account')
    await signIn(page, e2e.demo.url, user, { goto: false })
    await page.waitForURL(`${e2e.demo.url}/account`)
    await page.getByTestId('account').waitFor()
    await page.locator('wire-auth-account [part~="current"]').waitFor()
    expect(await page.locator('wire-auth-account [part~="current"]').textContent()).toBe('This device')
    expect(await page.getByTestId('account').textContent()).toContain(user.email)
    await screenshot(page, 'account')
    await context.close()
  })

  it('redirects an anonymous visitor away from /admin without ever sending the console', async () => {
    const context = await newVisitor(e2e.browser)
    const page = await context.newPage()
    const received: string[] = []
    page.on('response', async (response) => {
      try {
        received.push(`${response.url()}\n${(await response.body()).toString('utf8')}`)
      } catch {
        // Redirects and aborted requests have no body.
      }
    })
    page.on('websocket', (socket) => socket.on('framereceived', ({ payload }) => received.push(`${socket.url()}\n${payload.toString()}`)))

    // The server decides before any byte: a plain GET (what curl does) gets 303 and nothing of the page.
    for (const path of ['/admin', '/admin.html']) {
      const plain = await fetch(`${e2e.demo.url}${path}`, { redirect: 'manual', headers: { 'user-agent': 'curl/8.5.0', accept: '*/*' } })
      expect(plain.status).toBe(303)
      expect(plain.headers.get('location')).toBe(`/login?returnTo=${encodeURIComponent(path)}`)
      const body = await plain.text()
      expect(body).toBe('')
    }

    await page.goto(`${e2e.demo.url}/admin`)
    await page.waitForURL((url) => url.pathname === '/login')
    await page.waitForLoadState('networkidle')
    // Positive control: the recorder saw the login page the 303 led to.
    expect(received.some((body) => body.includes('<wire-auth-sign-in'))).toBe(true)
    // Not even the page shell: no guard element, no admin markup.
    expect(received.filter((body) => body.includes('<wire-auth-guard policy="AdminOnly"'))).toEqual([])
    for (const marker of ADMIN_MARKERS) expect(received.filter((body) => body.includes(marker))).toEqual([])

    // A signed-in user without role=admin is turned away the same way.
    const user = { name: 'Sam Reader', email: 'sam@example.com', password: PASSWORD }
    await register(page, e2e.demo.url, user)
    await page.goto(`${e2e.demo.url}/admin`)
    await page.waitForURL((url) => url.pathname !== '/admin')
    await page.waitForLoadState('networkidle')
    for (const marker of ADMIN_MARKERS) expect(received.filter((body) => body.includes(marker))).toEqual([])
    await context.close()
  })

  it('shows the beta region in both open tabs, without a reload, when the admin grants role=beta', async () => {
    const context = await newVisitor(e2e.browser)
    const tabA = await context.newPage()
    const user = { name: 'Rosa Diaz', email: 'rosa@example.com', password: PASSWORD }
    await register(tabA, e2e.demo.url, user)
    const tabB = await context.newPage()
    await tabB.goto(`${e2e.demo.url}/`)
    for (const tab of [tabA, tabB]) {
      await settled(tab)
      await tab.getByTestId('beta-else').waitFor()
      await markDocument(tab)
    }

    const admin = await openAdmin()
    const row = await adminRow(admin, user.email)
    await row.locator('button[data-action="grant-claim"][data-value="beta"]').click()

    for (const tab of [tabA, tabB]) {
      await tab.getByTestId('beta-panel').waitFor({ timeout: 10_000 })
      // The markup written in place on the page arrives too, through the same socket.
      await tab.getByTestId('beta-inplace').waitFor({ timeout: 10_000 })
      expect(await tab.getByTestId('beta-panel').textContent()).toContain('Rosa Diaz')
      // The resource-based region of the same user follows too.
      await tab.waitForFunction(() => document.querySelector('[data-doc="beta-roadmap"] wire-auth-region.doc-body')?.getAttribute('status') === 'allowed')
      expect(await stillSameDocument(tab)).toBe(true)
    }
    await screenshot(tabA, 'home-signed-in-beta')

    await (await adminRow(admin, user.email)).locator('.chip', { hasText: 'role=beta' }).waitFor()
    await screenshot(admin, 'admin')

    // Revoking the claim takes it away again, live.
    // The page as served holds none of the in-place markup, for this beta tester, the admin, or a stranger.
    const stranger = await newVisitor(e2e.browser)
    for (const requester of [context.request, admin.context().request, stranger.request]) {
      const served = await requester.get(`${e2e.demo.url}/`)
      expect(served.status()).toBe(200)
      const body = await served.text()
      expect(body).toContain('beta-notes')
      expect(body).not.toContain('beta-inplace')
      expect(body).not.toContain('nightly')
    }
    await stranger.close()

    await (await adminRow(admin, user.email)).locator('button[data-action="revoke-claim"][data-value="beta"]').first().click()
    for (const tab of [tabA, tabB]) {
      await tab.getByTestId('beta-else').waitFor({ timeout: 10_000 })
      // …and the in-place markup is taken away live as well.
      await tab.getByTestId('beta-inplace').waitFor({ state: 'detached', timeout: 10_000 })
      expect(await stillSameDocument(tab)).toBe(true)
    }
    await admin.context().close()
    await context.close()
  })

  it('updates the handbook in open tabs, live, when the admin changes who may read a document', async () => {
    const context = await newVisitor(e2e.browser)
    const reader = await context.newPage()
    const user = { name: 'Noor Haddad', email: 'noor@example.com', password: PASSWORD }
    await register(reader, e2e.demo.url, user)
    await settled(reader)
    const minutes = '[data-doc="board-minutes"] wire-auth-region.doc-body'
    expect(await reader.locator(minutes).getAttribute('status')).toBe('denied')
    await markDocument(reader)

    const admin = await openAdmin()
    // The admin page: the console, the handbook access table, and the notes written in place.
    await admin.locator('[data-marker="document-access"]').waitFor({ timeout: 15_000 })
    await admin.locator('[data-marker="admin-notes"]').waitFor({ timeout: 15_000 })
    const servedAdmin = await (await admin.context().request.get(`${e2e.demo.url}/admin`)).text()
    expect(servedAdmin).toContain('<h1>Admin</h1>')
    expect(servedAdmin).not.toContain('admin-notes')

    // The handbook bodies are written in place in the home page (one region per item, each with its own
    // params): the page as served holds none of them, not even for the admin who may read them all.
    const servedHome = await (await admin.context().request.get(`${e2e.demo.url}/`)).text()
    for (const text of ['Coffee is on the second floor', 'The board approved', 'Roll back first']) expect(servedHome).not.toContain(text)
    expect((servedHome.match(/fragment="page\./g) ?? []).length).toBeGreaterThanOrEqual(5)

    await admin.selectOption('select[data-doc-id="board-minutes"]', 'signed-in')
    await reader.waitForFunction((selector) => document.querySelector(selector)?.getAttribute('status') === 'allowed', minutes, { timeout: 10_000 })
    expect(await reader.locator(minutes).textContent()).toContain('The board approved the budget')
    await reader.waitForFunction(() => document.querySelector('[data-doc="board-minutes"] .audience')?.textContent?.includes('everyone who is signed in'), undefined, { timeout: 10_000 })

    await admin.locator('select[data-doc-id="board-minutes"]:not([disabled])').waitFor({ timeout: 10_000 })
    await admin.selectOption('select[data-doc-id="board-minutes"]', 'admins')
    await reader.waitForFunction((selector) => document.querySelector(selector)?.getAttribute('status') === 'denied', minutes, { timeout: 10_000 })
    expect(await reader.locator(minutes).textContent()).not.toContain('The board approved')
    expect(await stillSameDocument(reader)).toBe(true)
    await admin.context().close()
    await context.close()
  })

  it("turns both tabs anonymous and redirects the guarded one when the admin ends the user's sessions", async () => {
    const context = await newVisitor(e2e.browser)
    const home = await context.newPage()
    const user = { name: 'Kai Moreno', email: 'kai@example.com', password: PASSWORD }
    await register(home, e2e.demo.url, user)
    const account = await context.newPage()
    await account.goto(`${e2e.demo.url}/account`)
    await account.getByTestId('account').waitFor()
    await settled(home)
    expect(await authState(home)).toBe('authenticated')
    await markDocument(home)
    await markDocument(account)

    const admin = await openAdmin()
    await (await adminRow(admin, user.email)).locator('button[data-action="revoke-sessions"]').click()

    await home.waitForFunction(() => document.documentElement.dataset.auth === 'anonymous', undefined, { timeout: 10_000 })
    await home.waitForFunction(() => document.querySelector('[data-doc="welcome"] wire-auth-region.doc-body')?.getAttribute('status') === 'denied')
    await home.locator('header wire-auth-user-button [part~="sign-in"]').waitFor()
    expect(await stillSameDocument(home)).toBe(true)
    await account.waitForURL((url) => url.pathname === '/login', { timeout: 10_000 })

    // The session is gone for good: a reload stays anonymous.
    await home.reload()
    await settled(home)
    expect(await authState(home)).toBe('anonymous')
    await admin.context().close()
    await context.close()
  })
})
