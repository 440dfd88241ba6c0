// A minimal "browser" on top of fetch for driving OpenID logins without
// Chromium: a cookie jar that behaves like a browser's (cookies are scoped
// by host and path, not by port; Max-Age/Expires honoured), manual redirects,
// and the oidc-provider dev-interaction forms. Types: ./oidc-provider-browser.d.mts.

function parseSetCookie(header, requestUrl) {
  const [pair, ...attributes] = header.split(';')
  const eq = pair.indexOf('=')
  if (eq <= 0) return null
  const cookie = {
    name: pair.slice(0, eq).trim(),
    value: pair.slice(eq + 1).trim(),
    host: requestUrl.hostname,
    path: requestUrl.pathname.replace(/\/[^/]*$/, '') || '/',
    expiresAt: Infinity,
    httpOnly: false,
    sameSite: undefined,
  }
  for (const attribute of attributes) {
    const at = attribute.indexOf('=')
    const key = (at === -1 ? attribute : attribute.slice(0, at)).trim().toLowerCase()
    const value = at === -1 ? '' : attribute.slice(at + 1).trim()
    if (key === 'path' && value.startsWith('/')) cookie.path = value
    else if (key === 'max-age') cookie.expiresAt = Date.now() + Number(value) * 1000
    else if (key === 'expires' && cookie.expiresAt === Infinity) cookie.expiresAt = Date.parse(value)
    else if (key === 'httponly') cookie.httpOnly = true
    else if (key === 'samesite') cookie.sameSite = value.toLowerCase()
  }
  return cookie
}

function pathMatches(cookiePath, requestPath) {
  if (requestPath === cookiePath) return true
  if (!requestPath.startsWith(cookiePath)) return false
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'
}

/** A cookie jar shared across ports of one host, as browsers do. */
export class CookieJar {
  #cookies = new Map()

  /** Stores every Set-Cookie of `response` received for `url`. */
  store(url, response) {
    const requestUrl = new URL(url)
    for (const header of response.headers.getSetCookie()) {
      const cookie = parseSetCookie(header, requestUrl)
      if (cookie === null) continue
      const key = `${cookie.host}\u0000${cookie.path}\u0000${cookie.name}`
      if (cookie.expiresAt <= Date.now()) this.#cookies.delete(key)
      else this.#cookies.set(key, cookie)
    }
  }

  /** The `Cookie` header value for `url`, or undefined. */
  header(url) {
    const { hostname, pathname } = new URL(url)
    const now = Date.now()
    const pairs = []
    for (const [key, cookie] of this.#cookies) {
      if (cookie.expiresAt <= now) {
        this.#cookies.delete(key)
        continue
      }
      if (cookie.host === hostname && pathMatches(cookie.path, pathname)) pairs.push(`${cookie.name}=${cookie.value}`)
    }
    return pairs.length > 0 ? pairs.join('; ') : undefined
  }

  /** Every stored cookie (copies). */
  all() {
    return [...this.#cookies.values()].map((cookie) => ({ ...cookie }))
  }

  /** The value of the cookie `name` (any host/path), or undefined. */
  get(name) {
    return this.all().find((cookie) => cookie.name === name)?.value
  }

  /** Sets (or replaces) a cookie, e.g. to plant or tamper with one. */
  set(name, value, { host = '127.0.0.1', path = '/' } = {}) {
    this.#cookies.set(`${host}\u0000${path}\u0000${name}`, { name, value, host, path, expiresAt: Infinity, httpOnly: true, sameSite: 'lax' })
  }

  /** Removes every cookie named `name`. */
  delete(name) {
    for (const [key, cookie] of this.#cookies) if (cookie.name === name) this.#cookies.delete(key)
  }

  /** A copy of this jar (to replay a request with yesterday's cookies). */
  clone() {
    const copy = new CookieJar()
    for (const cookie of this.all()) copy.#cookies.set(`${cookie.host}\u0000${cookie.path}\u0000${cookie.name}`, cookie)
    return copy
  }
}

/** fetch with a cookie jar and manual redirects. */
export class TestBrowser {
  constructor(jar = new CookieJar()) {
    this.jar = jar
  }

  /** One request (no redirect following); cookies sent and stored. */
  async request(url, init = {}) {
    const headers = new Headers(init.headers)
    const cookie = this.jar.header(url)
    if (cookie !== undefined && !headers.has('cookie')) headers.set('cookie', cookie)
    const response = await fetch(url, { ...init, headers, redirect: 'manual' })
    this.jar.store(url, response)
    return response
  }

  /**
   * Follows redirects from `url` until a non-redirect response, or until
   * the next URL satisfies `stopAt` (which is then returned unfetched).
   * Returns the last response, its URL, and `next` when stopped.
   */
  async navigate(url, { stopAt, maxRedirects = 20, init } = {}) {
    let current = String(url)
    let requestInit = init
    for (let hop = 0; hop <= maxRedirects; hop++) {
      if (stopAt?.(new URL(current)) && hop > 0) return { response: null, url: current, next: current }
      const response = await this.request(current, requestInit)
      requestInit = undefined
      const location = response.headers.get('location')
      if (response.status >= 300 && response.status < 400 && location !== null) {
        await response.arrayBuffer()
        current = new URL(location, current).href
        continue
      }
      return { response, url: current, next: null }
    }
    throw new Error(`too many redirects from ${url}`)
  }
}

function formOf(html, baseUrl) {
  const form = /<form[^>]*action="([^"]+)"[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/i.exec(html)
  if (form === null) return null
  const fields = {}
  for (const input of form[2].matchAll(/<input[^>]*>/gi)) {
    const name = /name="([^"]+)"/.exec(input[0])?.[1]
    if (name !== undefined) fields[name] = /value="([^"]*)"/.exec(input[0])?.[1] ?? ''
  }
  const action = form[1].replace(/&amp;/g, '&').replace(/&#x2F;/gi, '/').replace(/&#47;/g, '/')
  return { action: new URL(action, baseUrl).href, fields }
}

/**
 * Drives a login from `startUrl` (e.g. the backend's `/auth/demo/login`)
 * through oidc-provider's dev interactions (login form, then consent) and
 * stops before the redirect back to the relying party: the returned
 * `callbackUrl` is the provider's redirect (`…/callback?code=…&state=…`),
 * not yet fetched, so a test can fetch, replay or tamper with it.
 * A returning user with a provider session and consent skips the forms.
 */
export async function driveProviderLogin(browser, startUrl, { login = 'alice', password = 'any', isCallback = (url) => url.pathname.endsWith('/callback'), maxSteps = 10 } = {}) {
  let step = await browser.navigate(startUrl, { stopAt: isCallback })
  const forms = []
  for (let i = 0; i < maxSteps; i++) {
    if (step.next !== null) return { callbackUrl: step.next, forms }
    const html = await step.response.text()
    const form = formOf(html, step.url)
    if (form === null || !('prompt' in form.fields)) {
      throw new Error(`login stopped at ${step.url} (HTTP ${step.response.status}): ${html.slice(0, 300)}`)
    }
    const body = new URLSearchParams(form.fields)
    if (form.fields.prompt === 'login') {
      body.set('login', login)
      body.set('password', password)
    }
    forms.push(form.fields.prompt)
    step = await browser.navigate(form.action, {
      stopAt: isCallback,
      init: { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    })
  }
  throw new Error('too many interaction steps')
}
