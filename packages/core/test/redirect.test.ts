import { describe, expect, it } from 'vitest'
import { resolveSafeRedirect, type SafeRedirectOptions } from '@wire-auth/core'
import { thrownCode } from '../../../test/support/error-code.js'

const options: SafeRedirectOptions = {
  baseOrigin: 'https://auth.example.com',
  allowedOrigins: ['https://allowed.example', 'http://localhost:5173'],
}
const resolve = (value: unknown) => resolveSafeRedirect(value, options)

describe('resolveSafeRedirect: accepted', () => {
  it.each([
    ['/', '/'],
    ['/admin', '/admin'],
    ['/admin?tab=users&x=1#top', '/admin?tab=users&x=1#top'],
    ['/a/b/../c', '/a/c'],
    ['/a/./b', '/a/b'],
    ['/%2e%2e/admin', '/admin'],
    ['/caf\u00e9', '/caf%C3%A9'],
    ['/search?q=a%2Fb', '/search?q=a%2Fb'],
    ['/next?returnTo=//evil.example', '/next?returnTo=//evil.example'],
    ['/x#//evil.example', '/x#//evil.example'],
    ['/a:b', '/a:b'],
  ])('relative %j → %j', (value, expected) => {
    expect(resolve(value)).toBe(expected)
  })

  it.each([
    ['https://auth.example.com/profile', 'https://auth.example.com/profile'],
    ['https://auth.example.com', 'https://auth.example.com/'],
    ['https://auth.example.com:443/x', 'https://auth.example.com/x'],
    ['https://allowed.example/dashboard?x=1#h', 'https://allowed.example/dashboard?x=1#h'],
    ['https://ALLOWED.example/a', 'https://allowed.example/a'],
    ['http://localhost:5173/app', 'http://localhost:5173/app'],
    // IDNA maps these to the very same ASCII host; the normalised href is returned.
    ['https://allowed\u3002example/x', 'https://allowed.example/x'],
    ['https://\uff41llowed.example/x', 'https://allowed.example/x'],
  ])('absolute %j → %j', (value, expected) => {
    expect(resolve(value)).toBe(expected)
  })

  it('normalises allowed origins given with a path or trailing slash', () => {
    expect(resolveSafeRedirect('https://www.example.com/x', { baseOrigin: 'https://auth.example.com/', allowedOrigins: ['https://www.example.com/'] })).toBe(
      'https://www.example.com/x',
    )
  })

  it('accepts exactly 2048 characters', () => {
    const value = `/${'a'.repeat(2047)}`
    expect(resolve(value)).toBe(value)
  })
})

describe('resolveSafeRedirect: refused (null)', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['an object', { toString: () => '/admin' }],
    ['a URL object', new URL('https://auth.example.com/')],
    ['an array', ['/admin']],
    ['empty', ''],
    ['over 2048 characters', `/${'a'.repeat(2048)}`],
  ])('%s', (_label, value) => {
    expect(resolve(value)).toBeNull()
  })

  it.each([
    // protocol-relative and backslash tricks
    '//evil.example',
    '///evil.example',
    '//evil.example/path',
    '/\\evil.example',
    '\\\\evil.example',
    '\\/evil.example',
    '/\\/evil.example',
    '/a\\b',
    // control characters and whitespace anywhere
    '/\t/evil.example',
    '/\n/evil.example',
    '/\r\n/evil.example',
    ' /admin',
    '/admin ',
    '/ad min',
    '/admin\u0000',
    '/admin\u007f',
    '/admin\u0085',
    '/admin\u00a0',
    '/admin\u2028',
    '/admin\u200b',
    '/admin\ufeff',
    '\u0001/admin',
    // percent-encoded slashes, backslashes and dots that change the target
    '/%2F%2Fevil.example',
    '/%2f%2fevil.example',
    '/%2F/evil.example',
    '/%5Cevil.example',
    '/%5cevil.example',
    '/%252F%252Fevil.example',
    '/%25252F%25252Fevil.example',
    '%2F%2Fevil.example',
    '%2f%2fevil.example',
    '/%2e%2e//evil.example',
    '/./%2e%2e//evil.example',
    '/.//evil.example',
    '/%252e%252e/admin',
    '/a/%252e%252e/%252e%252e/x',
    '/%0d%0aSet-Cookie:x=1',
    '/%00',
    '/100%',
    '/%E0%A4%A',
    // other origins
    'https://evil.example',
    'https://evil.example/',
    'http://auth.example.com/',
    'https://auth.example.com:444/',
    'https://allowed.example:444',
    'https://allowed.example.evil.example',
    'https://evil.example/https://allowed.example',
    'https://evilallowed.example',
    'http://allowed.example/',
    'http://localhost:5174/',
    'https://localhost:5173/',
    // credentials
    'https://allowed.example@evil.example',
    'https://allowed.example@evil.example/',
    'https://user:pw@allowed.example/',
    'https://user@allowed.example/',
    'https://:pw@allowed.example/',
    'https://auth.example.com:@evil.example',
    // scheme tricks
    'http:evil.example',
    'https:evil.example',
    'https:/evil.example',
    'http:/\\evil.example',
    'HTTPS://allowed.example/',
    'Https://allowed.example/',
    'HTTP://auth.example.com/',
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    'javascript://allowed.example/%0aalert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox(1)',
    'ftp://allowed.example/',
    'ws://allowed.example/',
    // look-alike unicode hosts (punycode differs from the allowed origin)
    'https://аllowed.example/',
    'https://allowed.exаmple/',
    'https://xn--llowed-6nf.example/',
    'https://allowed.example\uff0fevil/',
    // not a path
    'admin',
    'evil.example',
    '?x=1',
    '#top',
    './admin',
    '../admin',
    '.',
  ])('%j', (value) => {
    expect(resolve(value)).toBeNull()
  })

  it('refuses everything absolute when no other origin is allowed', () => {
    const only = { baseOrigin: 'https://auth.example.com', allowedOrigins: [] }
    expect(resolveSafeRedirect('https://allowed.example/', only)).toBeNull()
    expect(resolveSafeRedirect('https://auth.example.com/ok', only)).toBe('https://auth.example.com/ok')
    expect(resolveSafeRedirect('/ok', only)).toBe('/ok')
  })
})

