import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { expect } from 'vitest'

export const SCREENSHOTS = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url))

/** Chromium from the system, headless, with nothing that reaches the internet. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
}

/** A fresh browser profile (its own cookies), at a README-friendly size. */
export async function newVisitor(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 820 }, deviceScaleFactor: 1 })
  // E2E_DEBUG=1: the pages' console, errors and failed responses on stderr.
  if (process.env.E2E_DEBUG === '1') {
    context.on('console', (message) => console.error(`[console ${message.type()}] ${message.page()?.url()} ${message.text()}`))
    context.on('weberror', (error) => console.error(`[page error] ${error.error().message}`))
    context.on('response', (response) => response.status() >= 400 && console.error(`[http ${response.status()}] ${response.url()}`))
  }
  return context
}

/** Saves a screenshot of `page` as docs/screenshots/<name>.png (E2E_SCREENSHOTS=0 skips). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.E2E_SCREENSHOTS === '0') return
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true, animations: 'disabled' })
}

/** Waits until no wire-auth element of the page is still pending. */
export async function settled(page: Page, timeout = 15_000): Promise<void> {
  await page.waitForFunction(
    () => {
      const elements = [...document.querySelectorAll('wire-auth-region, wire-auth-guard')]
      return elements.every((element) => element.getAttribute('status') !== null && element.getAttribute('status') !== 'pending')
    },
    undefined,
    { timeout },
  )
}

/** Who the page's header says is signed in (`data-auth` on <html>). */
export async function authState(page: Page): Promise<string | null> {
  return page.evaluate(() => document.documentElement.dataset.auth ?? null)
}

/** Marks the document; `stillSameDocument` is false after any reload or navigation. */
export async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => {
    ;(window as unknown as { __e2eMark: boolean }).__e2eMark = true
  })
}

export async function stillSameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __e2eMark?: boolean }).__e2eMark === true)
}

/** Registers through the demo's login page; ends signed in on `/`. */
export async function register(page: Page, baseUrl: string, user: { name: string; email: string; password: string }): Promise<void> {
  await page.goto(`${baseUrl}/login`)
  // <wire-auth-sign-in> (its shadow root is open: Playwright's CSS selectors pierce it).
  await page.locator('wire-auth-sign-in [part~="switch"]').click()
  await page.fill('wire-auth-sign-in input[name="name"]', user.name)
  await page.fill('wire-auth-sign-in input[name="email"]', user.email)
  await page.fill('wire-auth-sign-in input[name="password"]', user.password)
  await Promise.all([page.waitForURL(`${baseUrl}/`), page.click('wire-auth-sign-in button[type="submit"]')])
}

/** Signs in through the demo's login page (already on it, or from `/login`). */
export async function signIn(page: Page, baseUrl: string, user: { email: string; password: string }, { goto = true } = {}): Promise<void> {
  if (goto) await page.goto(`${baseUrl}/login`)
  await page.locator('wire-auth-sign-in form').waitFor()
  await page.fill('wire-auth-sign-in input[name="email"]', user.email)
  await page.fill('wire-auth-sign-in input[name="password"]', user.password)
  const before = page.url()
  await Promise.all([page.waitForURL((url) => url.href !== before && url.pathname !== '/login'), page.click('wire-auth-sign-in button[type="submit"]')])
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/**
 * axe-core finds no violation on the page, or in the part `within` selects.
 * axe is evaluated through the DevTools protocol, so the page's CSP stays on.
 */
export async function axeClean(page: Page, state: string, within?: string): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE)
  const violations = await page.evaluate(async (within) => {
    const axe = (window as unknown as { axe: { run(c: unknown, o: unknown): Promise<{ violations: unknown[] }> } }).axe
    const found = (await axe.run(within === undefined ? document : { include: [[within]] }, { resultTypes: ['violations'] })).violations as Array<{ id: string; nodes: Array<{ target: string[] }> }>
    return found.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  }, within)
  expect(violations, state).toEqual([])
}
