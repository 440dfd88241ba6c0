// Regression tests for the scanner of the `html` tag: each one names what
// would break. Most were written against surviving mutants of html.ts
// (issue 21: a single-token change that made the tag an XSS sink while every
// test passed); the F11 ones against template shapes the scanner did not
// know (issue 13): `--!>`, `style="…"`, SVG animation values. Interpolation
// in tag and attribute-name position is refused or checked as a name.
import { parseFragment, type DefaultTreeAdapterMap } from 'parse5'
import { describe, expect, it } from 'vitest'
import { html, raw, type HtmlString } from '@wire-auth/core'
import { thrownCode } from '../../../test/support/error-code.js'

type Node = DefaultTreeAdapterMap['node']
type Element = DefaultTreeAdapterMap['element']

const INVALID = 'about:invalid#wire-auth'
const JS = 'javascript:alert(1)'
const RAW_TEXT = ['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript']
const WHITESPACE: Array<[string, string]> = [
  ['space', ' '],
  ['tab', '\t'],
  ['newline', '\n'],
  ['carriage return', '\r'],
  ['form feed', '\f'],
]

/**
 * Calls `html` with static parts built at run time (a template literal cannot
 * hold a bare CR or FF), as a fresh call site each time.
 */
function tpl(statics: string[], ...values: unknown[]): string {
  const strings = Object.freeze(Object.assign([...statics], { raw: Object.freeze([...statics]) })) as unknown as TemplateStringsArray
  return html(strings, ...values).value
}

function elements(node: Node, out: Element[] = []): Element[] {
  if ('tagName' in node) out.push(node)
  for (const child of 'childNodes' in node ? node.childNodes : []) elements(child, out)
  return out
}

/** The value of attribute `name` on the first `tag` element as a browser parses `markup`. */
function attributeOf(markup: string, tag: string, name: string): string | undefined {
  const el = elements(parseFragment(markup) as unknown as Node).find((e) => e.tagName === tag)
  return el?.attrs.find((a) => (a.prefix ? `${a.prefix}:${a.name}` : a.name) === name)?.value
}

/** Every attribute name in `markup` as a browser parses it. */
function attributeNames(markup: string): string[] {
  return elements(parseFragment(markup) as unknown as Node).flatMap((el) => el.attrs.map((a) => a.name))
}

describe('the scanner knows where comments, doctypes and processing instructions end', () => {
  it.each([
    ['a comment', '<!-- nav -->'],
    ['an empty comment', '<!---->'],
    ['an abruptly closed comment <!-->', '<!-->'],
    ['an abruptly closed comment <!--->', '<!--->'],
    ['a comment with dashes inside', '<!-- a -- b - c -->'],
    ['a comment closed by --!>', '<!-- x --!>'],
    ['a doctype', '<!doctype html>'],
    ['a bogus comment', '<!x>'],
    ['a processing instruction', '<?xml version="1.0"?>'],
    ['a processing instruction with a quote', "<?php echo '?>"],
  ])('a URL attribute after %s is checked', (_label, before) => {
    const out = tpl([`${before}<a href="`, '">x</a>'], JS)
    expect(attributeOf(out, 'a', 'href')).toBe(INVALID)
  })

  it('an interpolation inside a comment cannot end it (no `-`, `!` or `>`) and is never empty', () => {
    expect(html`<!--${'-'}->`.value).toBe('<!--&#45;->')
    expect(html`<!--${'x--!'}>`.value).toBe('<!--x&#45;&#45;&#33;>')
    expect(html`<!--${''}>`.value).toBe('<!-- >')
    expect(html`<!--${null}-->`.value).toBe('<!-- -->')
    expect(html`<!-- ${'a -- b'} -->`.value).toBe('<!-- a &#45;&#45; b -->')
    expect(html`<!-- ${raw('--><script>')} -->`.value).toBe('<!-- &#45;&#45;&gt;&lt;script&gt; -->')
    expect(html`<!-- ${['-', 1]} -->`.value).toBe('<!-- &#45;1 -->')
  })

  it('after an interpolation the comment still needs a whole `-->`', () => {
    // `<!--${'-'}->` is `<!---->` to a browser if the dash is not escaped: the
    // scanner and the browser must agree that the comment goes on.
    const out = html`<!--${'-'}-><a href="${JS}">x</a>-->`.value
    expect(parseFragment(out).childNodes).toHaveLength(1)
    expect(html`<!--${'x'}--><a href="${JS}">x</a>`.value).toBe(`<!--x--><a href="${INVALID}">x</a>`)
  })
})

