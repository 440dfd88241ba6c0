import { describe, expect, it } from 'vitest'
import { GuardSpecInvalid, parseClaimsAttribute, parseGuardAttributes, parseGuardSpec } from '@wire-auth/core'

function codeOf(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(GuardSpecInvalid)
    expect((err as GuardSpecInvalid).statusCode).toBe(400)
    return (err as { code?: unknown }).code
  }
  return 'no error thrown'
}

function isDeepFrozen(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen)
}

describe('parseGuardSpec: accepted forms', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['true', true],
    ["''", ''],
  ])('bare %s → authenticated', (_label, input) => {
    expect(parseGuardSpec(input)).toEqual({ kind: 'authenticated' })
  })

  it('a policy name → policy', () => {
    expect(parseGuardSpec('AdminOnly')).toEqual({ kind: 'policy', policy: 'AdminOnly' })
    expect(parseGuardSpec('org:billing.read_v2-beta')).toEqual({ kind: 'policy', policy: 'org:billing.read_v2-beta' })
    expect(parseGuardSpec('  AdminOnly  ')).toEqual({ kind: 'policy', policy: 'AdminOnly' })
    expect(parseGuardSpec('x'.repeat(128))).toEqual({ kind: 'policy', policy: 'x'.repeat(128) })
  })

  it('{ policy, redirect? } → policy', () => {
    expect(parseGuardSpec({ policy: 'AdminOnly' })).toEqual({ kind: 'policy', policy: 'AdminOnly' })
    expect(parseGuardSpec({ policy: 'AdminOnly', redirect: '/login' })).toEqual({ kind: 'policy', policy: 'AdminOnly', redirect: '/login' })
  })

  it('{ claims, redirect? } → claims (pairs and bare types)', () => {
    expect(parseGuardSpec({ claims: [['role', 'admin'], ['email_verified', 'true']] })).toEqual({
      kind: 'claims',
      claims: [['role', 'admin'], ['email_verified', 'true']],
    })
    expect(parseGuardSpec({ claims: [['beta']], redirect: '/' })).toEqual({ kind: 'claims', claims: [['beta']], redirect: '/' })
  })

  it('{ authenticated: true, redirect? }, { redirect } and {} → authenticated', () => {
    expect(parseGuardSpec({ authenticated: true })).toEqual({ kind: 'authenticated' })
    expect(parseGuardSpec({ authenticated: true, redirect: '/login' })).toEqual({ kind: 'authenticated', redirect: '/login' })
    expect(parseGuardSpec({ redirect: '/login' })).toEqual({ kind: 'authenticated', redirect: '/login' })
    expect(parseGuardSpec({})).toEqual({ kind: 'authenticated' })
  })

  it('keys set to undefined count as absent', () => {
    expect(parseGuardSpec({ policy: 'A', claims: undefined, redirect: undefined })).toEqual({ kind: 'policy', policy: 'A' })
    expect(parseGuardSpec({ policy: undefined, claims: [['role']] })).toEqual({ kind: 'claims', claims: [['role']] })
  })

  it('accepts objects without a prototype', () => {
    const input = Object.assign(Object.create(null) as Record<string, unknown>, { policy: 'A' })
    expect(parseGuardSpec(input)).toEqual({ kind: 'policy', policy: 'A' })
  })

  it('a JSON string of any object form', () => {
    expect(parseGuardSpec('{"policy":"AdminOnly","redirect":"/login"}')).toEqual({ kind: 'policy', policy: 'AdminOnly', redirect: '/login' })
    expect(parseGuardSpec(' {"claims":[["role","admin"],["email_verified","true"]]} ')).toEqual({
      kind: 'claims',
      claims: [['role', 'admin'], ['email_verified', 'true']],
    })
    expect(parseGuardSpec('{"authenticated":true}')).toEqual({ kind: 'authenticated' })
    expect(parseGuardSpec('{}')).toEqual({ kind: 'authenticated' })
  })

  it('returns deeply frozen specs that do not share the input arrays', () => {
    const claims: string[][] = [['role', 'admin']]
    const spec = parseGuardSpec({ claims })
    claims[0]![1] = 'user'
    claims.push(['x'])
    expect(spec).toEqual({ kind: 'claims', claims: [['role', 'admin']] })
    for (const input of [undefined, 'A', { policy: 'A', redirect: '/' }, { claims: [['a', 'b']] }, '{"claims":[["a"]]}', { redirect: '/x' }]) {
      expect(isDeepFrozen(parseGuardSpec(input))).toBe(true)
    }
  })

  it('accepts 16 claim pairs and strings of 256 characters', () => {
    const claims = Array.from({ length: 16 }, (_, i) => [`t${i}`, 'v'.repeat(256)])
    expect(parseGuardSpec({ claims })).toMatchObject({ kind: 'claims' })
    expect(parseGuardSpec({ claims: [['t'.repeat(256)]] })).toMatchObject({ kind: 'claims' })
    expect(parseGuardSpec({ redirect: `/${'a'.repeat(2047)}` })).toMatchObject({ kind: 'authenticated' })
  })
})

