import { parse, parseFragment, type DefaultTreeAdapterMap } from 'parse5'
import { describe, expect, it } from 'vitest'
import { HtmlString, escapeHtml, html, raw } from '@wire-auth/core'

type Node = DefaultTreeAdapterMap['node']
type Element = DefaultTreeAdapterMap['element']

const INVALID = 'about:invalid#wire-auth'
const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'poster', 'cite', 'background', 'data'])

/** Every element of a parse5 tree (template contents included). */
function elements(node: Node, out: Element[] = []): Element[] {
  if ('tagName' in node) out.push(node)
  const children = 'childNodes' in node ? node.childNodes : []
  for (const child of children) elements(child, out)
  if ('content' in node && node.content) elements(node.content as Node, out)
  return out
}

function attrName(attr: { name: string; prefix?: string }): string {
  return attr.prefix ? `${attr.prefix}:${attr.name}` : attr.name
}

/** The scheme a browser reads from an attribute value (WHATWG URL rules). */
function browserScheme(value: string): string | null {
  // eslint-disable-next-line no-control-regex
  const trimmed = value.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '')
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(trimmed)
  return match ? match[1]!.toLowerCase() : null
}

/** What a browser would treat as script: script elements, on* handlers, script URLs; srcdoc documents are checked too. */
function scriptVectors(markup: string): string[] {
  const found: string[] = []
  for (const el of elements(parseFragment(markup) as unknown as Node)) {
    if (el.tagName === 'script') found.push('<script>')
    for (const attr of el.attrs) {
      const name = attrName(attr).toLowerCase()
      if (/^on[a-z]+$/.test(name)) found.push(`${name}=`)
      if (URL_ATTRS.has(name)) {
        const scheme = browserScheme(attr.value)
        if (scheme !== null && !['http', 'https', 'mailto', 'tel'].includes(scheme) && !attr.value.startsWith(INVALID)) found.push(`${name}=${scheme}:`)
      }
      if (name === 'srcdoc') {
        for (const el2 of elements(parse(attr.value) as unknown as Node)) {
          if (el2.tagName === 'script') found.push('srcdoc <script>')
          for (const a of el2.attrs) if (/^on[a-z]+$/.test(a.name)) found.push(`srcdoc ${a.name}=`)
        }
      }
    }
  }
  return found
}

/** The element names and attribute counts: an injection changes them. */
function shape(markup: string): string[] {
  return elements(parseFragment(markup) as unknown as Node).map((el) => `${el.tagName}[${el.attrs.length}]`)
}

function attributeOf(markup: string, tag: string, name: string): string | undefined {
  const el = elements(parseFragment(markup) as unknown as Node).find((e) => e.tagName === tag)
  return el?.attrs.find((a) => attrName(a) === name)?.value
}

describe('escapeHtml', () => {
  it('escapes & < > " \' ` =', () => {
    expect(escapeHtml('&<>"\'`=')).toBe('&amp;&lt;&gt;&quot;&#39;&#96;&#61;')
    expect(escapeHtml('<b title="x">Tom & Jerry</b>')).toBe('&lt;b title&#61;&quot;x&quot;&gt;Tom &amp; Jerry&lt;/b&gt;')
  })

  it('returns the same string when nothing needs escaping', () => {
    const text = 'plain text with spaces, dots. and unicode ü 漢字'
    expect(escapeHtml(text)).toBe(text)
    expect(escapeHtml('')).toBe('')
  })

  it('escapes already-escaped text again (no double-decoding shortcuts)', () => {
    expect(escapeHtml('&amp;')).toBe('&amp;amp;')
  })

  it('stringifies non-strings', () => {
    expect(escapeHtml(42 as unknown as string)).toBe('42')
  })
})

