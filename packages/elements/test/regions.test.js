import { assert, env, loadBundle, mount, nextEvent, openFrame, resetStats, settled, signIn, stats, waitFor } from './helpers.js'

describe('<wire-auth-region>', () => {
  let user

  before(async () => {
    user = await signIn('Ada Lovelace')
    await loadBundle()
  })

  afterEach(() => {
    for (const container of document.querySelectorAll('body > div')) container.remove()
  })

  it('shows the pending content, then the allowed fragment', async () => {
    const container = mount(`
      <wire-auth-region fragment="hello">
        <p slot="pending" class="pending">Checking…</p>
        <p slot="else" class="else">No</p>
      </wire-auth-region>`)
    const region = container.querySelector('wire-auth-region')
    // Before any verdict: the pending child only, the else child kept aside.
    assert.equal(region.getAttribute('status'), 'pending')
    assert.ok(region.querySelector('.pending'), 'pending content is shown')
    assert.equal(region.querySelector('.else'), null, 'else content is hidden while pending')

    const change = nextEvent(region, 'wire-auth-change')
    await settled(region)
    assert.equal(region.status, 'allowed')
    assert.equal(region.querySelector('.hello')?.textContent, 'Hello, Ada Lovelace')
    assert.equal(region.querySelector('.pending'), null, 'pending content is gone')
    const event = await change
    assert.equal(event.detail.status, 'allowed')
    assert.ok(event.bubbles && event.composed, 'events bubble and are composed')
  })

  it('shows its else content when the server denies', async () => {
    const container = mount(`
      <wire-auth-region fragment="beta-panel">
        Checking…
        <p slot="else" class="else">Join the beta</p>
      </wire-auth-region>`)
    const region = container.querySelector('wire-auth-region')
    const denied = nextEvent(region, 'wire-auth-denied')
    await settled(region)
    assert.equal(region.status, 'denied')
    assert.equal(region.querySelector('.else')?.textContent, 'Join the beta')
    assert.equal(region.querySelector('.beta'), null)
    assert.ok(!region.textContent.includes('Checking'), 'the unslotted pending text is gone')
    assert.equal((await denied).detail.code, 'ERR_DENIED')
  })

  it("prefers the fragment's own else output over inline else content", async () => {
    const container = mount(`<wire-auth-region fragment="pro-panel"><p slot="else" class="else">inline</p></wire-auth-region>`)
    const region = container.querySelector('wire-auth-region')
    await settled(region)
    assert.equal(region.status, 'denied')
    assert.equal(region.querySelector('.pro-upsell')?.textContent, 'Upgrade to pro')
    assert.equal(region.querySelector('.else'), null)
  })

  it('can only add requirements: a policy attribute denies a public fragment', async () => {
    const container = mount(`<wire-auth-region fragment="hello" policy="AdminOnly"><p slot="else" class="else">admins only</p></wire-auth-region>`)
    const region = container.querySelector('wire-auth-region')
    await settled(region)
    assert.equal(region.status, 'denied')
    assert.ok(region.querySelector('.else'))
    assert.equal(region.querySelector('.hello'), null)
  })

  it('fails closed on malformed attributes without asking the server', async () => {
    await resetStats()
    const container = mount(`
      <wire-auth-region fragment="hello" params="{not json"><p slot="else" class="else">bad params</p></wire-auth-region>
      <wire-auth-region fragment="hello" claims="  "><p slot="else" class="else">bad claims</p></wire-auth-region>`)
    const [badParams, badClaims] = container.querySelectorAll('wire-auth-region')
    const errors = [nextEvent(badParams, 'wire-auth-error'), nextEvent(badClaims, 'wire-auth-error')]
    // Each fails synchronously at mount; the event may already have fired.
    await Promise.race([Promise.all(errors), waitFor(() => badParams.status === 'denied' && badClaims.status === 'denied', 'denials')])
    assert.equal(badParams.status, 'denied')
    assert.equal(badClaims.status, 'denied')
    assert.ok(badParams.querySelector('.else') && badClaims.querySelector('.else'))
    // A later, valid region still works and nothing invalid reached the server.
    const good = mount('<wire-auth-region fragment="hello"></wire-auth-region>').querySelector('wire-auth-region')
    await settled(good)
    assert.equal(good.status, 'allowed')
    const { socketMessages } = await stats()
    const mounted = socketMessages.filter((m) => m.t === 'mount').reduce((n, m) => n + m.regions, 0)
    assert.equal(mounted, 1, 'only the valid region was mounted')
  })

  it('refuses params the server would refuse, with the same codes (issue 13 F8: one params rule)', () => {
    const codeOf = (setup) => {
      const region = document.createElement('wire-auth-region')
      region.setAttribute('fragment', 'hello')
      setup(region)
      try {
        region.buildSpec()
        return null
      } catch (err) {
        return err.code
      }
    }
    assert.equal(codeOf((r) => r.setAttribute('params', '{"__proto__":{"isAdmin":true}}')), 'ERR_PARAMS_INVALID')
    assert.equal(codeOf((r) => r.setAttribute('params', '{"a":{"constructor":{"prototype":{}}}}')), 'ERR_PARAMS_INVALID')
    assert.equal(codeOf((r) => r.setAttribute('params', '{not json')), 'ERR_PARAMS_INVALID')
    assert.equal(codeOf((r) => r.setAttribute('params', JSON.stringify({ pad: 'x'.repeat(5000) }))), 'ERR_PARAMS_TOO_LARGE')
    assert.equal(codeOf((r) => (r.params = { prototype: 1 })), 'ERR_PARAMS_INVALID')
    assert.equal(codeOf((r) => r.setAttribute('params', '{"itemId":"1"}')), null)
    assert.equal(({}).isAdmin, undefined)
  })

  it('re-mounts when an attribute changes', async () => {
    const region = mount('<wire-auth-region fragment="hello"></wire-auth-region>').querySelector('wire-auth-region')
    await settled(region)
    assert.ok(region.querySelector('.hello'))
    region.setAttribute('fragment', 'styled')
    await waitFor(() => region.querySelector('.styled-by-host'), 'the new fragment')
    assert.equal(region.querySelector('.hello'), null)
  })

  it("renders in light DOM, so the host page's CSS applies", async () => {
    const style = document.createElement('style')
    style.textContent = '.styled-by-host { color: rgb(1, 2, 3); } wire-auth-region[status="allowed"] { display: block; outline: 1px solid rgb(4, 5, 6); }'
    document.head.append(style)
    try {
      const region = mount('<wire-auth-region fragment="styled"></wire-auth-region>').querySelector('wire-auth-region')
      await settled(region)
      const paragraph = region.querySelector('.styled-by-host')
      assert.ok(paragraph, 'fragment content is a light DOM child')
      assert.equal(region.shadowRoot, null, 'no shadow root')
      assert.equal(getComputedStyle(paragraph).color, 'rgb(1, 2, 3)')
      assert.equal(getComputedStyle(region).outlineColor, 'rgb(4, 5, 6)', 'the status attribute is stylable')
    } finally {
      style.remove()
    }
  })

  it('evaluates 100 regions independently in one round trip', async () => {
    await resetStats()
    const items = Array.from({ length: 100 }, (_, i) => `<li><wire-auth-region fragment="item" params='{"itemId":"${i + 1}"}'><span slot="else" class="no-item">no</span></wire-auth-region></li>`)
    const container = mount(`<ul>${items.join('')}</ul>`)
    const regions = [...container.querySelectorAll('wire-auth-region')]
    const codes = new Map()
    container.addEventListener('wire-auth-denied', (event) => codes.set(event.target, event.detail.code))
    await waitFor(() => regions.every((r) => r.status !== 'pending'), 'all 100 regions')

    regions.forEach((region, i) => {
      if (i + 1 === 13) {
        assert.equal(region.status, 'denied', 'item 13 (its policy throws) is denied')
        assert.ok(region.querySelector('.no-item'))
        assert.equal(codes.get(region), 'ERR_POLICY_THREW')
      } else {
        assert.equal(region.status, 'allowed', `item ${i + 1}`)
        assert.equal(region.querySelector('.item')?.dataset.id, String(i + 1), `item ${i + 1} got its own params`)
      }
    })
    const server = await stats()
    const mounts = server.socketMessages.filter((m) => m.t === 'mount')
    assert.equal(mounts.length, 1, 'one mount message')
    assert.equal(mounts[0].regions, 100)
    assert.equal(server.fragmentPosts, 0, 'no HTTP round trips')
    assert.equal(server.loads.item, 99, 'load ran for the 99 allowed items only')
    assert.equal(server.renders.item, 99)

    // Removing them all is one unmount message too.
    container.remove()
    // (An earlier test's unmount may race the stats reset, so look for the one with 100 ids.)
    await waitFor(async () => (await stats()).socketMessages.some((m) => m.t === 'unmount' && m.ids === 100), 'one unmount of 100 ids')
  })

  it('a page loading with 100 regions in its HTML opens one socket and sends one mount', async () => {
    await resetStats()
    const items = Array.from({ length: 100 }, (_, i) => `<wire-auth-region fragment="item" params='{"itemId":"${i + 1}"}'></wire-auth-region>`)
    const frame = await openFrame(items.join(''))
    const regions = [...frame.contentDocument.querySelectorAll('wire-auth-region')]
    await waitFor(() => regions.every((r) => r.getAttribute('status') !== 'pending' && r.getAttribute('status') !== null), 'all 100 regions of the page')
    assert.equal(regions.filter((r) => r.getAttribute('status') === 'allowed').length, 99)
    const server = await stats()
    assert.equal(server.socketOpens, 1)
    assert.deepEqual(server.socketMessages.filter((m) => m.t === 'mount').map((m) => m.regions), [100])
    assert.equal(server.fragmentPosts, 0)
    frame.remove()
  })

  it('a backend attribute selects another backend, with its own socket', async () => {
    // 127.0.0.1 is another site than localhost: the session cookie is not sent there.
    const crossSite = env.backend.replace('localhost', '127.0.0.1')
    await resetStats()
    const container = mount(`
      <wire-auth-region fragment="profile"><p slot="else" class="else">anonymous</p></wire-auth-region>
      <wire-auth-region fragment="profile" backend="${crossSite}/ignored/path"><p slot="else" class="else">anonymous</p></wire-auth-region>
      <wire-auth-region fragment="profile" backend="javascript:alert(1)"><p slot="else" class="else">bad backend</p></wire-auth-region>`)
    const [sameSite, otherSite, bad] = container.querySelectorAll('wire-auth-region')
    await Promise.all([settled(sameSite), settled(otherSite), settled(bad)])
    assert.equal(sameSite.querySelector('.profile')?.textContent, 'Ada Lovelace')
    assert.equal(otherSite.status, 'denied', 'no cookie reaches the other site')
    assert.equal(bad.status, 'denied', 'a non-http backend fails closed')
    const server = await stats()
    assert.equal(server.socketOpens, 1, 'one new socket, for the other backend origin')
  })

  it('gives nested components the principal through context', async () => {
    const region = mount('<wire-auth-region fragment="hello">…<span slot="else"></span></wire-auth-region>').querySelector('wire-auth-region')
    await settled(region)
    // A nested consumer (what a Lit component with ContextConsumer does).
    const child = region.querySelector('.hello')
    let principal
    child.dispatchEvent(
      new (class extends Event {
        constructor() {
          super('context-request', { bubbles: true, composed: true })
          this.context = Symbol.for('wire-auth.principal')
          this.contextTarget = child
          this.callback = (value) => (principal = value)
          this.subscribe = false
        }
      })(),
    )
    assert.deepEqual(principal, { authenticated: true, id: user.id, name: 'Ada Lovelace' })
  })
})