describe('parseGuardSpec: errors are ERR_GUARD_SPEC_INVALID', () => {
  it.each([
    ['false', false],
    ['a number', 1],
    ['a bigint', 1n],
    ['a function', () => true],
    ['a symbol', Symbol('x')],
    ['an array', [['role', 'admin']]],
    ['a Map', new Map([['policy', 'A']])],
    ['a Date', new Date()],
    ['a class instance', new (class Spec { policy = 'A' })()],
  ])('wrong type: %s', (_label, input) => {
    expect(codeOf(() => parseGuardSpec(input))).toBe('ERR_GUARD_SPEC_INVALID')
  })

  it.each([
    ['unknown key', { polciy: 'A' }],
    ['unknown key beside policy', { policy: 'A', role: 'admin' }],
    ['__proto__ via JSON', '{"__proto__":{"policy":"A"}}'],
    ['policy and claims', { policy: 'A', claims: [['role']] }],
    ['policy and authenticated', { policy: 'A', authenticated: true }],
    ['authenticated false', { authenticated: false }],
    ['authenticated string', { authenticated: 'true' }],
  ])('%s', (_label, input) => {
    expect(codeOf(() => parseGuardSpec(input))).toBe('ERR_GUARD_SPEC_INVALID')
  })

  it.each([
    ['a space', 'Admin Only'],
    ['a slash', 'a/b'],
    ['quotes', '"AdminOnly"'],
    ['129 characters', 'x'.repeat(129)],
    ['over 256 characters', 'x'.repeat(300)],
    ['whitespace only', '   '],
    ['look-alike unicode', 'Admіn'],
    ['markup', '<script>'],
    ['an array as JSON', '[["role","admin"]]'],
  ])('policy name with %s', (_label, input) => {
    expect(codeOf(() => parseGuardSpec(input))).toBe('ERR_GUARD_SPEC_INVALID')
    expect(codeOf(() => parseGuardSpec({ policy: input }))).toBe('ERR_GUARD_SPEC_INVALID')
  })

  it.each([
    ['empty', { policy: '' }],
    ['a number', { policy: 1 }],
    ['null', { policy: null }],
  ])('policy field %s', (_label, input) => {
    expect(codeOf(() => parseGuardSpec(input))).toBe('ERR_GUARD_SPEC_INVALID')
  })

  it.each([
    ['empty list', []],
    ['not a list', 'role=admin'],
    ['an object', { role: 'admin' }],
    ['null', null],
    ['a bare string item', ['role']],
    ['an empty pair', [[]]],
    ['three parts', [['role', 'admin', 'x']]],
    ['empty type', [['', 'admin']]],
    ['empty value', [['role', '']]],
    ['number value', [['role', 1]]],
    ['null value', [['role', null]]],
    ['type over 256', [['t'.repeat(257)]]],
    ['value over 256', [['role', 'v'.repeat(257)]]],
    ['17 pairs', Array.from({ length: 17 }, (_, i) => [`t${i}`])],
  ])('claims with %s', (_label, claims) => {
    expect(codeOf(() => parseGuardSpec({ claims }))).toBe('ERR_GUARD_SPEC_INVALID')
    expect(codeOf(() => parseGuardSpec(JSON.stringify({ claims })))).toBe('ERR_GUARD_SPEC_INVALID')
  })

  it.each([
    ['empty', ''],
    ['a number', 1],
    ['null', null],
    ['an object', { to: '/' }],
    ['over 2048 characters', `/${'a'.repeat(2048)}`],
  ])('redirect %s', (_label, redirect) => {
    expect(codeOf(() => parseGuardSpec({ redirect }))).toBe('ERR_GUARD_SPEC_INVALID')
    expect(codeOf(() => parseGuardSpec({ policy: 'A', redirect }))).toBe('ERR_GUARD_SPEC_INVALID')
  })

  it.each([
    ['truncated', '{"policy":"A"'],
    ['single quotes', "{'policy':'A'}"],
    ['trailing comma', '{"policy":"A",}'],
    ['huge', `{"policy":"A","x":"${'a'.repeat(30_000)}"}`],
  ])('JSON that does not parse or is too long: %s', (_label, input) => {
    expect(codeOf(() => parseGuardSpec(input))).toBe('ERR_GUARD_SPEC_INVALID')
  })

  it('keeps the JSON error as the cause', () => {
    try {
      parseGuardSpec('{"policy":')
      expect.unreachable()
    } catch (err) {
      expect((err as Error).cause).toBeInstanceOf(SyntaxError)
    }
  })
})