describe('the scanner knows every raw-text element', () => {
  it.each(RAW_TEXT)('a quote inside <%s> does not hide the URL attribute after it', (tag) => {
    const out = tpl([`<${tag}>var s = "<b title='"</${tag}><a href="`, '">x</a>'], JS)
    expect(attributeOf(out, 'a', 'href')).toBe(INVALID)
    const upper = tpl([`<${tag.toUpperCase()}>"<b title='"</${tag.toUpperCase()}><a href="`, '">x</a>'], JS)
    expect(attributeOf(upper, 'a', 'href')).toBe(INVALID)
  })

  it.each([...RAW_TEXT, 'plaintext'])('markup inside <%s> is text: an href there is not an attribute', (tag) => {
    const out = tpl([`<${tag}><a href="`, `"></${tag}>`], JS)
    expect(out).toBe(`<${tag}><a href="${JS}"></${tag}>`)
    expect(elements(parseFragment(out) as unknown as Node).map((e) => e.tagName)).toEqual([tag])
  })

  it('a raw-text element ends only at its own end tag', () => {
    expect(html`<script></b><a href="${JS}"></script>`.value).toBe(`<script></b><a href="${JS}"></script>`)
    expect(html`<textarea></title><a href="${JS}"></textarea>`.value).toBe(`<textarea></title><a href="${JS}"></textarea>`)
    expect(html`</script><a href="${JS}">`.value).toBe(`</script><a href="${INVALID}">`)
  })
})

describe('a URL attribute is checked with the static text after its last interpolation', () => {
  it.each([
    ['a static scheme tail', (u: unknown) => html`<a href="${u}:alert(1)">x</a>`.value, 'javascript', `${INVALID}:alert(1)`],
    ['a static tail completing the scheme', (u: unknown) => html`<a href="${u}script:alert(1)">x</a>`.value, 'java', `${INVALID}script:alert(1)`],
    ['an unquoted value', (u: unknown) => html`<a href=${u}:alert(1)>x</a>`.value, 'javascript', `${INVALID}:alert(1)`],
    ['a single-quoted value', (u: unknown) => html`<a href='${u}:alert(1)'>x</a>`.value, 'javascript', `${INVALID}:alert(1)`],
  ])('%s', (_label, render, value, expected) => {
    expect(attributeOf(render(value), 'a', 'href')).toBe(expected)
  })

  it('between two interpolations too', () => {
    expect(attributeOf(html`<a href="${'java'}scr${'ipt'}:x">x</a>`.value, 'a', 'href')).toBe(`${INVALID}scr:x`)
    expect(attributeOf(html`<a href="${'/a'}:${'b'}">x</a>`.value, 'a', 'href')).toBe('/a:b')
  })

  it('a value that ends the template is closed and checked', () => {
    expect(html`<p title=${'a b'}`.value).toBe('<p title="a b"')
    expect(html`<p title=x${'a'}`.value).toBe('<p title="xa"')
    expect(html`<a href=${JS}`.value).toBe(`<a href="${INVALID}"`)
  })

  it('a quote in the static rest of an unquoted value is escaped', () => {
    expect(html`<p title=${'x'}a"b>t</p>`.value).toBe('<p title="xa&quot;b">t</p>')
    expect(attributeOf(html`<p title=${'x'}a"b>t</p>`.value, 'p', 'title')).toBe('xa"b')
  })

  it('an empty unquoted value ends at `>`', () => {
    expect(html`<p title=>${'<x>'}</p>`.value).toBe('<p title=>&lt;x&gt;</p>')
  })
})

describe('newlines, tabs, CR and FF separate a tag like spaces', () => {
  it.each(WHITESPACE)('%s between the tag name, attributes, `=` and the value', (_label, ws) => {
    expect(attributeOf(tpl([`<a${ws}class="c"${ws}href${ws}=${ws}"`, '">x</a>'], JS), 'a', 'href')).toBe(INVALID)
    expect(attributeOf(tpl([`<a${ws}href="`, '">x</a>'], JS), 'a', 'href')).toBe(INVALID)
    expect(attributeOf(tpl([`<a${ws}href=`, '>x</a>'], JS), 'a', 'href')).toBe(INVALID)
  })

  it.each(WHITESPACE)('%s ends an unquoted value', (_label, ws) => {
    const out = tpl([`<a title=x${ws}href="`, '">x</a>'], JS)
    expect(attributeOf(out, 'a', 'href')).toBe(INVALID)
    expect(tpl(['<p title=', `${ws}class=x>t</p>`], 'a b')).toBe(`<p title="a b"${ws}class=x>t</p>`)
  })

  it('a formatted multi-line template', () => {
    const out = html`
      <nav class="menu">
        <!-- the user's links -->
        <a
          class="item"
          href="${JS}"
        >${'<b>'}</a>
      </nav>`.value
    expect(attributeOf(out, 'a', 'href')).toBe(INVALID)
    expect(out).toContain('>&lt;b&gt;</a>')
  })
})

