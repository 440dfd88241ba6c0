import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { authState, launchChromium, newVisitor, settled } from './support/browser.js'
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

it('signs in through the Demo OpenID provider (oidc-provider on loopback) and back to the page it started from', async () => {
  const context = await newVisitor(browser)
  const page = await context.newPage()
  await page.goto(`${demo.url}/account`)
  await page.waitForURL((url) => url.pathname === '/login')

  const button = page.locator('a[data-provider="demo"]')
  expect(await button.textContent()).toBe('Sign in with Demo OpenID')
  const issuer = new URL(/Demo OpenID provider:\s+(http:\/\/\S+)/.exec(demo.output())?.[1] ?? 'http://missing')
  await Promise.all([page.waitForURL((url) => url.origin === issuer.origin), button.click()])

  // oidc-provider's development interactions: a login form (any login and
  // password), then a consent form.
  await page.fill('input[name="login"]', 'grace')
  await page.fill('input[name="password"]', 'any password')
  await page.click('button[type="submit"]')
  await page.waitForURL((url) => url.origin !== issuer.origin || /consent|interaction/.test(url.pathname))
  if (new URL(page.url()).origin === issuer.origin) await page.click('button[type="submit"]')

  await page.waitForURL(`${demo.url}/account`, { timeout: 15_000 })
  await page.getByTestId('account').waitFor()
  expect(await page.getByTestId('account').textContent()).toContain('Grace Hopper')
  expect(await page.getByTestId('account').textContent()).toContain('email=grace@example.test')

  await page.goto(`${demo.url}/`)
  await settled(page)
  expect(await authState(page)).toBe('authenticated')
  await page.locator('header wire-auth-user-button [part~="name"]').waitFor()
  expect(await page.locator('header wire-auth-user-button [part~="name"]').textContent()).toBe('Grace Hopper')
  await context.close()
})