describe('parseClaimsAttribute', () => {
  it('parses JSON', () => {
    expect(parseClaimsAttribute('[["role","admin"],["email_verified","true"]]')).toEqual([
      ['role', 'admin'],
      ['email_verified', 'true'],
    ])
    expect(parseClaimsAttribute(' [["beta"]] ')).toEqual([['beta']])
  })

  it('parses the short form, a bare type accepting any value', () => {
    expect(parseClaimsAttribute('role=admin, email_verified=true')).toEqual([
      ['role', 'admin'],
      ['email_verified', 'true'],
    ])
    expect(parseClaimsAttribute('role')).toEqual([['role']])
    expect(parseClaimsAttribute(' role = admin ,beta ')).toEqual([['role', 'admin'], ['beta']])
    expect(parseClaimsAttribute('scope=a=b')).toEqual([['scope', 'a=b']])
  })

  it('freezes every pair', () => {
    for (const pair of parseClaimsAttribute('role=admin, beta')) expect(Object.isFrozen(pair)).toBe(true)
    for (const pair of parseClaimsAttribute('[["role","admin"]]')) expect(Object.isFrozen(pair)).toBe(true)
  })

  it('accepts 16 pairs', () => {
    expect(parseClaimsAttribute(Array.from({ length: 16 }, (_, i) => `t${i}=v`).join(','))).toHaveLength(16)
  })

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['trailing comma', 'role=admin,'],
    ['empty item', 'role=admin,,beta'],
    ['empty value', 'role='],
    ['empty type', '=admin'],
    ['17 pairs', Array.from({ length: 17 }, (_, i) => `t${i}=v`).join(',')],
    ['value over 256', `role=${'v'.repeat(257)}`],
    ['bad JSON', '[["role","admin"]'],
    ['JSON object', '{"role":"admin"}'],
    ['JSON empty list', '[]'],
    ['JSON not pairs', '["role"]'],
    ['JSON number value', '[["level",3]]'],
    ['not a string', 42],
    ['null', null],
  ])('refuses %s with ERR_GUARD_SPEC_INVALID', (_label, value) => {
    expect(codeOf(() => parseClaimsAttribute(value as string))).toBe('ERR_GUARD_SPEC_INVALID')
  })
})

describe('parseGuardAttributes', () => {
  it('no attributes → authenticated', () => {
    expect(parseGuardAttributes({})).toEqual({ kind: 'authenticated' })
    expect(parseGuardAttributes({ policy: null, claims: null, redirect: null })).toEqual({ kind: 'authenticated' })
  })

  it('policy → policy spec', () => {
    expect(parseGuardAttributes({ policy: 'AdminOnly' })).toEqual({ kind: 'policy', policy: 'AdminOnly' })
    expect(parseGuardAttributes({ policy: ' AdminOnly ', redirect: '/login' })).toEqual({ kind: 'policy', policy: 'AdminOnly', redirect: '/login' })
  })

  it('claims → claims spec (short form and JSON)', () => {
    expect(parseGuardAttributes({ claims: 'role=admin, beta' })).toEqual({ kind: 'claims', claims: [['role', 'admin'], ['beta']] })
    expect(parseGuardAttributes({ claims: '[["role","admin"]]', redirect: '/' })).toEqual({ kind: 'claims', claims: [['role', 'admin']], redirect: '/' })
  })

  it('redirect alone → authenticated with redirect', () => {
    expect(parseGuardAttributes({ redirect: '/login?x=1' })).toEqual({ kind: 'authenticated', redirect: '/login?x=1' })
  })

  it('policy and claims → the policy spec, after validating the claims too', () => {
    expect(parseGuardAttributes({ policy: 'AdminOnly', claims: 'role=admin' })).toEqual({ kind: 'policy', policy: 'AdminOnly' })
    expect(codeOf(() => parseGuardAttributes({ policy: 'AdminOnly', claims: 'role=' }))).toBe('ERR_GUARD_SPEC_INVALID')
  })

  it('returns frozen specs', () => {
    expect(Object.isFrozen(parseGuardAttributes({ policy: 'A', redirect: '/' }))).toBe(true)
    const spec = parseGuardAttributes({ claims: 'a=b' })
    expect(isDeepFrozen(spec)).toBe(true)
  })

  it.each([
    ['blank policy (a template that lost its value)', { policy: '' }],
    ['whitespace policy', { policy: '  ' }],
    ['blank claims', { claims: '' }],
    ['blank redirect', { redirect: '' }],
    ['bad policy', { policy: 'Admin Only' }],
    ['JSON in policy', { policy: '{"policy":"A"}' }],
    ['bad claims', { claims: 'role=' }],
    ['redirect over 2048', { redirect: `/${'a'.repeat(2048)}` }],
    ['number policy', { policy: 1 }],
    ['not an object', null],
  ])('refuses %s with ERR_GUARD_SPEC_INVALID', (_label, attrs) => {
    expect(codeOf(() => parseGuardAttributes(attrs as Parameters<typeof parseGuardAttributes>[0]))).toBe('ERR_GUARD_SPEC_INVALID')
  })
})

