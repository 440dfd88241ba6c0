/**
 * The auto-escaping `html` tagged template used by fragment renders.
 *
 * Every interpolation is escaped. The static parts of a template are scanned
 * once (and cached per call site) so that each interpolation knows where it
 * lands: text, a quoted attribute value, a tag, a URL attribute or `srcdoc`.
 */

import { HtmlTemplateInvalid } from './errors.js'

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
  '=': '&#61;',
  ' ': '&#32;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
  '\f': '&#12;',
  '/': '&#47;',
}
const HAS_SPECIAL = /[&<>"'`=]/
const SPECIAL = /[&<>"'`=]/g
/** Inside a tag, whitespace and `/` also separate attributes. */
const HAS_TAG_SPECIAL = /[&<>"'`= \t\n\r\f/]/
const TAG_SPECIAL = /[&<>"'`= \t\n\r\f/]/g
const replaceChar = (ch: string): string => ESCAPES[ch] as string

/** What a URL attribute becomes when its value has a scheme other than http(s), mailto or tel. */
const INVALID_URL = 'about:invalid#wire-auth'
const SAFE_SCHEMES = new Set(['http', 'https', 'mailto', 'tel'])
const URL_ATTRIBUTES = new Set([
  'href', 'src', 'action', 'formaction', 'xlink:href', 'poster', 'cite', 'background',
  'data', 'codebase', 'longdesc', 'lowsrc', 'dynsrc', 'manifest', 'icon',
])
/** SVG animation elements: their `values`, `from`, `to` and `by` can set a URL attribute (`attributeName="href"`). */
const ANIMATION_ELEMENTS = new Set(['animate', 'set', 'animatemotion', 'animatetransform', 'animatecolor'])
const ANIMATION_VALUE_ATTRIBUTES = new Set(['values', 'from', 'to', 'by'])
/**
 * What an interpolated style value may be: keywords, numbers with units,
 * colours, `rgb()`/`hsl()`, comma or space separated (after Closure
 * Templates' `filterCssValue`). No `:`, `;`, quotes, `\`, `/` or `url(`, so a
 * value cannot start a declaration, leave a CSS string or load anything.
 */
const SAFE_CSS_VALUE =
  /^(?!-*(?:expression|(?:moz-)?binding))(?:(?:[.#]?-?[_a-z0-9-]+|(?:rgb|hsl)a?\([0-9.%, ]+\)|-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[a-z]{1,4}|%)?|!important)(?:[ \t\n\r\f]*[, ][ \t\n\r\f]*|$))*$/i
/** What an interpolated style value becomes when it is not a plain CSS value. */
const INVALID_CSS = 'zWireAuthz'
/** An attribute name an interpolation may produce (alone or with static text around it). */
const SAFE_ATTRIBUTE_NAME = /^(?:[a-z_][a-z0-9_.:-]*)?$/i
/** What an interpolated attribute name becomes when it is refused. */
const INVALID_NAME = 'data-wire-auth-invalid'
/** Elements whose content is not markup: a `<` inside does not open a tag. */
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript', 'plaintext'])

const TOKEN = Symbol('wire-auth.html')

/**
 * A string of trusted HTML, produced by {@link html} or {@link raw}. Nested
 * into another template it is inserted as-is. Its constructor is not public:
 * `raw()` is the only way to mark an arbitrary string as HTML.
 */
export class HtmlString {
  /** The HTML text. */
  readonly value: string

  /** @internal use {@link html} or {@link raw}. */
  private constructor(value: string, token: symbol) {
    if (token !== TOKEN) throw new TypeError('HtmlString cannot be constructed directly: use html`…` or raw()')
    this.value = value
    Object.freeze(this)
  }

  /** The HTML text, so that `String(h)` and `${h}` work. */
  toString(): string {
    return this.value
  }
}

const make = (value: string): HtmlString => new (HtmlString as unknown as new (v: string, t: symbol) => HtmlString)(value, TOKEN)

/**
 * Escapes `& < > " ' \` =` so that the result is safe in text and in quoted
 * attribute values.
 * @example escapeHtml('<b title="x">') // '&lt;b title&#61;&quot;x&quot;&gt;'
 */
export function escapeHtml(value: string): string {
  const text = String(value)
  return HAS_SPECIAL.test(text) ? text.replace(SPECIAL, replaceChar) : text
}

function escapeInTag(text: string): string {
  return HAS_TAG_SPECIAL.test(text) ? text.replace(TAG_SPECIAL, replaceChar) : text
}

/**
 * Marks `value` as trusted HTML, without escaping. The only way around the
 * escaping of {@link html}: never pass user input.
 * @example html`<div>${raw(trustedMarkdownOutput)}</div>`
 */
export function raw(value: string): HtmlString {
  if ((value as unknown) instanceof HtmlString) return value as unknown as HtmlString
  return make(value === null || value === undefined ? '' : String(value))
}

// ---------------------------------------------------------------- contexts

const MODE_TEXT = 0 // text or quoted attribute value: escape
const MODE_TAG = 1 // inside a tag, outside a value: escape whitespace and '/' too
const MODE_SRCDOC = 2 // srcdoc="…": the value is itself HTML, escape twice
const MODE_COMMENT = 3 // inside <!-- … -->: escape, never empty, no `-` or `!`
const MODE_CSS = 4 // style="…": a plain CSS value or INVALID_CSS

/** A URL attribute value holding interpolations, checked as a whole. */
interface UrlRun {
  /** Static text of the value before the first interpolation. */
  prefix: string
  slots: number[]
  /** Static text between slots[k] and slots[k + 1]. */
  between: string[]
  /** Static text after the last slot, up to the end of the value. */
  tail: string
  /** A `;`-separated list (SVG animation `values`): every item is checked. */
  list: boolean
}

/** An attribute name holding interpolations, checked as a whole at render. */
interface NameRun {
  /** Static name text before the first slot. */
  prefix: string
  slots: number[]
  between: string[]
  /** Static name text after the last slot. */
  suffix: string
}

interface CompiledTemplate {
  statics: string[]
  modes: number[]
  runs: UrlRun[]
  names: NameRun[]
}

const cache = new WeakMap<TemplateStringsArray, CompiledTemplate>()

const S_TEXT = 0
const S_TAG_OPEN = 1 // just after '<'
const S_TAG_NAME = 2
const S_BEFORE_ATTR = 3
const S_ATTR_NAME = 4
const S_AFTER_ATTR_NAME = 5
const S_BEFORE_VALUE = 6
const S_VALUE = 7
const S_COMMENT = 8 // <!-- … -->
const S_BOGUS = 9 // <!doctype …>, <?…>
const S_RAW = 10

const isSpace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f'
const isAlpha = (ch: string): boolean => (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')

/**
 * Scans the static parts once. Interpolations cannot change the state because
 * they are escaped (a `raw()` value is the developer's own markup). Unquoted
 * attribute values that hold an interpolation are rewritten with quotes.
 */
function compile(strings: TemplateStringsArray): CompiledTemplate {
  const statics: string[] = []
  const modes: number[] = []
  const runs: UrlRun[] = []
  const names: NameRun[] = []
  let state = S_TEXT
  // Stryker disable all: equivalent (docs/testing.md): initial scanner state; every variable is written before it is read
  let tagName = ''
  let isEndTag = false
  let rawEnd = ''
  let attrName = ''
  let quote = '' // '"', "'" or '' (unquoted)
  let quotedByUs = false
  let valueStart = 0 // offset in the current output string where an unquoted value starts
  let valueStatic = '' // static text of the value before its first slot
  let valueHasSlot = false
  let run: UrlRun | null = null
  let pending = '' // static value text since the last slot of `run`
  let nameRun: NameRun | null = null
  let namePending = '' // static name text since the last slot of `nameRun`
  let commentTail = '' // the last three characters of the current comment (an interpolation counts as one)
// Stryker restore all

  const endValue = (): void => {
    if (run !== null) run.tail = pending
    run = null
    // Stryker disable next-line StringLiteral: equivalent (docs/testing.md): `pending` is reset at the first slot of a URL value before it is read
    pending = ''
  }
  const endName = (): void => {
    if (nameRun !== null) nameRun.suffix = namePending
    nameRun = null
    // Stryker disable next-line StringLiteral: equivalent (docs/testing.md): `namePending` is reset when a name run starts
    namePending = ''
  }

  // Stryker disable next-line EqualityOperator: equivalent (docs/testing.md): one more round over an empty part adds an empty static and no mode
  for (let i = 0; i < strings.length; i++) {
    const text = strings[i] ?? strings.raw?.[i] ?? ''
    let out = ''
    for (let p = 0; p < text.length; p++) {
      const ch = text[p] as string
      switch (state) {
        case S_TEXT:
          if (ch === '<') state = S_TAG_OPEN
          break
        case S_TAG_OPEN:
          if (isAlpha(ch)) {
            state = S_TAG_NAME
            tagName = ch.toLowerCase()
            isEndTag = false
          } else if (ch === '/') {
            // `</x` opens an end tag; `</>` is dropped; `</` before anything
            // else opens a bogus comment up to the next `>`. (`</` right
            // before an interpolation is refused below.)
            const next = text[p + 1]
            if (next === undefined) state = S_TEXT
            else if (isAlpha(next)) {
              state = S_TAG_NAME
              tagName = ''
              isEndTag = true
            } else state = S_BOGUS
          } else if (ch === '!' && text.startsWith('--', p + 1)) {
            state = S_COMMENT
            commentTail = ''
            p += 2
            out += '!--'
            continue
          } else if (ch === '!' || ch === '?') {
            state = S_BOGUS
          } else {
            state = ch === '<' ? S_TAG_OPEN : S_TEXT
          }
          break
        case S_TAG_NAME:
          if (isSpace(ch) || ch === '/') state = S_BEFORE_ATTR
          else if (ch === '>') state = S_TEXT
          else tagName += ch.toLowerCase()
          break
        case S_BEFORE_ATTR:
        case S_AFTER_ATTR_NAME:
          if (ch === '=' && state === S_AFTER_ATTR_NAME) state = S_BEFORE_VALUE
          else if (ch === '>') state = S_TEXT
          else if (!isSpace(ch) && ch !== '/') {
            state = S_ATTR_NAME
            attrName = ch.toLowerCase()
          }
          break
        case S_ATTR_NAME:
          if (ch === '=') state = S_BEFORE_VALUE
          else if (ch === '>') state = S_TEXT
          else if (ch === '/') state = S_BEFORE_ATTR
          else if (isSpace(ch)) state = S_AFTER_ATTR_NAME
          else {
            attrName += ch.toLowerCase()
            namePending += ch.toLowerCase()
            break
          }
          endName()
          break
        case S_BEFORE_VALUE:
          if (isSpace(ch)) break
          if (ch === '>') {
            state = S_TEXT
            break
          }
          state = S_VALUE
          valueStatic = ''
          valueHasSlot = false
          quotedByUs = false
          run = null
          // Stryker disable next-line StringLiteral: equivalent (docs/testing.md): reset again at the first slot of a URL value
          pending = ''
          if (ch === '"' || ch === "'") {
            quote = ch
            break
          }
          quote = ''
          valueStart = out.length
          valueStatic = ch
          break
        case S_VALUE:
          if (quote !== '' ? ch === quote : isSpace(ch) || ch === '>') {
            if (quotedByUs) out += '"'
            endValue()
            state = ch === '>' ? S_TEXT : S_BEFORE_ATTR
            break
          }
          // Both are read only while they matter (before the first slot; while `run` is set).
          valueStatic += ch
          pending += ch
          if (quotedByUs && ch === '"') {
            out += '&quot;'
            continue
          }
          break
        case S_COMMENT:
          // `-->`, `--!>`, and the abrupt `<!-->` and `<!--->` all end a comment.
          if (ch === '>' && (commentTail === '' || commentTail === '-' || commentTail.endsWith('--') || commentTail === '--!')) state = S_TEXT
          // Stryker disable next-line MethodExpression: equivalent (docs/testing.md): the slice only bounds the string; the checks read its end
          else commentTail = (commentTail + ch).slice(-3)
          break
        case S_BOGUS:
          if (ch === '>') state = S_TEXT
          break
        case S_RAW:
          // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent (docs/testing.md): `ch === '<'` only skips the slice; the comparison alone decides
          if (ch === '<' && text.slice(p, p + rawEnd.length).toLowerCase() === rawEnd) {
            state = S_TAG_NAME
            // Stryker disable next-line StringLiteral: equivalent (docs/testing.md): an end tag's name is never compared
            tagName = ''
            isEndTag = true
            out += text.slice(p, p + 2)
            p += 1
            continue
          }
          break
      }
      out += ch
      // Entering the content of <script>, <style>, <textarea>…: markup-free until its end tag.
      if (ch === '>' && state === S_TEXT) {
  // (`tagName` of the tag just closed)
        if (!isEndTag && RAW_TEXT.has(tagName)) {
          state = S_RAW
          rawEnd = `</${tagName}`
        }
        // Stryker disable next-line StringLiteral: equivalent (docs/testing.md): the next tag sets its name afresh
        tagName = ''
      }
    }

    if (i === strings.length - 1) {
      if (state === S_VALUE && quotedByUs) out += '"'
      if (state === S_VALUE) endValue()
      endName()
      statics.push(out)
      break
    }

    // An interpolation follows `out`.
    if (state === S_TAG_OPEN || state === S_TAG_NAME || ((state === S_TEXT || state === S_RAW) && endsInEndTag(out, state === S_RAW ? rawEnd : ''))) {
      throw new HtmlTemplateInvalid('html`…`: an interpolation cannot be (part of) a tag name; choose the element in code')
    }
    let mode = MODE_TEXT
    if (state === S_BEFORE_VALUE) {
      state = S_VALUE
      quote = ''
      valueStart = out.length
      valueStatic = ''
      valueHasSlot = false
      quotedByUs = false
      run = null
      // Stryker disable next-line StringLiteral: equivalent (docs/testing.md): reset again at the first slot of a URL value
      pending = ''
    }
    if (state === S_VALUE) {
      if (quote === '' && !quotedByUs) {
        // Quote an unquoted value so that an interpolation can never end it.
        out = `${out.slice(0, valueStart)}"${out.slice(valueStart).replaceAll('"', '&quot;')}`
        quotedByUs = true
      }
      if (attrName === 'srcdoc') mode = MODE_SRCDOC
      else if (attrName === 'style') mode = MODE_CSS
      const list = ANIMATION_ELEMENTS.has(tagName) && ANIMATION_VALUE_ATTRIBUTES.has(attrName)
      if (list || URL_ATTRIBUTES.has(attrName)) {
        if (!valueHasSlot) {
          // A list is checked item by item, whatever its static prefix says.
          if (list || schemeOf(valueStatic) === undefined) {
            // Stryker disable next-line StringLiteral: equivalent (docs/testing.md): `tail` is always set when the value ends
            run = { prefix: valueStatic, slots: [i], between: [], tail: '', list }
            runs.push(run)
          }
        } else if (run !== null) {
          run.between.push(pending)
          run.slots.push(i)
        }
        pending = ''
      }
      valueHasSlot = true
    } else if (state === S_BEFORE_ATTR || state === S_ATTR_NAME || state === S_AFTER_ATTR_NAME) {
      // An attribute name: the whole name (static text around it included)
      // is checked when the template renders.
      mode = MODE_TAG
      if (state === S_ATTR_NAME && nameRun !== null) {
        nameRun.between.push(namePending)
        nameRun.slots.push(i)
      } else {
        // Stryker disable next-line StringLiteral: equivalent (docs/testing.md): `suffix` is always set when the name ends
        nameRun = { prefix: state === S_ATTR_NAME ? attrName : '', slots: [i], between: [], suffix: '' }
        names.push(nameRun)
        if (state !== S_ATTR_NAME) attrName = ''
        state = S_ATTR_NAME
      }
      namePending = ''
    } else if (state === S_COMMENT) {
      mode = MODE_COMMENT
      // Stryker disable next-line MethodExpression: equivalent (docs/testing.md): the slice only bounds the string; the checks read its end
      commentTail = (commentTail + 'x').slice(-3)
    }
    statics.push(out)
    modes.push(mode)
  }
  return { statics, modes, runs, names }
}

/** True when `out` ends inside an end tag's name: `</`, or the start of `rawEnd` (`</scr`). */
function endsInEndTag(out: string, rawEnd: string): boolean {
  if (rawEnd === '') return out.endsWith('</')
  // Stryker disable next-line MethodExpression: equivalent (docs/testing.md): slicing only shortens what endsWith reads
  const tail = out.slice(-rawEnd.length).toLowerCase()
  // Stryker disable next-line EqualityOperator: equivalent (docs/testing.md): the whole end tag already switched the scanner to a tag name
  for (let k = 2; k <= rawEnd.length; k++) if (tail.endsWith(rawEnd.slice(0, k))) return true
  return false
}

// ---------------------------------------------------------------- URLs

const ENTITY = /&(#[xX][0-9a-fA-F]{1,8}|#[0-9]{1,10}|[A-Za-z][A-Za-z0-9]{0,31});?/g
const NAMED: Readonly<Record<string, string>> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", colon: ':', tab: '\t', newline: '\n',
  sol: '/', bsol: '\\', quest: '?', num: '#', period: '.', lpar: '(', rpar: ')', nbsp: '\u00a0',
}

function decodeEntities(text: string): string {
  // Stryker disable next-line all: equivalent (docs/testing.md): a fast path: without `&` the replace changes nothing
  if (!text.includes('&')) return text
  return text.replace(ENTITY, (match, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10)
      if (!(code > 0 && code <= 0x10ffff)) return '\ufffd'
      // Stryker disable next-line EqualityOperator,ConditionalExpression,LogicalOperator: equivalent (docs/testing.md): U+FFFD and a lone surrogate are both visible non-scheme characters
      if (code >= 0xd800 && code <= 0xdfff) return '\ufffd'
      return String.fromCodePoint(code)
    }
    return NAMED[body.toLowerCase()] ?? match
  })
}

/**
 * The scheme a URL text starts with: `null` when it has none (relative),
 * `undefined` when the text does not decide it yet. Conservative: control
 * characters and whitespace are dropped anywhere (browsers drop tabs and
 * newlines inside a scheme), and any `:` before `/`, `?` or `#` counts.
 */
function schemeOf(text: string): string | null | undefined {
  const clean = stripInvisible(decodeRepeatedly(text))
  // Stryker disable next-line EqualityOperator: equivalent (docs/testing.md): reading past the end gives undefined, which matches nothing
  for (let i = 0; i < clean.length; i++) {
    const ch = clean[i]
    if (ch === ':') return clean.slice(0, i).toLowerCase()
    if (ch === '/' || ch === '?' || ch === '#') return null
  }
  return undefined
}

/**
 * Entities are decoded repeatedly: a value may carry `&amp;#106;` that
 * another layer decodes again; blocking it is the safe side.
 */
function decodeRepeatedly(text: string): string {
  let decoded = text
  for (let round = 0; round < 3; round++) {
    const next = decodeEntities(decoded)
    // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): decoding a decoded text again changes nothing
    if (next === decoded) break
    decoded = next
  }
  return decoded
}

/** Control characters and whitespace are dropped anywhere (browsers drop tabs and newlines inside a scheme). */
function stripInvisible(decoded: string): string {
  return decoded.replace(/[\u0000-\u0020\u007f-\u009f\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]/g, '')
}

const isSafeScheme = (scheme: string | null | undefined): boolean => scheme === null || scheme === undefined || SAFE_SCHEMES.has(scheme)

function isSafeRun(run: UrlRun, parts: string[]): boolean {
  let text = run.prefix
  // Stryker disable next-line EqualityOperator: equivalent (docs/testing.md): text appended after the whole value cannot change a scheme it did not have
  for (let k = 0; k < run.slots.length; k++) {
    text += parts[run.slots[k] as number]
    text += k < run.between.length ? run.between[k] : run.tail
  }
  if (!run.list) return isSafeScheme(schemeOf(text))
  // `values="#a;javascript:…"`: the browser decodes entities, then splits.
  return decodeRepeatedly(text).split(';').every((item) => isSafeScheme(schemeOf(item)))
}

/** Attribute names an interpolation may not produce: they run script or carry a URL or markup. */
function isRefusedName(name: string): boolean {
  return (
    !SAFE_ATTRIBUTE_NAME.test(name) ||
    name.startsWith('on') ||
    URL_ATTRIBUTES.has(name) ||
    ANIMATION_VALUE_ATTRIBUTES.has(name) ||
    name === 'srcdoc' ||
    name === 'style'
  )
}

function isSafeName(run: NameRun, values: unknown[], parts: string[]): boolean {
  let name = run.prefix
  for (let k = 0; k < run.slots.length; k++) {
    const slot = run.slots[k] as number
    // A nested html`…` or raw() value is the developer's own markup.
    if (values[slot] instanceof HtmlString) return true
    name += (parts[slot] as string).toLowerCase()
    name += k < run.between.length ? run.between[k] : run.suffix
  }
  return !isRefusedName(name)
}

// ---------------------------------------------------------------- render

function render(value: unknown, mode: number): string {
  if (mode === MODE_COMMENT) {
    // Never empty (`<!--${''}>` would be `<!-->`), no `-` or `!` (`--!>`).
    const text = escapeHtml(plainText(value)).replace(/[-!]/g, (ch) => (ch === '-' ? '&#45;' : '&#33;'))
    return text === '' ? ' ' : text
  }
  if (mode === MODE_CSS) {
    const text = plainText(value)
    return SAFE_CSS_VALUE.test(text) ? escapeHtml(text) : INVALID_CSS
  }
  if (typeof value === 'string') {
    if (mode === MODE_TEXT) return escapeHtml(value)
    return mode === MODE_TAG ? escapeInTag(value) : escapeHtml(escapeHtml(value))
  }
  if (value instanceof HtmlString) return mode === MODE_SRCDOC ? escapeHtml(value.value) : value.value
  if (value === null || value === undefined || value === false) return ''
  if (Array.isArray(value)) {
    let out = ''
    for (const item of value) out += render(item, mode)
    return out
  }
  return render(String(value), mode)
}

/** The text of a value as {@link render} would print it unescaped (HtmlString values as their text). */
function plainText(value: unknown): string {
  if (value === null || value === undefined || value === false) return ''
  // String() of an HtmlString is its text.
  return Array.isArray(value) ? value.map(plainText).join('') : String(value)
}

/**
 * Builds HTML, escaping every interpolation for where it lands.
 *
 * - strings (and anything else) are escaped: `& < > " ' \` =`, plus
 *   whitespace and `/` inside a tag, and twice inside `srcdoc`;
 * - a nested {@link HtmlString} (from `html` or {@link raw}) is inserted as-is;
 * - arrays are flattened; `null`, `undefined` and `false` render nothing;
 *   numbers and bigints render with `String()`;
 * - in a URL attribute (`href`, `src`, `action`, `formaction`, `xlink:href`,
 *   `poster`, `cite`, `background`, `data`, …) a value whose scheme is not
 *   http, https, mailto or tel becomes `about:invalid#wire-auth` (relative
 *   URLs pass). The whole attribute value is checked, entities decoded, with
 *   control characters and whitespace removed;
 * - the `values`, `from`, `to` and `by` of SVG animation elements (`<animate>`,
 *   `<set>`, …) are checked the same way, item by item (`;`-separated): they
 *   can set a URL attribute (`attributeName="href"`);
 * - in a `style` attribute an interpolation must be a plain CSS value
 *   (keywords, numbers with units, colours, `rgb()`/`hsl()`, separated by
 *   spaces or commas); anything else (`:`, `;`, quotes, `url(`, `\`…) becomes
 *   `zWireAuthz`, an invalid value;
 * - inside a comment an interpolation is escaped with `-` and `!` too, and is
 *   never empty, so it cannot end the comment (`-->`, `--!>`, `<!-->`);
 * - in attribute-name position (`<input ${name}>`, `<p data-${key}="…">`) the
 *   whole name, static text around the interpolation included, must be a
 *   plain name (`[A-Za-z_][A-Za-z0-9_.:-]*`) that is not an event handler
 *   (`on*`), a URL attribute, `srcdoc`, `style` or an animation value;
 *   otherwise it becomes `data-wire-auth-invalid`. A nested `html`/`raw()`
 *   value there is the developer's markup and is kept;
 * - an interpolation in a tag name (`<${tag}>`, `<h${level}>`, `</${tag}>`)
 *   is refused: the first render throws `ERR_HTML_TEMPLATE_INVALID`;
 * - an unquoted attribute value holding an interpolation is emitted quoted.
 *
 * Never interpolate into `<script>`, `<style>` or `on*` handler attributes:
 * escaping cannot make text safe there (the elements also strip `on*`
 * attributes and scripts from fragment HTML).
 *
 * @throws {@link HtmlTemplateInvalid} `ERR_HTML_TEMPLATE_INVALID` when the
 *   template puts an interpolation in a tag name.
 * @example
 * ```ts
 * html`<a href="${user.website}">${user.name}</a>`
 * html`<ul>${items.map((item) => html`<li>${item.title}</li>`)}</ul>`
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): HtmlString {
  let template = cache.get(strings)
  // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): compiling again gives the same template (the cache is for speed)
  if (template === undefined) {
    template = compile(strings)
    cache.set(strings, template)
  }
  const { statics, modes, runs, names } = template
  // Stryker disable next-line ConditionalExpression,BlockStatement,LogicalOperator,EqualityOperator: equivalent (docs/testing.md): a fast path; the general path gives the same string
  if (runs.length === 0 && names.length === 0) {
    let out = statics[0] as string
    // Stryker disable next-line EqualityOperator,StringLiteral: equivalent (docs/testing.md): one more round adds an empty string
    for (let i = 0; i < values.length; i++) out += render(values[i], modes[i] as number) + (statics[i + 1] ?? '')
    return make(out)
  }
  const parts = values.map((value, i) => render(value, modes[i] as number))
  for (const run of runs) {
    if (isSafeRun(run, parts)) continue
    // After a static prefix (`href="java${x}"`) the replacement must not
    // complete a scheme, so it starts a fragment instead.
    parts[run.slots[0] as number] = run.prefix === '' ? INVALID_URL : `#${INVALID_URL}`
    // Stryker disable next-line EqualityOperator: equivalent (docs/testing.md): one more round writes an unread `parts[undefined]`
    for (let k = 1; k < run.slots.length; k++) parts[run.slots[k] as number] = ''
  }
  for (const run of names) {
    if (isSafeName(run, values, parts)) continue
    parts[run.slots[0] as number] = INVALID_NAME
    // Stryker disable next-line EqualityOperator: equivalent (docs/testing.md): one more round writes an unread `parts[undefined]`
    for (let k = 1; k < run.slots.length; k++) parts[run.slots[k] as number] = ''
  }
  let out = statics[0] as string
  // Stryker disable next-line StringLiteral: equivalent (docs/testing.md): the last part always has its static
  for (let i = 0; i < parts.length; i++) out += (parts[i] as string) + (statics[i + 1] ?? '')
  return make(out)
}
