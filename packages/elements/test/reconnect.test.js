import { api, assert, loadBundle, mount, settled, signIn, stats, waitFor } from './helpers.js'

const mounts = (server) => server.socketMessages.filter((m) => m.t === 'mount').length

/** Stats, or null while the backend is down. */
async function tryStats() {
  try {
    return await stats()
  } catch {
    return null
  }
}

describe('reconnect and fallback', () => {
  let user

  before(async () => {
    user = await signIn('Restart User')
    await loadBundle()
  })

  afterEach(() => {
    for (const node of document.querySelectorAll('body > div')) node.remove()
  })

  it('recovers when the server restarts mid-session: reconnects and re-mounts', async () => {
    const region = mount('<wire-auth-region fragment="beta-panel"><p slot="else" class="else">no beta</p></wire-auth-region>').querySelector('wire-auth-region')
    await settled(region)
    assert.equal(region.status, 'denied')
    const before = await stats()

    await api('/test/restart', { downMs: 500 })
    await waitFor(async () => {
      const now = await tryStats()
      return now !== null && now.socketOpens > before.socketOpens && mounts(now) > mounts(before)
    }, 'a new socket and a re-mount on the restarted server', 30_000)

    // The new server process knows the region: a grant reaches it live.
    await api('/test/grant', { userId: user.id, type: 'plan', value: 'beta' })
    await waitFor(() => region.querySelector('.beta'), 'the live update after the restart')
    assert.equal(region.status, 'allowed')
    await api('/test/revoke-claim', { userId: user.id, type: 'plan', value: 'beta' })
    await waitFor(() => region.status === 'denied', 'the live revoke')
  })

  it('asks POST /auth/fragments while the socket is down, then goes live again', async () => {
    const before = await stats()
    await api('/test/socket-outage', { ms: 4000 })
    const region = mount('<wire-auth-region fragment="hello"><p slot="else">no</p></wire-auth-region>').querySelector('wire-auth-region')
    await settled(region)
    assert.equal(region.status, 'allowed')
    assert.equal(region.querySelector('.hello')?.textContent, 'Hello, Restart User')
    const during = await stats()
    assert.ok(during.fragmentPosts > before.fragmentPosts, 'the verdict came over HTTP')

    // After the outage the socket is back and the region is mounted on it: a grant reaches it.
    await waitFor(async () => {
      const now = await stats()
      return now.socketOpens > during.socketOpens && mounts(now) > mounts(during)
    }, 'the socket to come back', 30_000)
    const beta = mount('<wire-auth-region fragment="beta-panel"><p slot="else" class="else">no beta</p></wire-auth-region>').querySelector('wire-auth-region')
    await settled(beta)
    await api('/test/grant', { userId: user.id, type: 'plan', value: 'beta' })
    await waitFor(() => beta.querySelector('.beta'), 'the live update after the outage')
  })

  it('reports ERR_BACKEND_UNREACHABLE and stays pending while nothing answers', async () => {
    const errors = []
    const onError = (event) => errors.push(event.detail.code)
    document.addEventListener('wire-auth-error', onError)
    try {
      await api('/test/restart', { downMs: 3000 })
      // Wait until the backend is really gone.
      await waitFor(async () => (await tryStats()) === null, 'the backend to go down')
      const region = mount('<wire-auth-region fragment="hello"><p slot="pending" class="pending">wait</p><p slot="else">no</p></wire-auth-region>').querySelector('wire-auth-region')
      await waitFor(() => errors.includes('ERR_BACKEND_UNREACHABLE'), 'the error event')
      assert.equal(region.status, 'pending', 'fails closed: no content without a verdict')
      assert.ok(region.querySelector('.pending'))
      // When the backend is back, the pending region is mounted and answered.
      await waitFor(() => region.status === 'allowed', 'the region after recovery', 30_000)
    } finally {
      document.removeEventListener('wire-auth-error', onError)
    }
  })
})
