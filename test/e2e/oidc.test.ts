import { expect, it } from 'vitest'
import { authState, newVisitor, settled } from './support/browser.js'
import { demoInChromium } from './support/demo-server.js'

const e2e = demoInChromium()

it('signs in through the Demo OpenID provider (oidc-provider on loopback) and back to the page it started from', async () => {
  const context = await newVisitor(e2e.browser)
  const page = await context.newPage()
  await page.goto(`${e2e.demo.url}/account`)
  await page.waitForURL((url) => url.pathname === '/login')

  const button = page.locator('a[data-provider="demo"]')
  expect(await button.textContent()).toBe('Sign in with Demo OpenID')
  const issuer = new URL(/Demo OpenID provider:\s+(http:\/\/\S+)/.exec(e2e.demo.output())?.[1] ?? 'http://missing')
  await Promise.all([page.waitForURL((url) => url.origin === issuer.origin), button.click()])

  // oidc-provider's development interactions: a login form (any login and
  // password), then a consent form.
  await page.fill('input[name="login"]', 'grace')
  await page.fill('input[name="password"]', 'any password')
  await page.click('button[type="submit"]')
  await page.waitForURL((url) => url.origin !== issuer.origin || /consent|interaction/.test(url.pathname))
  if (new URL(page.url()).origin === issuer.origin) await page.click('button[type="submit"]')

  await page.waitForURL(`${e2e.demo.url}/account`, { timeout: 15_000 })
  await page.getByTestId('account').waitFor()
  expect(await page.getByTestId('account').textContent()).toContain('Grace Hopper')
  expect(await page.getByTestId('account').textContent()).toContain('email=grace@example.test')

  await page.goto(`${e2e.demo.url}/`)
  await settled(page)
  expect(await authState(page)).toBe('authenticated')
  await page.locator('header wire-auth-user-button [part~="name"]').waitFor()
  expect(await page.locator('header wire-auth-user-button [part~="name"]').textContent()).toBe('Grace Hopper')
  await context.close()
})
