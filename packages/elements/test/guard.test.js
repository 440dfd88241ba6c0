import { api, assert, env, loadBundle, mount, openFrame, resetStats, settled, signIn, stats, waitFor } from './helpers.js'

/**
 * The iframe's path once its document has loaded, or null while it is
 * cross-origin or still navigating (the location changes before the new
 * document is parsed: waiting on the path alone raced the login page's DOM).
 */
function framePath(frame) {
  try {
    return frame.contentDocument.readyState === 'complete' ? frame.contentWindow.location.pathname : null
  } catch {
    return null
  }
}

describe('<wire-auth-guard>', () => {
  let user

  before(async () => {
    user = await signIn('Grace Hopper')
    await loadBundle()
  })

  afterEach(() => {
    for (const node of document.querySelectorAll('body > div, body > iframe')) node.remove()
  })

  it("redirects a denied visitor, and the fragment's load never runs", async () => {
    await resetStats()
    // The guard navigates its document, so it lives in an iframe ("a tab").
    const frame = await openFrame('<wire-auth-guard policy="AdminOnly" fragment="admin-dashboard"><p>Checking…</p></wire-auth-guard>')
    await waitFor(() => framePath(frame) === '/__login', 'the redirect to the login URL')
    assert.equal(new URL(frame.contentWindow.location.href).origin, env.pageOrigin)
    assert.ok(frame.contentDocument.querySelector('#login-page'), 'the login page loaded')
    const server = await stats()
    assert.equal(server.loads['admin-dashboard'] ?? 0, 0, 'load never ran')
    assert.equal(server.renders['admin-dashboard'] ?? 0, 0, 'render never ran')
  })

  it('renders its fragment once allowed, and redirects live when the claim is revoked', async () => {
    await api('/test/grant', { userId: user.id, type: 'role', value: 'admin' })
    await resetStats()
    const frame = await openFrame('<wire-auth-guard policy="AdminOnly" fragment="admin-dashboard"><p class="pending">Checking…</p></wire-auth-guard>')
    const guard = frame.contentDocument.querySelector('wire-auth-guard')
    await settled(guard)
    assert.equal(guard.getAttribute('status'), 'allowed')
    assert.equal(guard.querySelector('.admin')?.textContent, 'Admin dashboard')
    assert.equal(guard.querySelector('.pending'), null)
    assert.equal((await stats()).loads['admin-dashboard'], 1)

    await api('/test/revoke-claim', { userId: user.id, type: 'role', value: 'admin' })
    await waitFor(() => framePath(frame) === '/__login', 'the live redirect')
  })

  it('without a fragment, only checks and then shows nothing', async () => {
    const guard = mount('<wire-auth-guard><p class="pending">Checking…</p></wire-auth-guard>').querySelector('wire-auth-guard')
    await settled(guard)
    assert.equal(guard.status, 'allowed')
    assert.equal(guard.childNodes.length, 0)
  })

  it('sends returnTo without the #fragment of the page (issue 13 C7, regression: location.href went as is)', () => {
    const before = location.href
    history.replaceState(null, '', `${location.pathname}${location.search}#access_token=secret-in-the-hash`)
    try {
      const spec = document.createElement('wire-auth-guard').buildSpec()
      assert.equal(spec.returnTo, `${location.origin}${location.pathname}${location.search}`)
      assert.equal(spec.returnTo.includes('secret'), false)
    } finally {
      history.replaceState(null, '', before)
    }
  })

  it('sends its redirect attribute, which the server checks', async () => {
    const target = `${env.pageOrigin}/__login?from=attribute`
    const frame = await openFrame(`<wire-auth-guard policy="AdminOnly" redirect="${target}"></wire-auth-guard>`)
    await waitFor(() => framePath(frame) === '/__login', 'the redirect')
    assert.equal(frame.contentWindow.location.href, target)

    // An origin that is not allowed is replaced by the login URL.
    const evil = await openFrame('<wire-auth-guard policy="AdminOnly" redirect="https://evil.example/phish"></wire-auth-guard>')
    await waitFor(() => framePath(evil) === '/__login', 'the fallback redirect')
    assert.equal(new URL(evil.contentWindow.location.href).origin, env.pageOrigin)
  })
})

describe('<wire-auth-guard> and session revocation', () => {
  it('redirects live when the session is revoked', async () => {
    const user = await signIn('Session User')
    const frame = await openFrame('<wire-auth-guard fragment="profile"><p>Checking…</p></wire-auth-guard>')
    const guard = frame.contentDocument.querySelector('wire-auth-guard')
    await settled(guard)
    assert.equal(guard.querySelector('.profile')?.textContent, 'Session User')
    await api('/test/revoke-sessions', { userId: user.id })
    await waitFor(() => framePath(frame) === '/__login', 'the redirect after the session was revoked')
    frame.remove()
  })
})
