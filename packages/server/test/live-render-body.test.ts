import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { regionResultBody as resultBody, type RegionResult } from '@wire-auth/core'
import { encodeBody, renderMessage } from '../src/lib/live/render-encoder.js'

const results: RegionResult[] = [
  { id: 'a', status: 'allowed', html: '<p class="x">Ada "quoted" \\ back\u2028slash</p>\n' },
  { id: 'b', status: 'denied', html: '', code: 'ERR_DENIED' },
  { id: 'c', status: 'denied', html: '<em>else</em>', code: 'ERR_POLICY_THREW' },
  { id: 'd', status: 'redirect', location: '/login?returnTo=%2Fadmin&x="y"', code: 'ERR_UNAUTHENTICATED' },
  { id: 'e', status: 'allowed', html: '\u0000\u001f emoji \ud83d\ude00 lone \ud800 · é ü' },
  { id: 'x:Y_9.-', status: 'allowed', html: '' },
]

describe('hand-built render message', () => {
  it('is byte for byte the UTF-8 of JSON.stringify of the message clients parse', () => {
    const rendered = results.map((result, i) => encodeBody(resultBody(result), i))
    const ids = results.map((result) => result.id)
    const expected = Buffer.from(JSON.stringify({ t: 'render', regions: results }))
    expect(renderMessage(ids, rendered).equals(expected)).toBe(true)
    expect(JSON.parse(renderMessage(ids, rendered).toString('utf8'))).toEqual({ t: 'render', regions: results })
    // One region, and each one alone.
    for (let i = 0; i < results.length; i++) {
      expect(renderMessage([ids[i]!], [rendered[i]!]).toString('utf8')).toBe(JSON.stringify({ t: 'render', regions: [results[i]] }))
    }
  })

  it('hashes the exact body bytes: equal bodies alike, different bodies apart', () => {
    const [a, b] = results.map((result, i) => encodeBody(resultBody(result), i))
    expect(a!.hash).toBe(createHash('sha256').update(JSON.stringify(results[0]).slice('{"id":"a",'.length)).digest('base64url'))
    expect(encodeBody(resultBody(results[0]!), 99).hash).toBe(a!.hash)
    expect(a!.hash).not.toBe(b!.hash)
  })
})