describe('what is and is not a tag', () => {
  it.each(['<1 ', '< ', '<[ ', '<@ ', '<{ ', '<` '])('%j does not open a tag', (start) => {
    const out = tpl([`${start}href="`, '">'], JS)
    expect(out).toBe(`${start}href="${JS}">`)
    expect(elements(parseFragment(out) as unknown as Node)).toEqual([])
  })

  it.each(['a', 'z', 'A', 'Z', 'svg'])('<%s opens a tag', (tag) => {
    expect(attributeOf(tpl([`<${tag} href="`, '">'], JS), tag.toLowerCase(), 'href')).toBe(INVALID)
  })

  it('`<<a` opens a tag at the second `<`', () => {
    expect(attributeOf(html`<<a href="${JS}">x</a>`.value, 'a', 'href')).toBe(INVALID)
  })

  it('`</` followed by a non-letter opens a bogus comment up to `>`; an end tag with attributes is a tag', () => {
    for (const out of [html`</ <a title="> <a href="${JS}">`.value, html`</3 <a title="> <a href="${JS}">`.value]) {
      expect(attributeOf(out, 'a', 'href')).toBe(INVALID)
      expect(attributeOf(out, 'a', 'title')).toBeUndefined()
    }
    expect(html`</ <a href="${JS}">`.value).toBe(`</ <a href="${JS}">`)
    expect(elements(parseFragment(html`</ <a href="${JS}">`.value) as unknown as Node)).toEqual([])
    expect(html`</><a href="${JS}">`.value).toBe(`</><a href="${INVALID}">`)
    expect(html`<p></p title="${'"'}"><a href="${JS}">`.value).toBe(`<p></p title="&quot;"><a href="${INVALID}">`)
  })
})

describe('numeric character references at the code-point boundaries', () => {
  it.each([
    ['&#x110000;', '&#x110000;'],
    ['&#1114112;', '&#1114112;'],
    ['&#xFFFFFFFF;', '&#xFFFFFFFF;'],
    ['&#x10FFFF;', '&#x10FFFF;'],
    ['&#xD800;', '&#xD800;'],
    ['&#xDFFF;', '&#xDFFF;'],
  ])('%s in user data renders (no RangeError) and is kept as text', (value, expected) => {
    expect(attributeOf(html`<a href="${value}">x</a>`.value, 'a', 'href')).toBe(expected)
  })

  it('&#0; decodes to U+FFFD, which is not invisible: "https&#0;://" is not https', () => {
    expect(attributeOf(html`<a href="${'https&#0;://x.example'}">x</a>`.value, 'a', 'href')).toBe(INVALID)
    expect(attributeOf(html`<a href="${'https&#x0;://x.example'}">x</a>`.value, 'a', 'href')).toBe(INVALID)
  })

  it.each([
    ['a lone surrogate', 'https&#xD800;://x.example'],
    ['the last surrogate', 'https&#xDFFF;://x.example'],
    ['beyond U+10FFFF', 'https&#x110000;://x.example'],
  ])('%s decodes to U+FFFD, never to nothing', (_label, value) => {
    expect(attributeOf(html`<a href="${value}">x</a>`.value, 'a', 'href')).toBe(INVALID)
  })

  it('references just inside the valid ranges decode to their character', () => {
    // U+D7FF and U+E000 are letters of no scheme; U+00AD is invisible and dropped.
    expect(attributeOf(html`<a href="${'java&#xAD;script:x'}">x</a>`.value, 'a', 'href')).toBe(INVALID)
    expect(attributeOf(html`<a href="${'&#x10FFFF;:x'}">x</a>`.value, 'a', 'href')).toBe(INVALID)
    expect(attributeOf(html`<a href="${'&#x6a;avascript:x'}">x</a>`.value, 'a', 'href')).toBe(INVALID)
    expect(attributeOf(html`<a href="${'&#106avascript:x'}">x</a>`.value, 'a', 'href')).toBe(INVALID)
  })

  it('named references are decoded case-insensitively; unknown ones are kept', () => {
    expect(attributeOf(html`<a href="${'javascript&COLON;x'}">x</a>`.value, 'a', 'href')).toBe(INVALID)
    expect(attributeOf(html`<a href="${'javascript&Colon;x'}">x</a>`.value, 'a', 'href')).toBe(INVALID)
    expect(attributeOf(html`<a href="${'x&unknown;:y'}">x</a>`.value, 'a', 'href')).toBe(INVALID)
    expect(attributeOf(html`<a href="${'/a&unknown;:y'}">x</a>`.value, 'a', 'href')).toBe('/a&unknown;:y')
    expect(attributeOf(html`<a href="${'https&sol;&sol;x'}">x</a>`.value, 'a', 'href')).toBe('https&sol;&sol;x')
  })

  it('decodes three layers of escaping, not more', () => {
    const layered = (n: number) => `&${'amp;'.repeat(n)}#106;avascript:x`
    expect(attributeOf(html`<a href="${raw(layered(2))}">x</a>`.value, 'a', 'href')).toBe(INVALID)
    // A fourth layer is not decoded: the text has no scheme and passes as relative.
    expect(html`<a href="${raw(layered(3))}">x</a>`.value).toBe(`<a href="${layered(3)}">x</a>`)
  })
})

