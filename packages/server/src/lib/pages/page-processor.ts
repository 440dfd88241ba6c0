import { createHash } from 'node:crypto'
import { finished } from 'node:stream/promises'
import { parseClaimsAttribute, parseGuardSpec, parseParamsText, type ClaimRequirement, type GuardSpec } from '@wire-auth/core'
import { RewritingStream } from 'parse5-html-rewriting-stream'
import type { StartTag } from 'parse5-sax-parser'

/**
 * The one marker of protected markup written in place: a `<template>`
 * inside a `<wire-auth-region>` or `<wire-auth-guard>` whose `slot` is
 * `allowed` (shown after the guard allowed) or `denied` (the bound form: the
 * server also decides the denied branch). A `<template>` is inert in every
 * browser, so a page the backend did not process never shows it.
 */
export const PROTECTED_SLOTS: ReadonlySet<string> = new Set(['allowed', 'denied'])

/** Name prefix of the fragments cut out of served pages. */
export const PAGE_FRAGMENT_PREFIX = 'page.'

const ELEMENTS: ReadonlySet<string> = new Set(['wire-auth-region', 'wire-auth-guard'])
/** The marker as text (inside raw-text content, where the tokenizer sees no tags). */
const MARKER = /<template\b[^>]*\bslot\s*=\s*["']?\s*(allowed|denied)\b/i

/** The guard of an element as written in the page: its own spec plus an added claims spec. */
export interface ElementGuard {
  /** `policy` attribute, else `claims`, else authenticated. */
  readonly spec: GuardSpec
  /** The `claims` attribute when `policy` is there too (both must hold). */
  readonly claims: GuardSpec | undefined
  /** The `params` attribute (a JSON object), pinned for this use site. */
  readonly params: Readonly<Record<string, unknown>>
  /** The `redirect` attribute of a guard. */
  readonly redirect: string | undefined
}

/**
 * A page-level `<wire-auth-guard>`: decided on the server before any byte is
 * sent, exactly as the element would be (its fragment's guard AND its policy
 * AND its claims, with its params).
 */
export interface PageGuard {
  /** The element as a guard request (`id` "page"); null when its attributes are malformed (always denied). */
  readonly request: {
    readonly id: string
    readonly kind: 'guard'
    readonly fragment?: string
    readonly policy?: string
    readonly claims?: ReadonlyArray<ClaimRequirement>
    readonly params?: Readonly<Record<string, unknown>>
  } | null
  /** The `redirect` attribute. */
  readonly redirect: string | undefined
}

/** Protected markup cut out of a page, served only through the fragment machinery. */
export interface InPlaceFragment {
  /** `page.<hash of the element's attributes and content>`: set as the element's `fragment` attribute. */
  readonly name: string
  readonly guard: ElementGuard
  /** The `<template slot="allowed">` content (raw source), or '' without one. */
  readonly allowed: string
  /** The `<template slot="denied">` content, or undefined (the element's else children show). */
  readonly denied: string | undefined
}

/** Something wrong in a page's markup; the page is still served, failing closed there. */
export interface PageProblem {
  readonly message: string
}

/** The result of processing one HTML page. */
export interface ProcessedPage {
  /** The page as sent: every protected template cut out. */
  readonly html: string
  /** Page-level guards (not inside protected content), in document order. */
  readonly guards: readonly PageGuard[]
  readonly fragments: readonly InPlaceFragment[]
  readonly problems: readonly PageProblem[]
}

interface ElementFrame {
  readonly type: 'element'
  readonly token: StartTag
  readonly sink: string[]
  /** Index in `sink` of the start tag, rewritten when the element closes. */
  readonly at: number
  /** Inside protected content of an outer element (then never a page-level guard). */
  readonly nested: boolean
  allowed?: string
  denied?: string
}

interface CaptureFrame {
  readonly type: 'capture'
  readonly slot: 'allowed' | 'denied'
  readonly owner: ElementFrame | null
  readonly sink: string[]
  /** `<template>` elements opened inside the captured content and not yet closed. */
  depth: number
}

type Frame = ElementFrame | CaptureFrame

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({})
const AUTHENTICATED = parseGuardSpec(true)

function attr(token: StartTag, name: string): string | undefined {
  return token.attrs.find((a) => a.name === name)?.value
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/\u00a0/g, '&nbsp;')
}

