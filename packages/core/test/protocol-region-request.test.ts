// Issue 21: parseRegionRequest "never throws" and every documented limit of a
// region request (docs/protocol.md "Limits") at its boundary, where it is the
// check that decides. Problems are asserted as problems (with the id when it
// could be read), never by message text. The parser is core's (issue 20:
// one home of the wire protocol, lib/protocol/region-request.ts).
import { describe, expect, it } from 'vitest'
import { isRegionProblem, parseRegionRequest, parseRegionRequests, MAX_REGION_CLAIMS, type RegionRequest } from '../src/index.js'

const refused = (raw: unknown, id?: string) => {
  const result = parseRegionRequest(raw)
  expect(isRegionProblem(result), String(result)).toBe(true)
  if (id !== undefined) expect(result).toMatchObject({ id })
}
const accepted = (raw: unknown): RegionRequest => {
  const result = parseRegionRequest(raw)
  expect(isRegionProblem(result), JSON.stringify(result)).toBe(false)
  return result as RegionRequest
}

describe('parseRegionRequest never throws on what a socket can send', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', 'r1'],
    ['true', true],
    ['an array', [{ id: 'r', fragment: 'f' }]],
    ['an array without a prototype', Object.setPrototypeOf([], null)],
    ['a Date', new Date(0)],
    ['a Map', new Map([['id', 'r']])],
    ['a class instance', new (class Region { id = 'r'; fragment = 'f' })()],
  ])('%s is a problem', (_label, raw) => {
    expect(() => parseRegionRequest(raw)).not.toThrow()
    refused(raw)
  })

  it('an object without a prototype is a plain object', () => {
    expect(accepted(Object.assign(Object.create(null), { id: 'r', fragment: 'f' }))).toEqual({ id: 'r', kind: 'region', fragment: 'f' })
  })

  it('isRegionProblem is false for non-objects and objects without a message', () => {
    expect(isRegionProblem(null)).toBe(false)
    expect(isRegionProblem('message')).toBe(false)
    expect(isRegionProblem({ id: 'r' })).toBe(false)
    expect(isRegionProblem({ message: 'x' })).toBe(true)
  })
})

