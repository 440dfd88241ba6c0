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

  it('ignores and removes a token attribute: one element cannot switch the connection, the token does not stay in the DOM (issue 13 C3)', async () => {
    WireAuth.setToken(null, crossSite)
    const errors = []
    const error = console.error
    console.error = (...args) => {
      errors.push(String(args[0]))
      error.apply(console, args)
    }
    try {
      const element = mount(`<wire-auth-region fragment="profile" backend="${crossSite}" token="${accessToken}"><p slot="else" class="else">anonymous</p></wire-auth-region>`).querySelector('wire-auth-region')
      await settled(element)
      assert.equal(element.status, 'denied', 'the attribute did not authenticate the connection')
      assert.equal(element.hasAttribute('token'), false, 'the token was removed from the DOM')
      assert.ok(!document.body.innerHTML.includes(accessToken), 'no copy of the token in the markup')
      assert.ok(errors.some((line) => line.includes('ERR_TOKEN_ATTRIBUTE_IGNORED')), 'a coded console error says why')
    } finally {
      console.error = error
    }
  })
})

describe('WireAuth.getToken() (same-site pages, the session)', () => {
  let WireAuth

  before(async () => {
    ;({ WireAuth } = await loadBundle())
  })

  it('loads the token helpers (wire-auth-tokens.js) on the first call only: the bundle every page loads stays without them (issue 17, 12 KB)', async () => {
    const loaded = () => performance.getEntriesByType('resource').filter((entry) => new URL(entry.name).pathname === '/wire-auth-tokens.js')
    assert.equal(loaded().length, 0, 'not loaded before a token is asked for')
    await api('/auth/logout', {})
    assert.equal(await WireAuth.getToken(env.backend), null)
    assert.equal(loaded().length, 1, 'loaded once, from beside the bundle')
    assert.equal(await WireAuth.getToken(env.backend), null)
    assert.equal(loaded().length, 1)
  })

  it('gives a signed-in page a short-lived token its own non-Fastify API accepts, and null when signed out', async () => {
    const user = await registerUser('Api User')
    WireAuth.reconnect(env.backend)
    const token = await WireAuth.getToken(env.backend)
    assert.equal(typeof token, 'string')
    assert.equal(await WireAuth.getToken(env.backend), token, 'kept in memory and reused while fresh')
    assert.ok(!document.documentElement.outerHTML.includes(token), 'never in the DOM')
    const { url } = await api('/test/api-url')
    const answer = await fetch(`${url}/orders`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(answer.status, 200)
    const body = await answer.json()
    assert.equal(body.sub, user.id)
    assert.equal(body.name, 'Api User')
    assert.equal((await fetch(`${url}/orders`, { headers: { authorization: `Bearer ${token}x` } })).status, 401)

    await api('/auth/logout', {})
    WireAuth.reconnect(env.backend)
    assert.equal(await WireAuth.getToken(env.backend), null)
  })
})