describe('every URL attribute is checked', () => {
  it.each([
    ['applet', 'codebase'],
    ['img', 'longdesc'],
    ['img', 'lowsrc'],
    ['img', 'dynsrc'],
    ['html', 'manifest'],
    ['command', 'icon'],
    ['a', 'href'],
    ['img', 'src'],
    ['form', 'action'],
    ['button', 'formaction'],
    ['video', 'poster'],
    ['q', 'cite'],
    ['body', 'background'],
    ['object', 'data'],
  ])('<%s %s>', (tag, attr) => {
    expect(tpl([`<${tag} ${attr}="`, '">'], JS)).toBe(`<${tag} ${attr}="${INVALID}">`)
    expect(tpl([`<${tag} ${attr.toUpperCase()}="`, '">'], JS)).toBe(`<${tag} ${attr.toUpperCase()}="${INVALID}">`)
  })

  it('svg xlink:href', () => {
    expect(html`<svg><a xlink:href="${JS}"></a></svg>`.value).toBe(`<svg><a xlink:href="${INVALID}"></a></svg>`)
  })
})

describe('F11: style attributes take plain CSS values only', () => {
  it.each([
    ['red', 'red'],
    ['#fff', '#fff'],
    ['10px', '10px'],
    ['-1.5em', '-1.5em'],
    ['.5', '.5'],
    ['50%', '50%'],
    ['bold italic', 'bold italic'],
    ['Helvetica, sans-serif', 'Helvetica, sans-serif'],
    ['rgb(1, 2, 3)', 'rgb(1, 2, 3)'],
    ['hsla(1, 2%, 3%, .5)', 'hsla(1, 2%, 3%, .5)'],
    ['red !important', 'red !important'],
    [12, '12'],
    ['', ''],
  ])('%j passes', (value, expected) => {
    expect(attributeOf(html`<p style="color: ${value}">x</p>`.value, 'p', 'style')).toBe(`color: ${expected}`)
  })

  it.each([
    'red; position: fixed; top: 0',
    'red;background:url(https://evil.example/x)',
    'url(javascript:alert(1))',
    'expression(alert(1))',
    '-moz-binding',
    "x' ; color: red",
    'a\\3a b',
    '/* x */',
    'a:b',
    'x{}',
    'a\u0000b',
    '"quoted"',
  ])('%j becomes zWireAuthz', (value) => {
    expect(attributeOf(html`<p style="color: ${value}">x</p>`.value, 'p', 'style')).toBe('color: zWireAuthz')
    expect(attributeOf(html`<p STYLE=${value}>x</p>`.value, 'p', 'style')).toBe('zWireAuthz')
  })

  it('raw() and arrays are checked as their text', () => {
    expect(attributeOf(html`<p style="color: ${raw('red;top:0')}">x</p>`.value, 'p', 'style')).toBe('color: zWireAuthz')
    expect(attributeOf(html`<p style="margin: ${['1px', ' ', 2, 'px']}">x</p>`.value, 'p', 'style')).toBe('margin: 1px 2px')
    expect(attributeOf(html`<p style="${null}">x</p>`.value, 'p', 'style')).toBe('')
  })

  it('a style attribute holds no declaration from an interpolation', () => {
    expect(attributeOf(html`<p style="${'color: red'}">x</p>`.value, 'p', 'style')).toBe('zWireAuthz')
    expect(attributeOf(html`<p data-style="${'color: red'}" xstyle="${'a:b'}">x</p>`.value, 'p', 'data-style')).toBe('color: red')
  })
})