describe('region request limits at their boundaries', () => {
  it('id: 1..64 of [A-Za-z0-9_:.-]', () => {
    expect(accepted({ id: 'a'.repeat(64), fragment: 'f' }).id).toHaveLength(64)
    expect(accepted({ id: 'A-z_0:9.x', fragment: 'f' }).id).toBe('A-z_0:9.x')
    refused({ id: 'a'.repeat(65), fragment: 'f' })
    refused({ id: '', fragment: 'f' })
    refused({ id: 7, fragment: 'f' })
    refused({ id: 'a/b', fragment: 'f' })
  })

  it('a problem after the id names the id', () => {
    refused({ id: 'r1', fragment: 'f', extra: 1 }, 'r1')
    refused({ id: 'r2', kind: 'page', fragment: 'f' }, 'r2')
    refused({ id: 'r3', fragment: '' }, 'r3')
    refused({ id: 'r4', fragment: 'f', claims: [] }, 'r4')
    refused({ id: 'r5', fragment: 'f', params: [] }, 'r5')
  })

  it('kind: region by default, or guard; nothing else', () => {
    expect(accepted({ id: 'r', fragment: 'f' }).kind).toBe('region')
    expect(accepted({ id: 'g', kind: 'guard' })).toEqual({ id: 'g', kind: 'guard' })
    refused({ id: 'r', kind: 'Guard' })
  })

  it('fragment and policy: 1..256 characters', () => {
    expect(accepted({ id: 'r', fragment: 'f'.repeat(256), policy: 'p'.repeat(256) }).policy).toHaveLength(256)
    refused({ id: 'r', fragment: 'f'.repeat(257) })
    refused({ id: 'r', fragment: 'f', policy: 'p'.repeat(257) })
    refused({ id: 'r', fragment: 'f', policy: '' })
    refused({ id: 'r', fragment: ['f'] })
  })

  it('redirect and returnTo: guards only, 1..2048 characters', () => {
    const guard = accepted({ id: 'g', kind: 'guard', redirect: `/${'a'.repeat(2047)}`, returnTo: `/${'b'.repeat(2047)}` })
    expect(guard.redirect).toHaveLength(2048)
    expect(guard.returnTo).toHaveLength(2048)
    refused({ id: 'g', kind: 'guard', redirect: `/${'a'.repeat(2048)}` })
    refused({ id: 'g', kind: 'guard', returnTo: `/${'a'.repeat(2048)}` })
    refused({ id: 'g', kind: 'guard', redirect: '' })
    refused({ id: 'r', fragment: 'f', returnTo: '/x' }, 'r')
    refused({ id: 'r', kind: 'region', fragment: 'f', redirect: '/x' }, 'r')
    // A guard may name a fragment; a region must.
    expect(accepted({ id: 'g', kind: 'guard', fragment: 'f' }).fragment).toBe('f')
    refused({ id: 'r', kind: 'region' }, 'r')
  })

  it('claims: 1..16 pairs of [type] or [type, value], non-empty strings of at most 256 characters', () => {
    const sixteen = Array.from({ length: MAX_REGION_CLAIMS }, (_, i) => [`t${i}`, 'v'])
    expect(accepted({ id: 'r', fragment: 'f', claims: sixteen }).claims).toHaveLength(16)
    refused({ id: 'r', fragment: 'f', claims: [...sixteen, ['x', 'y']] })
    refused({ id: 'r', fragment: 'f', claims: [] })
    refused({ id: 'r', fragment: 'f', claims: { 0: ['a'] } })
    refused({ id: 'r', fragment: 'f', claims: ['role'] })
    refused({ id: 'r', fragment: 'f', claims: [[]] })
    refused({ id: 'r', fragment: 'f', claims: [['a', 'b', 'c']] })
    refused({ id: 'r', fragment: 'f', claims: [['', 'x']] })
    refused({ id: 'r', fragment: 'f', claims: [[1]] })
    refused({ id: 'r', fragment: 'f', claims: [['a', null]] })
    refused({ id: 'r', fragment: 'f', claims: [['t'.repeat(257)]] })
    refused({ id: 'r', fragment: 'f', claims: [['t', 'v'.repeat(257)]] })
    // The claim rules of core, as the elements apply them (issue 20): no empty value either.
    refused({ id: 'r', fragment: 'f', claims: [['empty', '']] })
    const edge = accepted({ id: 'r', fragment: 'f', claims: [['t'.repeat(256), 'v'.repeat(256)], ['bare']] })
    expect(edge.claims).toEqual([['t'.repeat(256), 'v'.repeat(256)], ['bare']])
    expect(edge.claims?.[1]).toHaveLength(1)
    expect(Object.isFrozen(edge.claims)).toBe(true)
    expect(edge.claims?.every((pair) => Object.isFrozen(pair))).toBe(true)
  })

  it('params: a plain JSON object of at most 4096 bytes serialised (bytes, not characters)', () => {
    const sized = (bytes: number, char = 'y') => ({ x: char.repeat((bytes - '{"x":""}'.length) / new TextEncoder().encode(char).length) })
    expect(new TextEncoder().encode(JSON.stringify(sized(4096))).length).toBe(4096)
    expect(accepted({ id: 'r', fragment: 'f', params: sized(4096) }).params).toEqual(sized(4096))
    refused({ id: 'r', fragment: 'f', params: sized(4097) })
    // 2-byte characters: 2044 of them are 4096 bytes but only 2052 characters.
    expect(accepted({ id: 'r', fragment: 'f', params: sized(4096, 'é') }).params).toEqual(sized(4096, 'é'))
    refused({ id: 'r', fragment: 'f', params: { x: 'é'.repeat(2045) } })
    refused({ id: 'r', fragment: 'f', params: null })
    refused({ id: 'r', fragment: 'f', params: 'x=1' })
    refused({ id: 'r', fragment: 'f', params: new Date(0) })
    refused({ id: 'r', fragment: 'f', params: { big: 1n } }, 'r')
    expect(accepted({ id: 'r', fragment: 'f', params: {} }).params).toEqual({})
  })

  it('returns a frozen request without absent fields', () => {
    const parsed = accepted({ id: 'r', fragment: 'f', policy: undefined })
    expect(Object.isFrozen(parsed)).toBe(true)
    expect(Object.keys(parsed).sort()).toEqual(['fragment', 'id', 'kind'])
  })
})

describe('parseRegionRequests', () => {
  it('takes an array of at most maxRegions requests with unique ids', () => {
    expect(parseRegionRequests([{ id: 'a', fragment: 'f' }, { id: 'b', fragment: 'g' }], 2)).toEqual([
      { id: 'a', kind: 'region', fragment: 'f' },
      { id: 'b', kind: 'region', fragment: 'g' },
    ])
    expect(parseRegionRequests([], 0)).toEqual([])
    expect(isRegionProblem(parseRegionRequests([{ id: 'a', fragment: 'f' }], 0))).toBe(true)
    expect(isRegionProblem(parseRegionRequests({ 0: { id: 'a', fragment: 'f' } }, 5))).toBe(true)
    expect(isRegionProblem(parseRegionRequests(null, 5))).toBe(true)
    expect(parseRegionRequests([{ id: 'a', fragment: 'f' }, { id: 'a', fragment: 'g' }], 5)).toMatchObject({ id: 'a' })
    expect(parseRegionRequests([{ id: 'a', fragment: 'f' }, { id: 'b' }], 5)).toMatchObject({ id: 'b' })
  })
})

describe('parseRegionRequests copies params unless told the input is its own', () => {
  it('leaves the caller\'s params unfrozen and detached by default', () => {
    const params = { nested: { a: 1 } }
    const parsed = parseRegionRequests([{ id: 'a', fragment: 'f', params }], 5) as RegionRequest[]
    expect(Object.isFrozen(params)).toBe(false)
    expect(parsed[0]!.params).not.toBe(params)
    expect(parsed[0]!.params).toEqual(params)
    expect(Object.isFrozen(parsed[0]!.params)).toBe(true)
  })
})