/**
 * The start tag as written plus one attribute, before its `>` (or `/>`): the
 * rest of the tag keeps its exact source text.
 */
function startTagWith(token: StartTag, rawTag: string, name: string, value: string): string {
  const end = token.selfClosing && rawTag.endsWith('/>') ? rawTag.length - 2 : rawTag.length - 1
  return `${rawTag.slice(0, end)} ${name}="${escapeAttribute(value)}"${rawTag.slice(end)}`
}

/**
 * Reads the guard of an element from its attributes, with the same rules as
 * the element itself (core's parsers). @throws GuardSpecInvalid
 */
function elementGuard(token: StartTag): ElementGuard {
  const policy = attr(token, 'policy')
  const claimsText = attr(token, 'claims')
  const redirect = attr(token, 'redirect')
  const paramsText = attr(token, 'params')
  let claims: ClaimRequirement[] | undefined
  if (claimsText !== undefined) claims = parseClaimsAttribute(claimsText)
  let params: Readonly<Record<string, unknown>> = EMPTY
  if (paramsText !== undefined) {
    // The one params rule of every transport (core): a page may not pin what a client could not send.
    const parsed = parseParamsText(paramsText)
    if (!parsed.ok) throw new TypeError(`"params": ${parsed.message}`)
    params = parsed.params
  }
  const claimsSpec = claims === undefined ? undefined : parseGuardSpec({ claims })
  if (policy !== undefined) return { spec: parseGuardSpec({ policy: policy.trim() }), claims: claimsSpec, params, redirect }
  return { spec: claimsSpec ?? AUTHENTICATED, claims: undefined, params, redirect }
}

/**
 * Processes one HTML page with parse5's streaming rewriter: every
 * `<template slot="allowed|denied">` inside a `<wire-auth-region>` or
 * `<wire-auth-guard>` is cut out and becomes an in-place fragment whose
 * guard is the element's attributes as written (and whose params are
 * pinned); the element gets `fragment="page.<hash>"`. Page-level guards are
 * listed for the server to decide before sending anything. Tokens that are
 * not rewritten keep their exact source text.
 *
 * Fails closed: a marker outside any element, a second marker of one slot, a
 * marker beside a `fragment` attribute, an unclosed template or malformed
 * attributes are reported as problems and the content is never served.
 *
 * @param source The page's text.
 */