describe('F11: SVG animation values are checked as URL lists', () => {
  it.each([
    ['animate values', (v: unknown) => html`<svg><a><animate attributeName="href" values="${v}"/></a></svg>`.value, 'animate', 'values'],
    ['set to', (v: unknown) => html`<svg><a><set attributeName="href" to="${v}"/></a></svg>`.value, 'set', 'to'],
    ['animate from', (v: unknown) => html`<svg><a><animate attributeName="href" from="${v}"/></a></svg>`.value, 'animate', 'from'],
    ['animate by', (v: unknown) => html`<svg><a><animate attributeName="href" by="${v}"/></a></svg>`.value, 'animate', 'by'],
    ['animateTransform values', (v: unknown) => html`<svg><animateTransform values="${v}"/></svg>`.value, 'animateTransform', 'values'],
    ['animateMotion values', (v: unknown) => html`<svg><animateMotion values="${v}"/></svg>`.value, 'animateMotion', 'values'],
  ])('%s', (_label, render, tag, attr) => {
    expect(attributeOf(render(JS), tag, attr)).toBe(INVALID)
    expect(attributeOf(render('#a;javascript:alert(1)'), tag, attr)).toBe(INVALID)
    expect(attributeOf(render('https://x.example;  JAVASCRIPT:alert(1)'), tag, attr)).toBe(INVALID)
    expect(attributeOf(render('#a&#59;javascript:alert(1)'), tag, attr)).toBe(INVALID)
    expect(attributeOf(render('0;1;0.5'), tag, attr)).toBe('0;1;0.5')
    expect(attributeOf(render('#a;https://x.example/b;/c'), tag, attr)).toBe('#a;https://x.example/b;/c')
  })

  it('a static first item does not decide the rest of the list', () => {
    const out = html`<svg><a><animate attributeName="href" values="#a;${JS}"/></a></svg>`.value
    expect(attributeOf(out, 'animate', 'values')).toBe(`#a;#${INVALID}`)
  })

  it('the same attribute names on other elements are not URL lists', () => {
    expect(attributeOf(html`<svg><feColorMatrix values="${'a:b'}"/></svg>`.value, 'feColorMatrix', 'values')).toBe('a:b')
    expect(attributeOf(html`<p to="${'a:b'}">x</p>`.value, 'p', 'to')).toBe('a:b')
  })
})

describe('an interpolation in a tag name is refused', () => {
  it.each([
    ['<${tag}>', () => html`<${'script'}>alert(1)</script>`],
    ['<h${level}>', () => html`<h${1}>x</h1>`],
    ['</${tag}>', () => html`<p>x</${'p'}>`],
    ['</scr${…}> in a script', () => html`<script>x</scr${'ipt'}>`],
    ['</${tag}> in a textarea', () => html`<textarea>x</${'textarea'}><a href="${JS}">`],
  ])('%s throws ERR_HTML_TEMPLATE_INVALID', (_label, render) => {
    expect(thrownCode(render)).toBe('ERR_HTML_TEMPLATE_INVALID')
  })

  it('a `<` in script text or a `</` that cannot be an end tag is no tag name', () => {
    expect(html`<script>if (a <${1}) {}</script>`.value).toBe('<script>if (a <1) {}</script>')
    expect(html`<script>x </x${1}</script>`.value).toBe('<script>x </x1</script>')
    expect(html`<p>a < ${'b'}</p>`.value).toBe('<p>a < b</p>')
  })
})