// Issue 21: each limit at its boundary, where it is the check that decides,
// and the fail-closed type checks that no other check would catch.
describe('guard specs: limits at their boundaries and fail-closed type checks', () => {
  const MAX_JSON = 24 * 1024

  it('a JSON spec of exactly 24 KiB parses; one character more is refused by the size limit', () => {
    const padded = (length: number) => `{"policy":"A"${' '.repeat(length - '{"policy":"A"}'.length)}}`
    expect(padded(MAX_JSON)).toHaveLength(MAX_JSON)
    expect(parseGuardSpec(padded(MAX_JSON))).toEqual({ kind: 'policy', policy: 'A' })
    expect(codeOf(() => parseGuardSpec(padded(MAX_JSON + 1)))).toBe('ERR_GUARD_SPEC_INVALID')
    expect(parseClaimsAttribute(`[["role"]${' '.repeat(MAX_JSON - 10)}]`)).toEqual([['role']])
    expect(codeOf(() => parseClaimsAttribute(`[["role"]${' '.repeat(MAX_JSON - 9)}]`))).toBe('ERR_GUARD_SPEC_INVALID')
  })

  it('a short-form claims attribute of exactly 24 KiB parses; one character more is refused by the size limit', () => {
    const padded = (length: number) => `role=admin,${' '.repeat(length - 'role=admin,beta'.length)}beta`
    expect(padded(MAX_JSON)).toHaveLength(MAX_JSON)
    expect(parseClaimsAttribute(padded(MAX_JSON))).toEqual([['role', 'admin'], ['beta']])
    expect(codeOf(() => parseClaimsAttribute(padded(MAX_JSON + 1)))).toBe('ERR_GUARD_SPEC_INVALID')
  })

  it('a policy-name string of 256 characters with padding parses; 257 is refused by the length limit', () => {
    expect(parseGuardSpec(`${' '.repeat(255)}A`)).toEqual({ kind: 'policy', policy: 'A' })
    expect(codeOf(() => parseGuardSpec(`${' '.repeat(256)}A`))).toBe('ERR_GUARD_SPEC_INVALID')
    expect(parseGuardAttributes({ policy: `A${' '.repeat(255)}` })).toEqual({ kind: 'policy', policy: 'A' })
    expect(codeOf(() => parseGuardAttributes({ policy: `A${' '.repeat(256)}` }))).toBe('ERR_GUARD_SPEC_INVALID')
  })

  it.each([
    ['a policy name', 'AdminOnly'],
    ['a number', 42],
    ['true', true],
    ['undefined', undefined],
  ])('parseGuardAttributes(%s) is refused, never "any signed-in user"', (_label, attrs) => {
    expect(codeOf(() => parseGuardAttributes(attrs as never))).toBe('ERR_GUARD_SPEC_INVALID')
  })

  it('an array without a prototype is no spec object', () => {
    const list = Object.setPrototypeOf([['role', 'admin']], null) as unknown
    expect(codeOf(() => parseGuardSpec(list))).toBe('ERR_GUARD_SPEC_INVALID')
  })

  it('a spec without a redirect has no redirect key at all', () => {
    for (const spec of [parseGuardSpec({ policy: 'A' }), parseGuardSpec({ claims: [['role']] }), parseGuardSpec('{"policy":"A"}'), parseGuardAttributes({ policy: 'A' }), parseGuardAttributes({ claims: 'role' })]) {
      expect(Object.keys(spec)).not.toContain('redirect')
    }
  })

  it('the redirect attribute is trimmed', () => {
    expect(parseGuardAttributes({ redirect: '  /login  ' })).toEqual({ kind: 'authenticated', redirect: '/login' })
    expect(parseGuardAttributes({ policy: 'A', redirect: '\n/x\t' })).toEqual({ kind: 'policy', policy: 'A', redirect: '/x' })
  })
})