export async function processPage(source: string): Promise<ProcessedPage> {
  const root: string[] = []
  const stack: Frame[] = []
  const guards: PageGuard[] = []
  const fragments: InPlaceFragment[] = []
  const problems: PageProblem[] = []
  const rewriter = new RewritingStream()
  const raw = (location: { startOffset: number; endOffset: number } | null | undefined): string =>
    location === null || location === undefined ? '' : source.slice(location.startOffset, location.endOffset)
  const top = (): Frame | undefined => stack[stack.length - 1]
  const sink = (): string[] => top()?.sink ?? root
  const insideCapture = (): boolean => stack.some((frame) => frame.type === 'capture')

  const closeElement = (frame: ElementFrame): void => {
    const name = frame.token.tagName
    let guard: ElementGuard | undefined
    try {
      guard = elementGuard(frame.token)
    } catch (err) {
      problems.push({ message: `<${name}> has malformed attributes (${err instanceof Error ? err.message : 'invalid'}): it fails closed` })
    }
    if (name === 'wire-auth-guard' && !frame.nested) {
      const fragment = attr(frame.token, 'fragment')
      guards.push({
        request:
          guard === undefined
            ? null
            : Object.freeze({
                id: 'page',
                kind: 'guard' as const,
                ...(fragment === undefined ? {} : { fragment }),
                ...(guard.spec.kind === 'policy' ? { policy: guard.spec.policy } : {}),
                ...(guard.spec.kind === 'claims' ? { claims: guard.spec.claims } : {}),
                ...(guard.claims?.kind === 'claims' ? { claims: guard.claims.claims } : {}),
                params: guard.params,
              }),
        redirect: attr(frame.token, 'redirect'),
      })
    }
    if (frame.allowed === undefined && frame.denied === undefined) return
    if (attr(frame.token, 'fragment') !== undefined) {
      problems.push({ message: `<${name} fragment="…"> also holds a <template slot="allowed|denied">: the template is dropped, the named fragment is used` })
      return
    }
    // Malformed attributes: no fragment is defined, the name is unknown, the element fails closed.
    // Named by what it is (the element's attributes and content), not by where: every worker and
    // machine derives the same name from the same file, wherever it is installed.
    const hash = createHash('sha256')
      .update(`${frame.token.tagName}\0${frame.token.attrs.map((a) => `${a.name}=${a.value}`).join('\0')}\0${frame.allowed ?? ''}\0${frame.denied ?? '\u0000none'}`)
      .digest('base64url')
      .slice(0, 22)
    const fragmentName = `${PAGE_FRAGMENT_PREFIX}${hash}`
    if (guard !== undefined) fragments.push({ name: fragmentName, guard, allowed: frame.allowed ?? '', denied: frame.denied })
    frame.sink[frame.at] = startTagWith(frame.token, frame.sink[frame.at] as string, 'fragment', fragmentName)
  }

  let inNoscript = false
  rewriter.on('startTag', (token, rawHtml) => {
    if (token.tagName === 'noscript') inNoscript = true
    const current = top()
    if (token.tagName === 'template') {
      if (current?.type === 'capture') {
        current.depth++
      } else {
        const slot = attr(token, 'slot')
        if (slot !== undefined && PROTECTED_SLOTS.has(slot)) {
          const owner = current?.type === 'element' ? current : null
          if (owner === null) problems.push({ message: `<template slot="${slot}"> outside <wire-auth-region>/<wire-auth-guard> is never served` })
          stack.push({ type: 'capture', slot: slot as 'allowed' | 'denied', owner, sink: [], depth: 0 })
          return
        }
      }
    }
    const out = sink()
    if (ELEMENTS.has(token.tagName)) {
      stack.push({ type: 'element', token, sink: out, at: out.length, nested: insideCapture() })
    }
    out.push(rawHtml || raw(token.sourceCodeLocation))
  })

  rewriter.on('endTag', (token, rawHtml) => {
    if (token.tagName === 'noscript') inNoscript = false
    const current = top()
    if (token.tagName === 'template' && current?.type === 'capture') {
      if (current.depth > 0) {
        current.depth--
      } else {
        stack.pop()
        const content = current.sink.join('')
        const owner = current.owner
        if (owner !== null) {
          if (owner[current.slot] !== undefined) problems.push({ message: `a second <template slot="${current.slot}"> in one element is never served` })
          else owner[current.slot] = content
        }
        return
      }
    }
    if (current?.type === 'element' && current.token.tagName === token.tagName) {
      stack.pop()
      current.sink.push(rawHtml)
      closeElement(current)
      return
    }
    sink().push(rawHtml)
  })

  rewriter.on('text', (_token, rawHtml) => {
    // The tokenizer reads <noscript> as raw text (scripting on), a browser without
    // scripts as markup: a marker in there would be sent as it is. Fail closed.
    if (inNoscript && MARKER.test(rawHtml)) {
      problems.push({ message: 'a <template slot="allowed|denied"> inside <noscript> is never served (no script, no guard)' })
      return
    }
    sink().push(rawHtml)
  })
  rewriter.on('comment', (_token, rawHtml) => {
    // Commented-out protected markup is still in the page source: never sent either.
    if (MARKER.test(rawHtml)) {
      problems.push({ message: 'a comment holding <template slot="allowed|denied"> is never served' })
      return
    }
    sink().push(rawHtml)
  })
  rewriter.on('doctype', (_token, rawHtml) => {
    sink().push(rawHtml)
  })

  // Every token has a handler above, so the rewriter's own output stays empty;
  // it is drained and awaited so that the tokenizer's final flush has run.
  rewriter.resume()
  rewriter.end(source)
  await finished(rewriter)

  while (stack.length > 0) {
    const frame = stack.pop() as Frame
    if (frame.type === 'capture') {
      problems.push({ message: `<template slot="${frame.slot}"> is never closed: everything after it is never served` })
    } else {
      closeElement(frame)
    }
  }
  return { html: root.join(''), guards, fragments, problems }
}