describe('an interpolation in attribute-name position is checked as a whole name', () => {
  it.each(['checked', 'disabled', 'hidden', 'data-x', 'aria-label', 'x_y.z', 'xml:lang', ''])('%j is a name', (name) => {
    expect(html`<input ${name}>`.value).toBe(`<input ${name}>`)
  })

  it.each([
    'onclick',
    'ONFOCUS',
    'href',
    'src',
    'xlink:href',
    'formaction',
    'srcdoc',
    'style',
    'values',
    'to',
    'x onfocus=alert(1) autofocus',
    'a/onfocus=alert(1)',
    'x=1',
    '"',
    '1x',
    '-x',
  ])('%j becomes data-wire-auth-invalid', (name) => {
    const out = html`<a ${name}="${JS}">x</a>`.value
    expect(out).toBe(`<a data-wire-auth-invalid="${JS}">x</a>`)
    expect(attributeNames(out)).toEqual(['data-wire-auth-invalid'])
  })

  it('static text around the interpolation is part of the name', () => {
    // The refused name is no URL attribute any more: its value is plain text.
    expect(html`<a ${'h'}ref="${JS}">x</a>`.value).toBe(`<a data-wire-auth-invalidref="${JS}">x</a>`)
    expect(attributeNames(html`<a o${'n'}click="${'alert(1)'}">x</a>`.value)).toEqual(['odata-wire-auth-invalidclick'])
    expect(attributeNames(html`<a data-${'onclick'}="${'x'}">x</a>`.value)).toEqual(['data-onclick'])
    expect(attributeNames(html`<a ${'o'}${'nclick'}="${'x'}">x</a>`.value)).toEqual(['data-wire-auth-invalid'])
    expect(attributeNames(html`<a ${'data'}-${'x'}="${'x'}" ${'title'}>x</a>`.value)).toEqual(['data-x', 'title'])
    expect(html`<a ${'title'}=${'a b'}>x</a>`.value).toBe('<a title="a b">x</a>')
    expect(html`<a class="c" ${'title'} ${'hidden'}/>`.value).toBe('<a class="c" title hidden/>')
  })

  it('after a quoted value, with tabs and newlines around it', () => {
    expect(tpl(['<a title="t"', '="', '">x</a>'], 'onclick', 'alert(1)')).toBe('<a title="t"data-wire-auth-invalid="alert(1)">x</a>')
    expect(tpl(['<a\n\t', '\n>x</a>'], 'onclick')).toBe('<a\n\tdata-wire-auth-invalid\n>x</a>')
    expect(tpl(['<a x ', '>x</a>'], 'onclick')).toBe('<a x data-wire-auth-invalid>x</a>')
  })

  it('a nested html`…` or raw() value is the developer markup and is kept', () => {
    expect(html`<input ${raw('disabled class="x"')}>`.value).toBe('<input disabled class="x">')
    expect(html`<input ${html`readonly`}>`.value).toBe('<input readonly>')
    expect(html`<input ${['a', 'b']}>`.value).toBe('<input ab>')
    expect(html`<input ${['on', 'click']}>`.value).toBe('<input data-wire-auth-invalid>')
  })
})

describe('templates with invalid escapes', () => {
  it('use the raw text of a part whose cooked value is undefined', () => {
    expect(html`<p>\unicode ${'<x>'}</p>`.value).toBe('<p>\\unicode &lt;x&gt;</p>')
  })
})

describe('rendering values', () => {
  it('a rendered template is an HtmlString', () => {
    const out: HtmlString = html`<p>${1}</p>`
    expect(out.value).toBe('<p>1</p>')
  })
})

describe('the scanner agrees with the browser on edge shapes', () => {
  it('a `>` inside a comment does not end it', () => {
    const out = html`<!-- a > <a href="${JS}"> -->`.value
    expect(out).toBe(`<!-- a > <a href="${JS}"> -->`)
    expect(elements(parseFragment(out) as unknown as Node)).toEqual([])
  })

  it('an empty interpolation still counts as comment text (`<!--${""}>` is no `<!-->`)', () => {
    const out = html`<!--${''}><a href="${JS}">-->`.value
    expect(out).toBe(`<!-- ><a href="${JS}">-->`)
    expect(elements(parseFragment(out) as unknown as Node)).toEqual([])
  })

  it('a `>` inside an end tag attribute does not end the tag', () => {
    // The value is `><a href=`; the interpolation is an attribute name of the end tag.
    const out = html`</p title="><a href="${JS}">`.value
    expect(out).toBe(`</p title="><a href="data-wire-auth-invalid">`)
    expect(elements(parseFragment(out) as unknown as Node)).toEqual([])
  })

  it('<script/> is a script start tag', () => {
    expect(attributeOf(html`<script/>var s = "<b title='"</script><a href="${JS}">`.value, 'a', 'href')).toBe(INVALID)
  })

  it('a `=` before an attribute name is part of the name', () => {
    const out = html`<p =href="${JS}">x</p>`.value
    expect(out).toBe(`<p =href="${JS}">x</p>`)
    expect(attributeNames(out)).toEqual(['=href'])
  })

  it('several spaces or a lone `/` between attributes', () => {
    expect(attributeOf(html`<a  href="${JS}">x</a>`.value, 'a', 'href')).toBe(INVALID)
    expect(attributeOf(html`<a / href="${JS}">x</a>`.value, 'a', 'href')).toBe(INVALID)
    expect(attributeOf(html`<a title=x/ href="${JS}">x</a>`.value, 'a', 'href')).toBe(INVALID)
  })

  it('text after an unquoted value that ended the tag is text', () => {
    expect(html`<p title=x>${'a b'}</p>`.value).toBe('<p title=x>a b</p>')
    expect(html`<p title="x">${'a b'}</p>`.value).toBe('<p title="x">a b</p>')
  })

  it('a developer-written scheme in the static prefix is kept; a decided prefix takes any number of slots', () => {
    expect(html`<a href="javascript:${'void(0)'}">x</a>`.value).toBe('<a href="javascript:void(0)">x</a>')
    expect(html`<a href="/a/${'b'}/${'c'}:${'d'}">x</a>`.value).toBe('<a href="/a/b/c:d">x</a>')
  })

  it('a `</` inside an attribute value or a comment is no end tag', () => {
    expect(html`<p title="</${'x'}">t</p>`.value).toBe('<p title="</x">t</p>')
    expect(html`<!-- </${'x'} -->`.value).toBe('<!-- </x -->')
  })

  it('the static start of an unquoted value is kept when it is quoted', () => {
    expect(html`<p title=ab${'c'}>t</p>`.value).toBe('<p title="abc">t</p>')
    expect(html`<p title=a"b${'c'}>t</p>`.value).toBe('<p title="a&quot;bc">t</p>')
  })
})

