// The server's cache identity of a parsed region (fragments/region-digest.ts);
// the parser itself is core's (packages/core/test/protocol-region-request.test.ts).
import { describe, expect, it } from 'vitest'
import { parseRegionRequest, type RegionRequest } from '@wire-auth/core'
import { distinctRegions, regionDigest } from '../src/lib/fragments/region-digest.js'

describe('regionDigest and distinctRegions', () => {
  const parse = (raw: object) => parseRegionRequest(raw) as RegionRequest

  it('a region without params costs no params bytes; with params their UTF-8 bytes', () => {
    expect(regionDigest(parse({ id: 'a', fragment: 'f' })).paramsBytes).toBe(0)
    expect(regionDigest(parse({ id: 'a', fragment: 'f', params: { x: 'é' } })).paramsBytes).toBe(Buffer.byteLength('{"x":"é"}'))
  })

  it('regions equal but for their id have one key; any other field makes another', () => {
    const a = parse({ id: 'a', fragment: 'f', params: { x: 1 } })
    const b = parse({ id: 'b', fragment: 'f', params: { x: 1 } })
    const c = parse({ id: 'c', fragment: 'f', params: { x: 2 } })
    const d = parse({ id: 'd', fragment: 'f', policy: 'P', params: { x: 1 } })
    const e = parse({ id: 'e', kind: 'guard', fragment: 'f', params: { x: 1 } })
    expect(regionDigest(a).key).toBe(regionDigest(b).key)
    expect(regionDigest(a)).toBe(regionDigest(a))
    expect(new Set([a, c, d, e].map((r) => regionDigest(r).key)).size).toBe(4)
    expect(regionDigest(a).key).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(distinctRegions([a, b, c, d, e, b])).toBe(4)
    expect(distinctRegions([])).toBe(0)
  })
})
