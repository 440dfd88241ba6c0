// Shared helpers of the browser tests. The backend is real (see
// test/backend/server.mjs); these helpers only talk to it.
import env from '/__wire-auth/env.js'

export { env }

/** Loads the bundle the way a site does: from the backend's origin. */
export function loadBundle() {
  return import(`${env.backend}/wire-auth.js`)
}

/** Minimal assertions (no test dependency on chai). */
export const assert = {
  ok(value, message = 'expected a truthy value') {
    if (!value) throw new Error(message)
  },
  equal(actual, expected, message = '') {
    if (actual !== expected) throw new Error(`${message} expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`)
  },
  deepEqual(actual, expected, message = '') {
    const a = JSON.stringify(actual)
    const b = JSON.stringify(expected)
    if (a !== b) throw new Error(`${message} expected ${b}, got ${a}`)
  },
}

/** Polls `predicate` until it returns a truthy value (a wait, not a timing assertion). */
export async function waitFor(predicate, what = 'condition', timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await predicate()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** The next `type` event on `target`. */
export function nextEvent(target, type) {
  return new Promise((resolve) => target.addEventListener(type, resolve, { once: true }))
}

/** JSON request to the backend with the page's cookies. */
export async function api(path, body, init = {}) {
  const response = await fetch(`${env.backend}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    credentials: 'include',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    ...init,
  })
  const text = await response.text()
  const json = text === '' ? null : JSON.parse(text)
  if (!response.ok) throw new Error(`${path} answered ${response.status} ${text.slice(0, 200)}`)
  return json
}

let counter = 0

/** Signs the page in as a fresh user (test-only route: no argon2 on 2 shared cores). */
export async function signIn(name = 'Ada') {
  const { user } = await api('/test/sign-in', { name })
  return user
}

/** Registers a fresh user through the real local IdP; the page is then signed in as them. */
export async function registerUser(name = 'Ada') {
  const email = `user-${Date.now().toString(36)}-${++counter}-${Math.random().toString(36).slice(2, 8)}@example.test`
  const password = 'correct horse battery staple 42'
  const { user } = await api('/auth/local/register', { email, password, name })
  return { ...user, email, password }
}

/** Server-side counters of the test backend. */
export const stats = () => api('/test/stats')
export const resetStats = () => api('/test/stats/reset', {})

/** Mounts `markup` in a fresh container of this document. */
export function mount(markup) {
  const container = document.createElement('div')
  container.innerHTML = markup
  document.body.append(container)
  return container
}

/**
 * A second "tab": an iframe document with its own copy of the bundle and so
 * its own socket, sharing the cookie jar with this page.
 */
export async function openFrame(markup) {
  const frame = document.createElement('iframe')
  frame.srcdoc = `<!doctype html><script type="module" src="${env.backend}/wire-auth.js"></script>${markup}`
  const loaded = nextEvent(frame, 'load')
  document.body.append(frame)
  await loaded
  return frame
}

/**
 * Opens `src` (a page of the backend's foreign origin) in an iframe and
 * resolves `report` with the first message it posts whose data has `key`.
 * Remove the frame when done.
 */
export function openForeignPage(src, key) {
  const frame = document.createElement('iframe')
  const report = new Promise((resolve) => {
    window.addEventListener('message', function onMessage(event) {
      if (event.data?.[key]) {
        window.removeEventListener('message', onMessage)
        resolve(event.data)
      }
    })
  })
  frame.src = src
  document.body.append(frame)
  return { frame, report }
}

/** Waits until `element` (a guard or region) left `pending`. */
export function settled(element) {
  return waitFor(() => element.getAttribute('status') !== 'pending' && element.getAttribute('status') !== null, `${element.localName} to settle`)
}
