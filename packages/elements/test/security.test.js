import { assert, env, loadBundle, mount, nextEvent, openForeignPage, resetStats, settled, signIn, stats, waitFor } from './helpers.js'

// A user-controlled display name carrying markup that would run if inserted unsanitized.
const EVIL_NAME = `<img src="/no-such-image" onerror="window.__wireAuthPwned='img'"><script>window.__wireAuthPwned='script'</script>`

describe('security', () => {
  let bundle

  before(async () => {
    await signIn(EVIL_NAME)
    bundle = await loadBundle()
  })

  afterEach(() => {
    for (const node of document.querySelectorAll('body > div, body > iframe')) node.remove()
  })

  it('shows a markup name from an escaping fragment as text', async () => {
    const region = mount('<wire-auth-region fragment="profile"></wire-auth-region>').querySelector('wire-auth-region')
    await settled(region)
    assert.equal(region.querySelector('.profile')?.textContent, EVIL_NAME)
    assert.equal(region.querySelector('img, script'), null)
    assert.equal(window.__wireAuthPwned, undefined)
  })

  it('never executes <script>, on* handlers or javascript: URLs from a fragment', async () => {
    const region = mount('<wire-auth-region fragment="unsafe-profile"></wire-auth-region>').querySelector('wire-auth-region')
    await settled(region)
    assert.equal(region.status, 'allowed')
    assert.equal(region.querySelector('script'), null, 'scripts are removed')
    const img = region.querySelector('img')
    assert.ok(img, 'the harmless part of the markup stays')
    assert.equal(img.getAttribute('onerror'), null, 'on* attributes are removed')
    // Let the broken image fail for real: its handler would have run by then.
    if (!img.complete) await Promise.race([nextEvent(img, 'error'), nextEvent(img, 'load')])
    const link = region.querySelector('.js-link')
    const svgLink = region.querySelector('.svg-link')
    assert.equal(link.getAttribute('href'), null, 'javascript: href (with whitespace tricks) removed')
    // SVG links are not on the allow-list: gone, or at least without their href.
    assert.equal(svgLink?.getAttribute('href') ?? null, null, 'SVG javascript: href removed')
    link.click()
    svgLink?.dispatchEvent(new MouseEvent('click', { bubbles: true }))
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal(window.__wireAuthPwned, undefined, 'nothing ran')
  })

  it('sanitizeFragment strips every known script vector and keeps the rest', () => {
    const payloads = [
      '<script>window.__wireAuthPwned=1</script>',
      '<svg><script>window.__wireAuthPwned=2</script></svg>',
      '<img src=x onerror="window.__wireAuthPwned=3">',
      '<a href="JaVaScRiPt:window.__wireAuthPwned=4">a</a>',
      '<a href="&#106;avascript:window.__wireAuthPwned=5">b</a>',
      '<a href="\u0001javascript:window.__wireAuthPwned=6">c</a>',
      '<form action="javascript:window.__wireAuthPwned=7"><button formaction="javascript:0">d</button></form>',
      '<iframe srcdoc="<script>parent.__wireAuthPwned=8</script>"></iframe>',
      '<svg><animate attributeName="href" values="x;javascript:window.__wireAuthPwned=9"/></svg>',
      '<svg><a xlink:href="javascript:window.__wireAuthPwned=10"><text>e</text></a></svg>',
      '<base href="https://evil.example/">',
      '<meta http-equiv="refresh" content="0;url=javascript:window.__wireAuthPwned=11">',
      '<template><img src=x onerror="window.__wireAuthPwned=12"></template>',
      '<div onmouseover="window.__wireAuthPwned=13" ONCLICK="x()">f</div>',
    ]
    const out = bundle.sanitizeFragment(payloads.join(''))
    const holder = document.createElement('div')
    holder.append(out)
    const html = holder.innerHTML + [...holder.querySelectorAll('template')].map((t) => t.innerHTML).join('')
    assert.equal(/<script|<base|<meta|srcdoc|\son[a-z]+=|javascript:/i.test(html), false, `sanitized: ${html}`)
    const benign = bundle.sanitizeFragment('<a class="ok" href="/docs?q=javascript">docs</a><img alt="logo" src="/logo.png"><p title="x">text</p>')
    holder.replaceChildren(benign)
    assert.equal(holder.querySelector('a.ok').getAttribute('href'), '/docs?q=javascript')
    assert.equal(holder.querySelector('img').getAttribute('alt'), 'logo')
    assert.equal(holder.querySelector('p').textContent, 'text')
  })

  it('a foreign Origin cannot open the socket', async () => {
    await resetStats()
    const { report } = openForeignPage(env.foreignPage, 'wireAuthForeign')
    const result = await report
    assert.equal(result.opened, false, 'the socket never opened')
    const server = await stats()
    assert.equal(server.socketRefused, 1, 'refused before the upgrade (403)')
    assert.equal(server.socketOpens, 0)
  })
})
