import { api, assert, env, loadBundle, mount, registerUser, resetStats, settled, stats, waitFor } from './helpers.js'

// Token mode is for pages on another site, where the backend's cookie is not
// sent. Here the page signs out of its cookie session, so the token is the
// only credential the socket and the HTTP fallback get.
describe('token mode', () => {
  let WireAuth
  let accessToken

  before(async () => {
    const user = await registerUser('Token User')
    const tokens = await api('/auth/local/token', { grant_type: 'password', username: user.email, password: user.password })
    accessToken = tokens.access_token
    assert.equal(tokens.token_type, 'Bearer')
    const out = await fetch(`${env.backend}/auth/logout`, { method: 'POST', credentials: 'include' })
    assert.equal(out.status, 204)
    assert.equal((await api('/auth/me')).authenticated, false)
    ;({ WireAuth } = await loadBundle())
  })

  afterEach(() => {
    for (const node of document.querySelectorAll('body > div')) node.remove()
  })

  it('sends the token as the first socket message', async () => {
    await resetStats()
    WireAuth.setToken(accessToken)
    const region = mount('<wire-auth-region fragment="profile"><p slot="else" class="else">anonymous</p></wire-auth-region>').querySelector('wire-auth-region')
    await settled(region)
    assert.equal(region.status, 'allowed')
    assert.equal(region.querySelector('.profile')?.textContent, 'Token User')
    const { socketMessages } = await stats()
    assert.equal(socketMessages[0].t, 'auth', 'auth comes first')
    assert.equal(socketMessages[1].t, 'mount')
  })

  it('uses the token on the HTTP fallback too', async () => {
    WireAuth.setToken(accessToken)
    await api('/test/socket-outage', { ms: 3000 })
    const before = await stats()
    const region = mount('<wire-auth-region fragment="profile"><p slot="else" class="else">anonymous</p></wire-auth-region>').querySelector('wire-auth-region')
    await settled(region)
    assert.equal(region.querySelector('.profile')?.textContent, 'Token User')
    assert.ok((await stats()).fragmentPosts > before.fragmentPosts, 'answered over HTTP')
  })

  it('falls back to anonymous when the token is cleared', async () => {
    WireAuth.setToken(accessToken)
    const region = mount('<wire-auth-region fragment="profile"><p slot="else" class="else">anonymous</p></wire-auth-region>').querySelector('wire-auth-region')
    await waitFor(() => region.querySelector('.profile'), 'the signed-in fragment')
    WireAuth.setToken(null)
    await waitFor(() => region.status === 'denied', 'the anonymous verdict')
    assert.ok(region.querySelector('.else'))
  })

  it('accepts the token as an element attribute', async () => {
    WireAuth.setToken(null)
    const container = mount('<wire-auth-region fragment="profile"><p slot="else" class="else">anonymous</p></wire-auth-region>')
    const region = container.querySelector('wire-auth-region')
    await waitFor(() => region.status === 'denied', 'anonymous first')
    region.token = accessToken
    await waitFor(() => region.querySelector('.profile'), 'the token to apply')
  })
})
