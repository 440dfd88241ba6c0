import { api, assert, env, loadBundle, mount, nextEvent, openFrame, registerUser, waitFor } from './helpers.js'

// The UI elements against the real test backend on another origin (CORS, allowed origin, cookies
// same-site): the page loads only /wire-auth.js, which fetches /wire-auth-ui.js by itself.
const shadow = (element, selector) => element.shadowRoot?.querySelector(selector) ?? null
const nameIn = (root) => {
  const button = root.querySelector('wire-auth-user-button')
  return button?.shadowRoot?.querySelector('[part~="name"]')?.textContent ?? null
}

async function fill(signIn, fields) {
  await waitFor(() => shadow(signIn, 'form'), 'the sign-in form')
  for (const [name, value] of Object.entries(fields)) shadow(signIn, `input[name="${name}"]`).value = value
  shadow(signIn, 'button[type="submit"]').click()
}

describe('UI elements (wire-auth-ui.js)', () => {
  let ui

  before(async () => {
    await api('/auth/logout', {})
    await loadBundle()
    ui = await import(`${env.backend}/wire-auth-ui.js`)
  })

  afterEach(async () => {
    for (const container of document.querySelectorAll('body > div, body > iframe')) container.remove()
  })

  it('safeReturnTo keeps same-origin paths and refuses everything the server refuses', () => {
    assert.equal(ui.safeReturnTo('/docs?x=1#top'), '/docs?x=1#top')
    assert.equal(ui.safeReturnTo(`${location.origin}/a/../b`), '/b')
    for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '/%2F%2Fevil.example', ' /x', 'http:evil.example', '', null, undefined]) {
      assert.equal(ui.safeReturnTo(bad), null, `for ${JSON.stringify(bad)}`)
    }
    // Never back to the sign-in page itself.
    assert.equal(ui.safeReturnTo('/login', '/login'), null)
    assert.equal(typeof ui.resolveSafeRedirect, 'function')
  })

  it('sign-up on another origin signs in the page and the other "tab" live; a wrong password says so', async () => {
    const frame = await openFrame('<wire-auth-user-button></wire-auth-user-button>')
    const container = mount('<wire-auth-user-button></wire-auth-user-button><wire-auth-sign-in></wire-auth-sign-in>')
    const signIn = container.querySelector('wire-auth-sign-in')
    await waitFor(() => shadow(container.querySelector('wire-auth-user-button'), '[part~="sign-in"]'), 'the "Sign in" link')
    const framed = frame.contentDocument.querySelector('wire-auth-user-button')
    await waitFor(() => shadow(framed, '[part~="sign-in"]'), 'the "Sign in" link in an about:srcdoc frame (it resolves against document.baseURI)')

    await waitFor(() => shadow(signIn, '[part~="switch"]'), 'the switch')
    shadow(signIn, '[part~="switch"]').click()
    await signIn.updateComplete
    const email = `ui-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@example.test`
    const signedIn = nextEvent(signIn, 'wire-auth-signed-in')
    await fill(signIn, { name: 'Hedy Lamarr', email, password: 'correct horse battery staple 42' })
    const event = await signedIn
    assert.equal(event.detail.user.name, 'Hedy Lamarr')
    await waitFor(() => nameIn(container) === 'Hedy Lamarr', 'the user button to show the name')
    await waitFor(() => nameIn(frame.contentDocument) === 'Hedy Lamarr', 'the other document to follow the sign-in')

    await api('/auth/logout', {})
    await waitFor(() => shadow(signIn, 'form'), 'the form after signing out')
    shadow(signIn, 'input[name="password"]').value = ''
    await fill(signIn, { email, password: 'a wrong password, clearly' })
    await waitFor(() => shadow(signIn, '[part~="error"]')?.textContent === 'Wrong e-mail or password.', 'the wrong-password message')
    assert.equal(shadow(signIn, '[part~="error"]').getAttribute('role'), 'alert')
  })

  it('offers only what the server does: no "Forgot your password?", passkey or e-mail change without mail or passkeys', async () => {
    const capabilities = await api('/auth/account/capabilities')
    assert.equal(capabilities.passwordReset, false)
    assert.equal(capabilities.passkeys, false)
    assert.equal(capabilities.emailChange, false)
    const container = mount('<wire-auth-sign-in></wire-auth-sign-in>')
    const signIn = container.querySelector('wire-auth-sign-in')
    await waitFor(() => shadow(signIn, '[part~="switch"]'), 'the sign-in form')
    await signIn.updateComplete
    assert.equal(shadow(signIn, '[part~="forgot"]'), null)
    assert.equal(shadow(signIn, '[part~="passkey"]'), null)

    await registerUser('Cap Abilities')
    WireAuthReconnect()
    const accountEl = mount('<wire-auth-account></wire-auth-account>').querySelector('wire-auth-account')
    await waitFor(() => shadow(accountEl, '[part~="password-form"]') && shadow(accountEl, '[part~="session"]'), 'the sessions and the change-password form (passwordChange is always on)')
    for (const part of ['add-passkey', 'passkeys', 'email-form', 'identities']) assert.equal(shadow(accountEl, `[part~="${part}"]`), null, part)
    await api('/auth/logout', {})
  })

  it('offers no form asking for the current password to an account without one', async () => {
    await api('/test/sign-in', { name: 'No Password' })
    WireAuthReconnect()
    const accountEl = mount('<wire-auth-account></wire-auth-account>').querySelector('wire-auth-account')
    await waitFor(() => shadow(accountEl, '[part~="session"]'), 'the sessions (loaded with the identities)')
    await accountEl.updateComplete
    assert.equal(shadow(accountEl, '[part~="password-form"]'), null)
    await api('/auth/logout', {})
  })

  it('<wire-auth-signed-out> shows its content only while nobody is signed in', async () => {
    const container = mount('<wire-auth-signed-out hidden><p>Create an account</p></wire-auth-signed-out>')
    const region = container.querySelector('wire-auth-signed-out')
    await waitFor(() => !region.hidden, 'the region to show for an anonymous visitor')
    await api('/test/sign-in', { name: 'Ida' })
    WireAuthReconnect()
    await waitFor(() => region.hidden, 'the region to hide once signed in')
    await api('/auth/logout', {})
    await waitFor(() => !region.hidden, 'the region to show again after sign-out')
  })
})

/** After signing in with fetch: the page's socket picks up the new cookie. */
function WireAuthReconnect() {
  return import(`${env.backend}/wire-auth.js`).then((m) => m.WireAuth.reconnect())
}