describe('html', () => {
  it('escapes every interpolation in text', () => {
    const name = '<img src=x onerror=alert(1)>'
    expect(html`<p>${name}</p>`.value).toBe('<p>&lt;img src&#61;x onerror&#61;alert(1)&gt;</p>')
  })

  it('inserts a nested HtmlString as-is', () => {
    const inner = html`<b>${'<i>'}</b>`
    expect(html`<p>${inner}</p>`.value).toBe('<p><b>&lt;i&gt;</b></p>')
  })

  it('flattens arrays, escaping items that are not HtmlString', () => {
    const items = ['<a>', html`<li>${'&'}</li>`, ['x', ['<y>', raw('<hr>')]]]
    expect(html`<ul>${items}</ul>`.value).toBe('<ul>&lt;a&gt;<li>&amp;</li>x&lt;y&gt;<hr></ul>')
    expect(html`<ul>${['a', 'b'].map((x) => html`<li>${x}</li>`)}</ul>`.value).toBe('<ul><li>a</li><li>b</li></ul>')
    expect(html`<ul>${[]}</ul>`.value).toBe('<ul></ul>')
  })

  it('renders null, undefined and false as nothing; numbers, bigints and true with String()', () => {
    expect(html`[${null}|${undefined}|${false}]`.value).toBe('[||]')
    expect(html`[${0}|${-1.5}|${10n}|${true}|${Number.NaN}]`.value).toBe('[0|-1.5|10|true|NaN]')
  })

  it('escapes the String() of other values', () => {
    const obj = { toString: () => '<obj>' }
    expect(html`${obj}`.value).toBe('&lt;obj&gt;')
    expect(html`${Symbol('<s>')}`.value).toBe('Symbol(&lt;s&gt;)')
  })

  it('gives a frozen HtmlString that stringifies to its value', () => {
    const h = html`<p>${'x'}</p>`
    expect(h).toBeInstanceOf(HtmlString)
    expect(Object.isFrozen(h)).toBe(true)
    expect(String(h)).toBe('<p>x</p>')
    expect(`${h}`).toBe('<p>x</p>')
  })

  it('reuses the compiled template of a call site with new values', () => {
    const render = (v: unknown) => html`<a href="${v}">${v}</a>`.value
    expect(render('/a')).toBe('<a href="/a">/a</a>')
    expect(render('javascript:x')).toBe(`<a href="${INVALID}">javascript:x</a>`)
    expect(render('/b')).toBe('<a href="/b">/b</a>')
  })

  it('quotes an unquoted attribute value that holds an interpolation', () => {
    expect(html`<p title=${'a b'} class=x>t</p>`.value).toBe('<p title="a b" class=x>t</p>')
    expect(html`<p title=pre${'" x'}post>t</p>`.value).toBe('<p title="pre&quot; xpost">t</p>')
    expect(html`<p title=${''}>t</p>`.value).toBe('<p title="">t</p>')
    expect(html`<p title = ${'v'}>t</p>`.value).toBe('<p title = "v">t</p>')
    // In HTML an unquoted value runs up to whitespace or `>`: the `/` belongs to it.
    expect(html`<input value=${'v'}/>`.value).toBe('<input value="v/">')
    expect(attributeOf(html`<p title=${'a b'} class=x>t</p>`.value, 'p', 'title')).toBe('a b')
  })

  it('lets a value inside a tag be one plain attribute name, or refuses it', () => {
    expect(html`<input ${'checked'}>`.value).toBe('<input checked>')
    expect(html`<input ${'x onfocus=alert(1) autofocus'}>`.value).toBe('<input data-wire-auth-invalid>')
    expect(shape(html`<input ${'a/onfocus=alert(1)'}>`.value)).toEqual(['input[1]'])
  })

  it('escapes srcdoc values twice so they stay text inside the frame', () => {
    const out = html`<iframe srcdoc="${'<script>alert(1)</script>'}"></iframe>`.value
    expect(out).toBe('<iframe srcdoc="&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;"></iframe>')
    expect(attributeOf(out, 'iframe', 'srcdoc')).toBe('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(attributeOf(html`<iframe srcdoc="${html`<b>${'<i>'}</b>`}"></iframe>`.value, 'iframe', 'srcdoc')).toBe('<b>&lt;i&gt;</b>')
  })

  it('leaves static markup untouched', () => {
    const out = html`<!doctype html><a href="javascript:void(0)" title=plain>x</a><!-- c --><script>if (a<b) {}</script>`.value
    expect(out).toBe('<!doctype html><a href="javascript:void(0)" title=plain>x</a><!-- c --><script>if (a<b) {}</script>')
  })
})

describe('raw', () => {
  it('wraps a string without escaping', () => {
    expect(raw('<b>bold</b>').value).toBe('<b>bold</b>')
    expect(html`<p>${raw('<b>bold</b>')}</p>`.value).toBe('<p><b>bold</b></p>')
  })

  it('returns an HtmlString unchanged and treats null as empty', () => {
    const h = html`<i>x</i>`
    expect(raw(h as unknown as string)).toBe(h)
    expect(raw(null as unknown as string).value).toBe('')
  })

  it('is the only way to build an HtmlString', () => {
    const Ctor = HtmlString as unknown as new (value: string) => HtmlString
    expect(() => new Ctor('<script>alert(1)</script>')).toThrow(TypeError)
    const forged = { value: '<script>', toString: () => '<script>' }
    expect(html`${forged}`.value).toBe('&lt;script&gt;')
  })
})

const XSS_PAYLOADS = [
  '<script>alert(1)</script>',
  '"><script>alert(1)</script>',
  "'><img src=x onerror=alert(1)>",
  '" onerror="alert(1)',
  '" onerror=alert(1) x="',
  "' onmouseover='alert(1)",
  '` onmouseover=alert(1)',
  'x onmouseover=alert(1)',
  '<img src=x onerror=alert(1)//',
  '<svg/onload=alert(1)>',
  '<svg><script>alert(1)</script></svg>',
  '</title><script>alert(1)</script>',
  '</textarea><script>alert(1)</script>',
  '</script><script>alert(1)</script>',
  '--><script>alert(1)</script>',
  '<!--<script>alert(1)//-->',
  '<iframe src="javascript:alert(1)"></iframe>',
  '<a href="javascript:alert(1)">x</a>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
  '&lt;script&gt;alert(1)&lt;/script&gt;',
  '&#60;script&#62;alert(1)&#60;/script&#62;',
  '\u0000<script>alert(1)</script>',
  'javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
]

const CONTEXTS: Array<[string, (p: unknown) => HtmlString]> = [
  ['text', (p) => html`<p>${p}</p>`],
  ['double-quoted attribute', (p) => html`<p title="${p}">x</p>`],
  ['single-quoted attribute', (p) => html`<p title='${p}'>x</p>`],
  ['unquoted attribute', (p) => html`<p title=${p}>x</p>`],
  ['unquoted attribute with a prefix', (p) => html`<p class=a${p}>x</p>`],
  ['tag', (p) => html`<p ${p}>x</p>`],
  ['comment', (p) => html`<!-- ${p} --><p>x</p>`],
  ['textarea', (p) => html`<textarea>${p}</textarea>`],
  ['title', (p) => html`<title>${p}</title>`],
  ['href', (p) => html`<a href="${p}">x</a>`],
  ['unquoted src', (p) => html`<img src=${p}>`],
  ['srcdoc', (p) => html`<iframe srcdoc="${p}"></iframe>`],
  ['nested list', (p) => html`<ul>${[p, p].map((x) => html`<li data-x="${x}">${x}</li>`)}</ul>`],
]

describe('XSS payloads', () => {
  for (const [context, render] of CONTEXTS) {
    it.each(XSS_PAYLOADS)(`${context}: %j stays inert`, (payload) => {
      const out = render(payload).value
      expect(scriptVectors(out)).toEqual([])
      if (context === 'tag') {
        // One value inside a tag can add at most one (non-handler) attribute name.
        expect(shape(out).length).toBe(shape(render('x').value).length)
        expect(parseFragment(out).childNodes.length).toBe(1)
      } else {
        expect(shape(out)).toEqual(shape(render('benign').value))
      }
    })
  }
})

const BAD_URLS = [
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'JAVASCRIPT:alert(1)',
  ' javascript:alert(1)',
  '\u0001\u0002javascript:alert(1)',
  '\u0000javascript:alert(1)',
  '\t\n javascript:alert(1)',
  'java\tscript:alert(1)',
  'java\nscript:alert(1)',
  'java\rscript:alert(1)',
  'jav&#x09;ascript:alert(1)',
  '&#106;avascript:alert(1)',
  '&#x6A;avascript:alert(1)',
  '&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)',
  'javascript&colon;alert(1)',
  'javascript&#58;alert(1)',
  'javascript&#x3a;alert(1)',
  'java\u200bscript:alert(1)',
  'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
  'DATA:text/html,<script>alert(1)</script>',
  'vbscript:msgbox(1)',
  'VBScript:msgbox(1)',
  'file:///etc/passwd',
  'blob:https://example.com/uuid',
  'livescript:alert(1)',
]

const URL_CONTEXTS: Array<[string, (u: unknown) => HtmlString, string, string]> = [
  ['a href="…"', (u) => html`<a href="${u}">x</a>`, 'a', 'href'],
  ["a href='…'", (u) => html`<a href='${u}'>x</a>`, 'a', 'href'],
  ['a href=…', (u) => html`<a href=${u}>x</a>`, 'a', 'href'],
  ['a href = "…"', (u) => html`<a class="c" href = "${u}">x</a>`, 'a', 'href'],
  ['A HREF (upper case)', (u) => html`<A HREF="${u}">x</A>`, 'a', 'href'],
  ['img src', (u) => html`<img alt="${'a'}" src="${u}">`, 'img', 'src'],
  ['iframe src', (u) => html`<iframe src="${u}"></iframe>`, 'iframe', 'src'],
  ['form action', (u) => html`<form action="${u}"></form>`, 'form', 'action'],
  ['button formaction', (u) => html`<button formaction="${u}">x</button>`, 'button', 'formaction'],
  ['svg a xlink:href', (u) => html`<svg><a xlink:href="${u}"><text>x</text></a></svg>`, 'a', 'xlink:href'],
  ['video poster', (u) => html`<video poster="${u}"></video>`, 'video', 'poster'],
  ['blockquote cite', (u) => html`<blockquote cite="${u}">q</blockquote>`, 'blockquote', 'cite'],
  ['table background', (u) => html`<table background="${u}"></table>`, 'table', 'background'],
  ['object data', (u) => html`<object data="${u}"></object>`, 'object', 'data'],
  ['after a <script> block', (u) => html`<script>if (a<b) {}</script><a href="${u}">x</a>`, 'a', 'href'],
  ['after another attribute', (u) => html`<a title="${'t'}" href="${u}">x</a>`, 'a', 'href'],
]

describe('URL attributes', () => {
  for (const [context, render, tag, attr] of URL_CONTEXTS) {
    it.each(BAD_URLS)(`${context}: %j becomes ${INVALID}`, (url) => {
      const out = render(url).value
      expect(attributeOf(out, tag, attr)).toBe(INVALID)
      expect(scriptVectors(out)).toEqual(scriptVectors(render('/safe').value))
    })
  }

  it.each(BAD_URLS)('raw(%j) in href is still checked', (url) => {
    expect(attributeOf(html`<a href="${raw(url)}">x</a>`.value, 'a', 'href')).toBe(INVALID)
  })

  it.each([
    ['entity-encoded j', '&#106;avascript:alert(1)'],
    ['entity-encoded colon', 'javascript&colon;alert(1)'],
    ['tab entity', 'jav&Tab;ascript:alert(1)'],
    ['newline entity', 'jav&NewLine;ascript:alert(1)'],
    ['hex without semicolons', '&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert(1)'],
  ])('raw() with %s in href becomes %s', (_label, url) => {
    expect(attributeOf(html`<a href="${raw(url)}">x</a>`.value, 'a', 'href')).toBe(INVALID)
  })

  it('checks the whole value when it is built from several parts', () => {
    expect(attributeOf(html`<a href="${'java'}${'script:alert(1)'}">x</a>`.value, 'a', 'href')).toBe(INVALID)
    expect(attributeOf(html`<a href="${'javascript'}:${'alert(1)'}">x</a>`.value, 'a', 'href')).toBe(`${INVALID}:`)
    expect(scriptVectors(html`<a href="${'javascript'}:${'alert(1)'}">x</a>`.value)).toEqual([])
    const prefixed = html`<a href="java${'script:alert(1)'}">x</a>`.value
    expect(scriptVectors(prefixed)).toEqual([])
    expect(browserScheme(attributeOf(prefixed, 'a', 'href')!)).toBeNull()
    expect(attributeOf(html`<a href="${'https://example.com'}/${'javascript:x'}">x</a>`.value, 'a', 'href')).toBe('https://example.com/javascript:x')
    expect(attributeOf(html`<a href="${'/items/'}${42}">x</a>`.value, 'a', 'href')).toBe('/items/42')
  })

  it('does not check a value whose static prefix already decides the URL', () => {
    expect(attributeOf(html`<a href="/search/${'javascript:alert(1)'}">x</a>`.value, 'a', 'href')).toBe('/search/javascript:alert(1)')
    expect(attributeOf(html`<a href="https://x.example/?q=${'javascript:1'}">x</a>`.value, 'a', 'href')).toBe('https://x.example/?q=javascript:1')
  })

  it.each([
    'https://example.com/path?a=1&b=2#frag',
    'http://example.com',
    'HTTPS://EXAMPLE.COM/',
    'mailto:ada@example.com?subject=Hi',
    'tel:+441234567890',
    '//cdn.example.com/app.js',
    '/relative/path?x=1',
    './here',
    '../up',
    'page.html',
    '?q=1',
    '#section',
    '',
    'a/b:c',
    '/colon:in/path',
  ])('keeps the safe URL %j', (url) => {
    expect(attributeOf(html`<a href="${url}">x</a>`.value, 'a', 'href')).toBe(url)
  })

  it('does not treat look-alike attribute names or text as URLs', () => {
    expect(attributeOf(html`<a data-href="${'javascript:x'}">x</a>`.value, 'a', 'data-href')).toBe('javascript:x')
    expect(attributeOf(html`<a hrefx="${'javascript:x'}">x</a>`.value, 'a', 'hrefx')).toBe('javascript:x')
    expect(html`<p>href=${'javascript:x'}</p>`.value).toBe('<p>href=javascript:x</p>')
    expect(html`<textarea><a href="${'javascript:x'}"></textarea>`.value).toBe('<textarea><a href="javascript:x"></textarea>')
  })
})
