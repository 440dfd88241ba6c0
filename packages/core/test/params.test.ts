import { describe, expect, it } from 'vitest'
import { PARAMS_LIMITS, parseParams, parseParamsText, utf8Length } from '../src/index.js'

describe('parseParams: the one params rule (issue 13 F8)', () => {
  it('accepts plain JSON data, frozen deeply, with its JSON and UTF-8 size', () => {
    const parsed = parseParams({ a: 1, b: 'é', c: [true, null, { d: 'x' }] })
    expect(parsed).toMatchObject({ ok: true, json: '{"a":1,"b":"é","c":[true,null,{"d":"x"}]}', bytes: 42 })
    if (!parsed.ok) throw new Error('refused')
    expect(Object.isFrozen(parsed.params)).toBe(true)
    expect(Object.isFrozen((parsed.params.c as unknown[])[2])).toBe(true)
  })

  it('copies unless owned, and freezes an owned value in place', () => {
    const value = { a: { b: 1 } }
    const copied = parseParams(value)
    expect(copied.ok && copied.params !== value && !Object.isFrozen(value)).toBe(true)
    const owned = parseParams(value, true)
    expect(owned.ok && owned.params === value && Object.isFrozen(value.a)).toBe(true)
  })

  it.each([
    ['__proto__', JSON.parse('{"__proto__":{"x":1}}')],
    ['constructor', { constructor: { prototype: { x: 1 } } }],
    ['prototype', { prototype: 1 }],
    ['nested', JSON.parse('{"a":[{"b":{"__proto__":1}}]}')],
  ])('refuses a %s key at any depth with ERR_PARAMS_INVALID', (_label, value) => {
    expect(parseParams(value)).toMatchObject({ ok: false, code: 'ERR_PARAMS_INVALID' })
  })

  it.each([
    ['not an object', [1]],
    ['null', null],
    ['a string', 'x'],
    ['a class instance', new Date(0)],
    ['a Map inside', { m: new Map() }],
    ['a function inside', { f: () => 1 }],
    ['undefined inside', { u: undefined }],
    ['NaN inside', { n: Number.NaN }],
    ['Infinity inside', { n: Number.POSITIVE_INFINITY }],
    ['a bigint inside', { n: 1n }],
    ['too deep', JSON.parse(`${'{"a":'.repeat(PARAMS_LIMITS.maxDepth + 1)}1${'}'.repeat(PARAMS_LIMITS.maxDepth + 1)}`)],
  ])('refuses %s with ERR_PARAMS_INVALID', (_label, value) => {
    expect(parseParams(value)).toMatchObject({ ok: false, code: 'ERR_PARAMS_INVALID' })
  })

  it('bounds the serialised UTF-8 size with ERR_PARAMS_TOO_LARGE', () => {
    const exact = { p: 'x'.repeat(PARAMS_LIMITS.maxBytes - 8) } // {"p":"…"} is 8 bytes of syntax
    expect(parseParams(exact).ok).toBe(true)
    expect(parseParams({ p: 'x'.repeat(PARAMS_LIMITS.maxBytes - 7) })).toMatchObject({ ok: false, code: 'ERR_PARAMS_TOO_LARGE' })
    expect(parseParams({ p: 'é'.repeat(2100) })).toMatchObject({ ok: false, code: 'ERR_PARAMS_TOO_LARGE' })
    expect(parseParams({ p: 'x'.repeat(100) }, false, 50)).toMatchObject({ ok: false, code: 'ERR_PARAMS_TOO_LARGE' })
  })

  it('parseParamsText: JSON text, refused when not JSON or far too long', () => {
    expect(parseParamsText('{"a":1}')).toMatchObject({ ok: true, params: { a: 1 } })
    expect(parseParamsText('{a:1}')).toMatchObject({ ok: false, code: 'ERR_PARAMS_INVALID' })
    expect(parseParamsText('{"__proto__":{}}')).toMatchObject({ ok: false, code: 'ERR_PARAMS_INVALID' })
    expect(parseParamsText(' '.repeat(PARAMS_LIMITS.maxBytes * 4 + 1))).toMatchObject({ ok: false, code: 'ERR_PARAMS_TOO_LARGE' })
  })

  it('utf8Length agrees with TextEncoder, surrogate pairs and lone surrogates included', () => {
    for (const text of ['', 'abc', 'é', '€', '😀', 'a😀b', '\ud800', '\udc00x', 'x\ud83d']) {
      expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length)
    }
  })
})
