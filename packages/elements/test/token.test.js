import { api, assert, env, loadBundle, mount, registerUser, resetStats, settled, stats, waitFor } from './helpers.js'

// Token mode is for pages on another site than the backend, where its session
// cookie is not sent. The test pages are on localhost; the backend reached as
// 127.0.0.1 is another site, so there the token is the only credential the
// socket and the HTTP fallback get.
const crossSite = env.backend.replace('localhost', '127.0.0.1')
const region = () =>
  mount(`<wire-auth-region fragment="profile" backend="${crossSite}"><p slot="else" class="else">anonymous</p></wire-auth-region>`).querySelector('wire-auth-region')

describe('token mode (cross-site)', () => {
  let WireAuth
  let accessToken

  before(async () => {
    const user = await registerUser('Token User')
    const tokens = await api('/auth/local/token', { grant_type: 'password', username: user.email, password: user.password })
    assert.equal(tokens.token_type, 'Bearer')
    accessToken = tokens.access_token
    ;({ WireAuth } = await loadBundle())
  })

  afterEach(() => {
    for (const node of document.querySelectorAll('body > div')) node.remove()
  })

  it('is anonymous without a token: the cookie does not cross sites', async () => {
    const element = region()
    await settled(element)
    assert.equal(element.status, 'denied')
    assert.ok(element.querySelector('.else'))
  })

  it('sends the token as the first socket message', async () => {
    await resetStats()
    const element = region()
    WireAuth.setToken(accessToken, crossSite)
    await waitFor(() => element.querySelector('.profile'), 'the signed-in fragment')
    assert.equal(element.querySelector('.profile').textContent, 'Token User')
    const { socketMessages } = await stats()
    const opened = socketMessages.findIndex((m) => m.t === 'auth')
    assert.ok(opened >= 0, 'an auth message was sent')
    assert.equal(socketMessages[opened + 1]?.t, 'mount', 'the mount follows the auth')
  })

  it('uses the token on the HTTP fallback too', async () => {
    WireAuth.setToken(accessToken, crossSite)
    await api('/test/socket-outage', { ms: 3000 })
    const before = await stats()
    const element = region()
    await settled(element)
    assert.equal(element.querySelector('.profile')?.textContent, 'Token User')
    assert.ok((await stats()).fragmentPosts > before.fragmentPosts, 'answered over HTTP')
  })

  it('turns anonymous when the token is cleared', async () => {
    WireAuth.setToken(accessToken, crossSite)
    const element = region()
    await waitFor(() => element.querySelector('.profile'), 'the signed-in fragment')
    WireAuth.setToken(null, crossSite)
    await waitFor(() => element.status === 'denied', 'the anonymous verdict')
    assert.ok(element.querySelector('.else'))
  })

  it('accepts the token as an element property', async () => {
    WireAuth.setToken(null, crossSite)
    const element = region()
    await waitFor(() => element.status === 'denied', 'anonymous first')
    element.token = accessToken
    await waitFor(() => element.querySelector('.profile'), 'the token to apply')
  })
})
