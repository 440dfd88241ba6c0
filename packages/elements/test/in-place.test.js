import { assert, loadBundle, mount, nextEvent, settled, signIn } from './helpers.js'

// This test page is served by the web-test-runner dev server, not by the
// wire-auth backend: it is exactly "a page the backend did not process". The
// in-place marker must never be shown, must fail closed, and must say why in
// the console, once.
describe('in-place protected markup on a page the backend did not process', () => {
  const errors = []
  let original

  before(async () => {
    await signIn('Ada Lovelace')
    await loadBundle()
    original = console.error
    console.error = (...args) => {
      errors.push(args)
      original.apply(console, args)
    }
  })

  after(() => {
    console.error = original
  })

  afterEach(() => {
    for (const container of document.querySelectorAll('body > div')) container.remove()
  })

  it('is never shown, fails closed with ERR_PROTECTED_MARKUP_UNPROCESSED, and says so in the console once', async () => {
    const container = mount(`
      <wire-auth-region policy="AdminOnly">
        <template slot="allowed"><p class="secret">IN-PLACE-SECRET</p></template>
        <p slot="pending" class="pending">Checking…</p>
        <p slot="else" class="else">Admins only</p>
      </wire-auth-region>
      <wire-auth-guard>
        <template slot="denied"><p class="secret">ALSO-SECRET</p></template>
        <p slot="else" class="guard-else">No</p>
      </wire-auth-guard>`)
    const [region, guard] = container.querySelectorAll('wire-auth-region, wire-auth-guard')
    // Settled synchronously, before any request could have been made.
    assert.equal(region.getAttribute('status'), 'denied')
    await settled(guard)
    assert.equal(guard.getAttribute('status'), 'denied')
    assert.equal(region.querySelector('.else')?.textContent, 'Admins only')
    assert.equal(guard.querySelector('.guard-else')?.textContent, 'No')
    assert.equal(container.querySelector('template'), null, 'the marker is taken out of the document')
    assert.ok(!container.innerHTML.includes('SECRET'), 'the protected markup is not in the document')

    const reports = errors.filter((args) => String(args[0]).includes('ERR_PROTECTED_MARKUP_UNPROCESSED'))
    assert.equal(reports.length, 1, 'said once for the whole document')
    assert.ok(/app\.page\(\)|staticRoot/.test(String(reports[0][0])), 'the message says how to fix it')

    // A later element with the marker fails closed too, without repeating the console error.
    const later = mount(`<wire-auth-region fragment="hello"><template slot="allowed">X</template></wire-auth-region>`).querySelector('wire-auth-region')
    const failed = nextEvent(later, 'wire-auth-error')
    assert.equal((await failed).detail.code, 'ERR_PROTECTED_MARKUP_UNPROCESSED')
    assert.equal(later.getAttribute('status'), 'denied')
    assert.equal(errors.filter((args) => String(args[0]).includes('ERR_PROTECTED_MARKUP_UNPROCESSED')).length, 1)
  })

  it('a plain <template> (no allowed/denied slot) is ordinary public content', async () => {
    const container = mount(`<wire-auth-region fragment="hello"><template class="plain"><p>x</p></template></wire-auth-region>`)
    const region = container.querySelector('wire-auth-region')
    await settled(region)
    assert.equal(region.status, 'allowed')
  })
})
