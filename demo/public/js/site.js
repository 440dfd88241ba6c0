// Shared by every page of the demo: who is signed in (from wire-auth's
// principal context), the header that follows it, and "Sign out".
//
// The principal context is the @lit/context community protocol: an element
// dispatches a `context-request` event and the nearest provider (a
// <wire-auth-guard>/<wire-auth-region>, or the document root) answers and
// keeps calling back when the principal changes. No build step, no Lit
// needed on the page.

const PRINCIPAL_CONTEXT = Symbol.for('wire-auth.principal')

/**
 * Subscribes `callback` to the principal context as seen from `element`.
 * @returns true when a provider answered.
 */
export function consumePrincipal(element, callback) {
  let answered = false
  const event = new Event('context-request', { bubbles: true, composed: true })
  Object.assign(event, {
    context: PRINCIPAL_CONTEXT,
    contextTarget: element,
    subscribe: true,
    callback: (value) => {
      answered = true
      if (value !== undefined) callback(value)
    },
  })
  element.dispatchEvent(event)
  return answered
}

const listeners = new Set()
let current

function publish(summary) {
  current = summary
  document.documentElement.dataset.auth = summary.authenticated ? 'authenticated' : 'anonymous'
  for (const listener of listeners) listener(summary)
}

/** Calls `listener` with the page's principal summary now (if known) and on every change. */
export function onPrincipal(listener) {
  listeners.add(listener)
  if (current !== undefined) listener(current)
  return () => listeners.delete(listener)
}

// Pages with wire-auth elements have a provider at the root by now (the
// bundle's module ran first). Pages without one ask GET /auth/me once.
if (!consumePrincipal(document.body, publish)) {
  fetch('/auth/me', { credentials: 'same-origin' })
    .then((response) => (response.ok ? response.json() : null))
    .then((summary) => summary !== null && current === undefined && publish(summary))
    .catch(() => publish({ authenticated: false, id: null, name: null }))
}
// Connection-level principal changes are also broadcast as events.
document.addEventListener('wire-auth-principal', (event) => publish(event.detail))

/** `<demo-user-name fallback="guest">`: the signed-in user's name, live. */
class DemoUserName extends HTMLElement {
  connectedCallback() {
    const render = (summary) => {
      this.textContent = summary.authenticated ? (summary.name ?? 'you') : (this.getAttribute('fallback') ?? '')
    }
    // Its own subscription: inside a guard or region it sees that element's principal.
    if (!consumePrincipal(this, render)) onPrincipal(render)
  }
}
customElements.define('demo-user-name', DemoUserName)

for (const link of document.querySelectorAll('.nav a')) {
  const path = location.pathname.replace(/\.html$/, '').replace(/\/index$/, '/')
  if (link.getAttribute('href') === path) link.setAttribute('aria-current', 'page')
}

document.addEventListener('click', async (event) => {
  const button = event.target instanceof Element ? event.target.closest('[data-action="sign-out"]') : null
  if (button === null) return
  button.disabled = true
  try {
    await fetch('/auth/logout', { method: 'POST', credentials: 'same-origin' })
  } finally {
    // The socket turns anonymous by itself; a page that stays signed in
    // (no socket, or no wire-auth element) is reloaded.
    setTimeout(() => {
      if (current?.authenticated !== false) location.reload()
      button.disabled = false
    }, 1500)
  }
})