describe('more boundaries', () => {
  it.each([...WHITESPACE, ['slash', '/'], ['equals', '='], ['quote', '"']])(
    'a %s from a string next to a raw() value in a name is escaped, so it cannot start another attribute',
    (_label, ch) => {
      const out = html`<a ${raw('')}${`${ch}onclick`}="${'alert(1)'}">x</a>`.value
      expect(attributeNames(out).filter((name) => name.startsWith('on'))).toEqual([])
    },
  )

  it('static text between two slots of a name is part of the name', () => {
    expect(attributeNames(html`<a ${'o'}n${'click'}="${'x'}">x</a>`.value)).toEqual(['data-wire-auth-invalidn'])
    expect(attributeNames(html`<a ${'da'}ta-${'x'}="${'x'}">x</a>`.value)).toEqual(['data-x'])
  })

  it('uppercase X in hexadecimal references, and a decoded slash making a path', () => {
    expect(attributeOf(html`<a href="${'&#X2F;javascript:x'}">x</a>`.value, 'a', 'href')).toBe('&#X2F;javascript:x')
    expect(attributeOf(html`<a href="${'&#x2f;javascript:x'}">x</a>`.value, 'a', 'href')).toBe('&#x2f;javascript:x')
  })

  it('whitespace around a safe URL is dropped before the scheme is read', () => {
    expect(attributeOf(html`<a href="${' https://x.example/'}">x</a>`.value, 'a', 'href')).toBe(' https://x.example/')
    expect(attributeOf(html`<a href="${'\u00a0mailto:a@example.com'}">x</a>`.value, 'a', 'href')).toBe('\u00a0mailto:a@example.com')
  })

  it('raw(undefined) is empty, and null, undefined and false render nothing in a style or a comment', () => {
    expect(raw(undefined as unknown as string).value).toBe('')
    for (const nothing of [null, undefined, false]) {
      expect(html`<p style="${nothing}">x</p>`.value).toBe('<p style="">x</p>')
      expect(html`<!--${nothing}-->`.value).toBe('<!-- -->')
    }
    expect(html`<p style="margin: ${0}">x</p>`.value).toBe('<p style="margin: 0">x</p>')
    expect(html`<p style="${html`red`}">x</p>`.value).toBe('<p style="red">x</p>')
  })
})

