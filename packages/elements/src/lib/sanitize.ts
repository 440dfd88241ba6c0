/**
 * Fragment HTML comes from the server, which escapes what it interpolates.
 * This is the second line of defence: whatever slipped through must not run,
 * load, restyle, re-target or re-configure anything in the host page. It is
 * an **allow-list** (issue 13 C2): only the elements and attributes below
 * survive; everything else is dropped — `<script>`, `<style>`, `<link>`,
 * `<iframe>`, `<object>`, `<embed>`, `<base>`, `<meta>`, form targets
 * (`action`, `formaction`), event handlers, and the `token` / `backend`
 * attributes of nested wire-auth elements included.
 *
 * Where the browser has the HTML Sanitizer API (`Element.setHTML`, Chromium
 * and Firefox), it parses and filters with this configuration; otherwise the
 * same configuration is applied by a small walker over an inert `<template>`.
 * Both then run the same final checks (URL schemes, DOM clobbering).
 *
 * Why not DOMPurify for the fallback: it is ~9 KB min+gz on its own, and the
 * whole bundle (Lit included) has a 12 KB min+gz budget; the walker below is
 * an allow-list of the same shape, a few hundred bytes, and is tested against
 * the same payloads as the native path (packages/elements/test/sanitize.test.js).
 */

const SVG_NS = 'http://www.w3.org/2000/svg'

const HTML_ELEMENTS = (
  'a abbr address article aside b bdi bdo blockquote br button caption cite code col colgroup data dd del details dfn div dl dt ' +
  'em fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr i img input ins kbd label legend li main mark menu ' +
  'meter nav ol optgroup option output p pre progress q rp rt ruby s samp section select small span strong sub summary sup table ' +
  'tbody td textarea tfoot th thead time tr u ul var wbr wire-auth-region wire-auth-guard wire-auth-user'
).split(' ')

const SVG_ELEMENTS = 'svg g path circle ellipse line polyline polygon rect title desc text tspan defs linearGradient radialGradient stop'.split(' ')

const ATTRIBUTES = (
  // HTML
  'abbr alt aria-checked aria-controls aria-current aria-describedby aria-disabled aria-expanded aria-haspopup aria-hidden ' +
  'aria-label aria-labelledby aria-live aria-pressed aria-selected aria-valuemax aria-valuemin aria-valuenow autocomplete ' +
  'checked cite class colspan cols datetime dir disabled for headers height hidden href hreflang id inputmode label lang max ' +
  'maxlength min minlength multiple name open pattern placeholder readonly rel required reversed role rows rowspan scope ' +
  'selected size slot span spellcheck src start step style tabindex title translate type value width wrap ' +
  // wire-auth elements (never `token` or `backend`: a fragment must not re-point or re-authenticate the page's connection)
  'fragment policy claims params redirect ' +
  // SVG presentation
  'viewBox d fill fill-opacity fill-rule stroke stroke-width stroke-linecap stroke-linejoin stroke-opacity opacity transform ' +
  'x y x1 y1 x2 y2 cx cy r rx ry points offset stop-color stop-opacity gradientUnits gradientTransform preserveAspectRatio ' +
  'text-anchor font-size font-weight xmlns'
).split(' ')

/** The one configuration, for `setHTML` and for the walker. */
const CONFIG = {
  elements: [...HTML_ELEMENTS, ...SVG_ELEMENTS.map((name) => ({ name, namespace: SVG_NS }))],
  attributes: ATTRIBUTES,
  dataAttributes: true,
  comments: false,
}

const HTML_ALLOWED = new Set(HTML_ELEMENTS)
const SVG_ALLOWED = new Set(SVG_ELEMENTS)
const ATTRIBUTES_ALLOWED = new Set(ATTRIBUTES)
const URL_ATTRIBUTES = new Set(['href', 'src', 'cite'])
// Browsers strip ASCII whitespace and control characters when parsing a URL
// scheme (`java\tscript:` runs), so the check does too.
const CONTROL = /[\u0000-\u0020\u007f]/g
/** Relative URLs and these schemes only; `data:` only for images (the CSP allows `img-src data:`). */
const SAFE_URL = /^(?:[^:/?#]*(?:[/?#]|$)|(?:https?|mailto|tel):)/i
const DATA_IMAGE = /^data:image\/(?:png|gif|jpeg|webp);/i

function elementAllowed(element: Element): boolean {
  if (element.namespaceURI === SVG_NS) return SVG_ALLOWED.has(element.localName)
  return element.namespaceURI === 'http://www.w3.org/1999/xhtml' && HTML_ALLOWED.has(element.localName)
}

/** The walker: the configuration above over an inert tree (disallowed elements go with their content, as with `setHTML`). */
function filterTree(root: DocumentFragment): void {
  for (const element of [...root.querySelectorAll('*')]) {
    // Inside an element removed already.
    if (element.getRootNode() !== root) continue
    if (!elementAllowed(element)) {
      element.remove()
      continue
    }
    for (const name of element.getAttributeNames()) {
      if (!ATTRIBUTES_ALLOWED.has(name) && !/^data-[a-z0-9_.-]+$/.test(name)) element.removeAttribute(name)
    }
  }
  const walker = root.ownerDocument.createTreeWalker(root, 128 /* NodeFilter.SHOW_COMMENT */)
  const comments: Node[] = []
  while (walker.nextNode()) comments.push(walker.currentNode)
  for (const comment of comments) comment.parentNode?.removeChild(comment)
}

/** Checks both paths share: URL schemes, and ids / names that would shadow document or form properties (DOM clobbering). */
function finalChecks(root: DocumentFragment, doc: Document): void {
  const form = doc.createElement('form')
  for (const element of root.querySelectorAll('*')) {
    for (const name of URL_ATTRIBUTES) {
      const value = element.getAttribute(name)
      if (value === null) continue
      const compact = value.replace(CONTROL, '')
      const image = name === 'src' && element.localName === 'img' && DATA_IMAGE.test(compact)
      if (!image && !SAFE_URL.test(compact)) element.removeAttribute(name)
    }
    for (const name of ['id', 'name']) {
      const value = element.getAttribute(name)
      if (value !== null && (value in doc || value in form)) element.removeAttribute(name)
    }
  }
}

type NativeTemplate = HTMLTemplateElement & { setHTML(html: string, options: { sanitizer: typeof CONFIG }): void }

function hasNative(template: HTMLTemplateElement): template is NativeTemplate {
  return typeof (template as Partial<NativeTemplate>).setHTML === 'function'
}

/**
 * Parses fragment HTML inertly (into a `<template>`, so nothing loads or runs
 * while parsing) through the allow-list and returns a fragment ready for
 * insertion.
 *
 * @param html Fragment HTML as sent by the server.
 * @param doc The document the nodes will be inserted into.
 * @param native Use the browser's Sanitizer API when it has one (default);
 *   `false` forces the fallback walker (tests run both).
 * @returns A `DocumentFragment` holding only allow-listed elements and
 *   attributes, with safe URLs.
 * @example element.replaceChildren(sanitizeFragment('<p onclick="x()">Hi</p>'))
 */
export function sanitizeFragment(html: string, doc: Document = document, native = true): DocumentFragment {
  const template = doc.createElement('template')
  if (native && hasNative(template)) {
    try {
      template.setHTML(html, { sanitizer: CONFIG })
    } catch {
      // A browser whose Sanitizer API rejects this configuration: the walker applies it instead.
      template.innerHTML = html
      filterTree(template.content)
    }
  } else {
    template.innerHTML = html
    filterTree(template.content)
  }
  finalChecks(template.content, doc)
  return doc.importNode(template.content, true)
}
