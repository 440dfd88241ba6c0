import { assert, env, loadBundle, mount, openForeignPage, settled, signIn, waitFor } from './helpers.js'

// Misconfiguration speaks: each cause is explained once in the console with
// its code and the fix, and the denial code is on the element (`code`).
describe('console warnings and the code attribute', () => {
  const warnings = []
  const original = console.warn

  before(async () => {
    await signIn('Grace')
    await loadBundle()
  })

  beforeEach(() => {
    warnings.length = 0
    console.warn = (...args) => {
      warnings.push(String(args[0]))
      original.apply(console, args)
    }
  })

  afterEach(() => {
    console.warn = original
    for (const container of document.querySelectorAll('body > div')) container.remove()
  })

  const said = (code) => warnings.filter((w) => w.startsWith(`wire-auth ${code}:`))

  it('an unknown fragment: code="ERR_FRAGMENT_NOT_FOUND" on every element, one warning naming it and the fix', async () => {
    const container = mount(`
      <wire-auth-region fragment="no-such-panel"><p slot="else">else</p></wire-auth-region>
      <wire-auth-region fragment="no-such-panel"><p slot="else">else</p></wire-auth-region>
      <wire-auth-region fragment="hello"></wire-auth-region>`)
    const [first, second, known] = container.querySelectorAll('wire-auth-region')
    await Promise.all([settled(first), settled(second), settled(known)])
    assert.equal(first.getAttribute('status'), 'denied')
    assert.equal(first.getAttribute('code'), 'ERR_FRAGMENT_NOT_FOUND')
    assert.equal(second.getAttribute('code'), 'ERR_FRAGMENT_NOT_FOUND')
    assert.equal(known.getAttribute('status'), 'allowed')
    assert.equal(known.hasAttribute('code'), false, 'an allowed element carries no code')
    const lines = said('ERR_FRAGMENT_NOT_FOUND')
    assert.equal(lines.length, 1, 'said once for the same cause')
    assert.ok(lines[0].includes('"no-such-panel"') && lines[0].includes('Fix: ') && lines[0].includes("app.fragment('no-such-panel'"), lines[0])
  })

  it('a policy that is not registered: code="ERR_POLICY_NOT_FOUND", one warning; a plain denial stays silent', async () => {
    const container = mount(`
      <wire-auth-region fragment="hello" policy="NoSuchPolicy"><p slot="else">else</p></wire-auth-region>
      <wire-auth-region fragment="admin-dashboard"><p slot="else">else</p></wire-auth-region>`)
    const [missing, denied] = container.querySelectorAll('wire-auth-region')
    await Promise.all([settled(missing), settled(denied)])
    assert.equal(missing.getAttribute('code'), 'ERR_POLICY_NOT_FOUND')
    assert.equal(denied.getAttribute('status'), 'denied')
    assert.equal(denied.getAttribute('code'), 'ERR_DENIED')
    const lines = said('ERR_POLICY_NOT_FOUND')
    assert.equal(lines.length, 1)
    assert.ok(lines[0].includes('"NoSuchPolicy"') && lines[0].includes('Fix: '), lines[0])
    assert.equal(said('ERR_DENIED').length, 0, 'a denial is a normal outcome, not a misconfiguration')
  })

  it('the code attribute follows the verdict: it goes when the element is allowed', async () => {
    const container = mount('<wire-auth-region fragment="no-such-either"></wire-auth-region>')
    const region = container.querySelector('wire-auth-region')
    await settled(region)
    assert.equal(region.getAttribute('code'), 'ERR_FRAGMENT_NOT_FOUND')
    region.setAttribute('fragment', 'hello')
    await waitFor(() => region.getAttribute('status') === 'allowed', 'the allowed verdict')
    assert.equal(region.hasAttribute('code'), false)
  })

  it('an unreachable backend: one ERR_BACKEND_UNREACHABLE warning naming it, however many regions and retries', async () => {
    // Port 9 (discard) on loopback: nothing listens, connections are refused at once.
    const backend = 'http://127.0.0.1:9'
    mount(`
      <wire-auth-region backend="${backend}" fragment="hello"><p slot="pending">wait</p></wire-auth-region>
      <wire-auth-region backend="${backend}" fragment="styled"><p slot="pending">wait</p></wire-auth-region>`)
    await waitFor(() => said('ERR_BACKEND_UNREACHABLE').length > 0, 'the warning')
    // Let the connection retry at least once more; still one line.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const lines = said('ERR_BACKEND_UNREACHABLE')
    assert.equal(lines.length, 1)
    assert.ok(lines[0].includes(backend) && lines[0].includes('Fix: '), lines[0])
  })

  it('a page origin the backend does not allow: code="ERR_ORIGIN_NOT_ALLOWED" and one warning naming the origin to add', async () => {
    const { frame, report } = openForeignPage(env.foreignRegionPage, 'wireAuthForeignRegion')
    try {
      const result = await report
      assert.equal(result.code, 'ERR_ORIGIN_NOT_ALLOWED')
      const lines = result.warnings.filter((w) => w.startsWith('wire-auth ERR_ORIGIN_NOT_ALLOWED:'))
      assert.equal(lines.length, 1, `one warning for two regions: ${JSON.stringify(result.warnings)}`)
      assert.ok(lines[0].includes(new URL(env.foreignRegionPage).origin) && lines[0].includes('allowedOrigins'), lines[0])
    } finally {
      frame.remove()
    }
  })
})