describe('scanner and URL-check details found by mutation testing', () => {
  it.each(['lt', 'gt', 'quot', 'apos', 'bsol', 'period', 'lpar', 'rpar', 'amp'])('&%s; decodes to a character that breaks a scheme', (name) => {
    expect(attributeOf(html`<a href="${raw(`http&${name};s://x.example/`)}">x</a>`.value, 'a', 'href')).toBe(INVALID)
  })

  it.each(['sol', 'quest', 'num'])('&%s; decodes to a character that makes the URL relative', (name) => {
    expect(html`<a href="${raw(`&${name};javascript:x`)}">x</a>`.value).toBe(`<a href="&${name};javascript:x">x</a>`)
  })

  it('&amp; is decoded before the next round: &amp;sol; is a slash two layers down', () => {
    expect(attributeOf(html`<a href="${'&amp;sol;javascript:x'}">x</a>`.value, 'a', 'href')).toBe('&amp;sol;javascript:x')
  })

  it.each(['?q=a:b', '#a:b', '/a:b', '?', '#'])('%j is relative: the colon after ?, # or / is no scheme', (url) => {
    expect(attributeOf(html`<a href="${url}">x</a>`.value, 'a', 'href')).toBe(url)
  })

  it('a safe URL built from two slots is kept whole', () => {
    expect(attributeOf(html`<a href="${'https'}${'://x.example/'}">x</a>`.value, 'a', 'href')).toBe('https://x.example/')
    expect(attributeOf(html`<a href="${'https:'}//${'x.example'}/">x</a>`.value, 'a', 'href')).toBe('https://x.example/')
  })

  it('a template that ends inside a quoted URL value is checked with its tail', () => {
    expect(html`<a href="${'javascript'}:alert(1)`.value).toBe(`<a href="${INVALID}:alert(1)`)
  })

  it('a name interpolation after another attribute does not inherit its name', () => {
    expect(html`<a href="/x" ${'title'}="${JS}">x</a>`.value).toBe(`<a href="/x" title="${JS}">x</a>`)
  })

  it('a bogus comment ends at its first `>`, even inside what looks like a quote', () => {
    for (const start of ['<!x', '<?x', '<!']) {
      const out = tpl([`${start} <a title="><a href="`, '">x</a>'], JS)
      expect(attributeOf(out, 'a', 'href')).toBe(INVALID)
    }
  })

  it('a script tag becomes raw text only at its `>`', () => {
    expect(attributeOf(html`<script src="${JS}"></script>`.value, 'script', 'src')).toBe(INVALID)
    expect(attributeOf(html`<script data-x=">" src="${JS}"></script>`.value, 'script', 'src')).toBe(INVALID)
  })

  it('the end of a raw-text element split over two static parts is refused', () => {
    expect(thrownCode(() => html`<script>${'x'}</scr${'ipt'}>`)).toBe('ERR_HTML_TEMPLATE_INVALID')
    expect(thrownCode(() => html`<textarea>${'x'}</${'textarea'}>`)).toBe('ERR_HTML_TEMPLATE_INVALID')
  })

  it('animation values are checked in end tags too, and <animateColor> is an animation element', () => {
    expect(html`</animate values="${JS}">`.value).toBe(`</animate values="${INVALID}">`)
    expect(html`<svg><animateColor attributeName="href" values="${JS}"/></svg>`.value).toBe(`<svg><animateColor attributeName="href" values="${INVALID}"/></svg>`)
  })

  it.each(['expression', '-expression', '--expression(1)', 'binding', 'moz-binding', '-moz-binding', '--moz-binding'])('%j is no CSS value', (value) => {
    expect(html`<p style="x: ${value}">t</p>`.value).toBe('<p style="x: zWireAuthz">t</p>')
  })

  it.each(['1.5px', '-.5em', '10%', '1.', '#ABCDEF', 'rgba(0,0,0,.5)', 'hsl(1, 2%, 3%)', 'a , b', 'a\t,\tb', 'a  b', '-x', '.x', '#x-y', 'x-', 'a_b', 'important', 'x !important', 'a,', '1px5', '--'])('%j is a CSS value', (value) => {
    expect(html`<p style="x: ${value}">t</p>`.value).toBe(`<p style="x: ${value}">t</p>`)
  })

  it.each(['a ,,b', 'rgb(1;2)', 'rgb(a)', 'x()', 'a\nb', '!x', '1.5.5px', '(1)'])('%j is no CSS value', (value) => {
    expect(html`<p style="x: ${value}">t</p>`.value).toBe('<p style="x: zWireAuthz">t</p>')
  })
})

describe('escape sequences in templates', () => {
  it('use the cooked text of a part when it has one', () => {
    expect(html`<p>\u0041\x42${'c'}\n</p>`.value).toBe('<p>AB' + 'c\n</p>')
  })
})

describe('last scanner survivors', () => {
  it('only `<!--` opens a comment: `<?--` is a bogus comment up to `>`, `< --` is text', () => {
    expect(attributeOf(html`<?--a> <a href="${JS}"> -->`.value, 'a', 'href')).toBe(INVALID)
    expect(attributeOf(html`a < -- <a href="${JS}"> -->`.value, 'a', 'href')).toBe(INVALID)
  })

  it('a name after a valueless attribute and whitespace is a new attribute', () => {
    expect(attributeOf(html`<a download href="${JS}">x</a>`.value, 'a', 'href')).toBe(INVALID)
  })

  it('a `/` before a name only separates', () => {
    expect(attributeOf(html`<a /href="${JS}">x</a>`.value, 'a', 'href')).toBe(INVALID)
  })

  it('a string next to a raw() value in a name is escaped as a tag value', () => {
    expect(html`<a ${raw('')}${'x y'}>x</a>`.value).toBe('<a x&#32;y>x</a>')
  })
})