describe('resolveSafeRedirect: configuration errors', () => {
  it.each([
    ['missing options', undefined],
    ['a relative baseOrigin', { baseOrigin: '/auth', allowedOrigins: [] }],
    ['a non-http baseOrigin', { baseOrigin: 'ftp://auth.example.com', allowedOrigins: [] }],
    ['a missing baseOrigin', { allowedOrigins: [] }],
  ])('throws ERR_INVALID_OPTION for %s', (_label, opts) => {
    expect(thrownCode(() => resolveSafeRedirect('/x', opts as unknown as SafeRedirectOptions))).toBe('ERR_INVALID_OPTION')
  })

  it('throws ERR_INVALID_OPTION for a bad allowedOrigins when an absolute URL needs it', () => {
    const bad = { baseOrigin: 'https://auth.example.com', allowedOrigins: ['not a url'] }
    expect(thrownCode(() => resolveSafeRedirect('https://x.example/', bad))).toBe('ERR_INVALID_OPTION')
    const notArray = { baseOrigin: 'https://auth.example.com', allowedOrigins: 'https://x.example' }
    expect(thrownCode(() => resolveSafeRedirect('https://x.example/', notArray as unknown as SafeRedirectOptions))).toBe('ERR_INVALID_OPTION')
  })
})

// Issue 21: the decoding limit, trailing dot-segments and the fail-closed
// configuration checks, each where it is what decides.
describe('resolveSafeRedirect: decoding limit and dot-segments', () => {
  const encode = (text: string, layers: number) => {
    let out = text
    for (let i = 0; i < layers; i++) out = out.replaceAll('%', '%25')
    return out
  }

  it.each([
    ['a trailing double dot', '/a/%2e%2e'],
    ['a trailing single dot', '/a/%2e'],
    ['a double dot before a slash', '/a/%2e%2e/b'],
  ])('refuses %s hidden under one or two more layers of percent-encoding', (_label, path) => {
    // With no extra layer the URL parser itself resolves the dots (`/a/%2e%2e` → `/`).
    for (const layers of [1, 2]) expect(resolve(encode(path, layers))).toBeNull()
  })

  it('decodes three times, not four: a fourth layer is left as text', () => {
    expect(resolve(encode('/a/%2e%2e', 3))).toBe(encode('/a/%2e%2e', 3))
  })

  it('refuses a path whose percent-encoding does not decode', () => {
    expect(resolve('/a/%E0%A4%A')).toBeNull()
    expect(resolve('/a/%25E0%25A4%25A')).toBeNull()
  })

  it('keeps dots that are not whole segments', () => {
    expect(resolve('/a/..b/.c/d.')).toBe('/a/..b/.c/d.')
    expect(resolve('/a/%2e%2ex')).toBe('/a/%2e%2ex')
  })
})

describe('resolveSafeRedirect: configuration is checked strictly', () => {
  it('refuses null options with ERR_INVALID_OPTION (not a TypeError)', () => {
    expect(thrownCode(() => resolveSafeRedirect('/x', null as never))).toBe('ERR_INVALID_OPTION')
  })

  it('takes only strings as origins, never objects that stringify to one', () => {
    const origin = { toString: () => 'https://auth.example.com' }
    expect(thrownCode(() => resolveSafeRedirect('/x', { baseOrigin: origin as never, allowedOrigins: [] }))).toBe('ERR_INVALID_OPTION')
    expect(thrownCode(() => resolveSafeRedirect('https://a.example/', { ...options, allowedOrigins: [['https://a.example'] as never] }))).toBe('ERR_INVALID_OPTION')
  })

  it('keeps the URL parser error as the cause', () => {
    try {
      resolveSafeRedirect('/x', { baseOrigin: 'not a url', allowedOrigins: [] })
      expect.unreachable()
    } catch (err) {
      expect((err as { code?: unknown }).code).toBe('ERR_INVALID_OPTION')
      expect((err as Error).cause).toBeInstanceOf(TypeError)
    }
  })
})
