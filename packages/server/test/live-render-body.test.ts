import { describe, expect, it } from 'vitest'
import type { RegionResult } from '../src/lib/fragments/region-request.js'
import { bodyHash, regionJson, resultBody } from '../src/lib/live/render-batch.js'

const results: RegionResult[] = [
  { id: 'a', status: 'allowed', html: '<p class="x">Ada "quoted" \\ back\u2028slash</p>\n' },
  { id: 'b', status: 'denied', html: '', code: 'ERR_DENIED' },
  { id: 'c', status: 'denied', html: '<em>else</em>', code: 'ERR_POLICY_THREW' },
  { id: 'd', status: 'redirect', location: '/login?returnTo=%2Fadmin&x="y"', code: 'ERR_UNAUTHENTICATED' },
  { id: 'e', status: 'allowed', html: '\u0000\u001f emoji \ud83d\ude00 lone \ud800' },
]

describe('hand-built region JSON', () => {
  it('is exactly JSON.stringify of the result (the socket message clients parse)', () => {
    for (const result of results) {
      const text = regionJson(result.id, { body: resultBody(result), hash: '' })
      expect(text).toBe(JSON.stringify(result))
      expect(JSON.parse(text)).toEqual(result)
    }
  })

  it('hashes equal bodies alike and different bodies apart', () => {
    const [a, b] = results.map(resultBody)
    expect(bodyHash(a!)).toBe(bodyHash(a!))
    expect(bodyHash(a!)).not.toBe(bodyHash(b!))
  })
})
