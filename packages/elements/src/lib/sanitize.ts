/**
 * Fragment HTML comes from the server, which escapes what it interpolates.
 * This is the second line of defence: whatever slipped through must not run
 * in the host page. Elements that execute or re-target content are dropped,
 * and so are event-handler attributes, `srcdoc` and script URLs.
 */
const DROPPED_ELEMENTS = 'script,base,meta,noscript'
// Browsers strip ASCII whitespace and control characters when parsing a URL
// scheme (`java\tscript:` runs), so the check does too.
const CONTROL = /[\u0000-\u0020\u007f]/g
// Checked per `;`-separated item too: SVG `<animate values="a;javascript:…">`.
const SCRIPT_URL = /(?:^|;)(?:javascript|vbscript):/i

function cleanElement(element: Element): void {
  for (const name of element.getAttributeNames()) {
    const lower = name.toLowerCase()
    const value = element.getAttribute(name) ?? ''
    if (lower.startsWith('on') || lower === 'srcdoc' || SCRIPT_URL.test(value.replace(CONTROL, ''))) {
      element.removeAttribute(name)
    }
  }
}

function cleanTree(root: DocumentFragment): void {
  for (const element of root.querySelectorAll(DROPPED_ELEMENTS)) element.remove()
  for (const element of root.querySelectorAll('*')) {
    cleanElement(element)
    // Nested templates are inert, but a host script could stamp them later.
    if (element instanceof HTMLTemplateElement) cleanTree(element.content)
  }
}

/**
 * Parses fragment HTML inertly (in a `<template>`, so nothing loads or runs
 * while parsing) and returns a cleaned fragment ready for insertion.
 *
 * @param html Fragment HTML as sent by the server.
 * @param doc The document the nodes will be inserted into.
 * @returns A `DocumentFragment` without `<script>`, `<base>`, `<meta>`,
 *   `<noscript>`, `on*` or `srcdoc` attributes, or `javascript:`/`vbscript:` URLs.
 * @example element.replaceChildren(sanitizeFragment('<p onclick="x()">Hi</p>'))
 */
export function sanitizeFragment(html: string, doc: Document = document): DocumentFragment {
  const template = doc.createElement('template')
  template.innerHTML = html
  cleanTree(template.content)
  return doc.importNode(template.content, true)
}
