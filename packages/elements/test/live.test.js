import { api, assert, loadBundle, mount, openFrame, resetStats, settled, signIn, stats, waitFor } from './helpers.js'

const status = (element) => element.getAttribute('status')

describe('live updates across tabs', () => {
  let WireAuth

  before(async () => {
    ;({ WireAuth } = await loadBundle())
  })

  afterEach(() => {
    for (const node of document.querySelectorAll('body > div, body > iframe')) node.remove()
  })

  it('a grant flips an open region in two tabs of the same user, without a reload', async () => {
    const user = await signIn('Tab User')
    WireAuth.reconnect()
    await resetStats()
    const markup = '<wire-auth-region fragment="beta-panel"><p slot="else" class="else">no beta</p></wire-auth-region>'
    const region = mount(`${markup}<wire-auth-user field="name" class="who">…</wire-auth-user>`).querySelector('wire-auth-region')
    const frame = await openFrame(markup)
    const other = frame.contentDocument.querySelector('wire-auth-region')
    await settled(region)
    await settled(other)
    assert.equal(status(region), 'denied')
    assert.equal(status(other), 'denied')
    await waitFor(() => document.querySelector('.who').textContent === 'Tab User', 'the principal in <wire-auth-user>')

    assert.equal((await stats()).loads['beta-panel'] ?? 0, 0, 'no load while denied')

    await api('/test/grant', { userId: user.id, type: 'plan', value: 'beta' })
    await waitFor(() => region.querySelector('.beta') && other.querySelector('.beta'), 'both tabs to show the fragment')
    assert.equal(region.querySelector('.beta').textContent, 'Beta for Tab User')
    assert.equal(other.querySelector('.beta').textContent, 'Beta for Tab User')
    assert.equal(region.querySelector('.else'), null)

    const server = await stats()
    assert.ok(server.socketOpens >= 2, 'each tab has its own socket')
    assert.equal(server.fragmentPosts, 0, 'no HTTP: the server pushed the change')
    assert.ok(server.loads['beta-panel'] >= 1, 'load ran after the grant')
  })

  it('revoking the session turns both tabs anonymous', async () => {
    const user = await signIn('Revoked User')
    WireAuth.reconnect()
    const markup = '<wire-auth-region fragment="profile"><p slot="else" class="else">signed out</p></wire-auth-region>'
    const region = mount(`${markup}<wire-auth-user class="who"></wire-auth-user>`).querySelector('wire-auth-region')
    const frame = await openFrame(markup)
    const other = frame.contentDocument.querySelector('wire-auth-region')
    await waitFor(() => region.querySelector('.profile') && other.querySelector('.profile'), 'both tabs signed in')
    assert.equal(region.querySelector('.profile').textContent, 'Revoked User')
    await waitFor(() => document.querySelector('.who').textContent === 'Revoked User', 'the principal')

    const principals = []
    const denials = []
    const onPrincipal = (event) => principals.push(event.detail)
    document.addEventListener('wire-auth-principal', onPrincipal)
    region.addEventListener('wire-auth-denied', (event) => denials.push(event.detail.code))
    try {
      await api('/test/revoke-sessions', { userId: user.id })
      await waitFor(() => status(region) === 'denied' && status(other) === 'denied', 'both tabs to fall back')
      assert.ok(region.querySelector('.else') && other.querySelector('.else'))
      assert.equal(region.querySelector('.profile'), null)
      assert.deepEqual(denials, ['ERR_UNAUTHENTICATED'])
      await waitFor(() => principals.some((p) => !p.authenticated), 'an anonymous principal event')
      assert.equal(document.querySelector('.who').textContent, '')
      const me = await api('/auth/me')
      assert.equal(me.authenticated, false, 'the session cookie is dead for HTTP too')
    } finally {
      document.removeEventListener('wire-auth-principal', onPrincipal)
    }
  })
})
