import fc from 'fast-check'
import { expect } from 'vitest'
import { errorCode, errorMessage } from '../../support/error-code.js'

/**
 * Bounds of every property run: the security suite must stay well under a
 * minute on two shared cores. Override with FUZZ_RUNS / FUZZ_MS for a longer
 * local hunt; FUZZ_SEED replays a failure.
 */
export function budget(runs: number, ms: number): fc.Parameters<unknown> {
  const scale = Number(process.env.FUZZ_SCALE ?? 1)
  const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED)
  return { numRuns: Math.max(1, Math.round(runs * scale)), interruptAfterTimeLimit: Math.round(ms * scale), markInterruptAsFailure: false, ...(seed === undefined ? {} : { seed }) }
}

/** Strings that have broken parsers, normalisers and escapers. */
export const UNICODE_EDGES = [
  '', ' ', '\u0000', '\u0007', '\n', '\r\n', '\t', '\u00a0', '\u2028', '\u2029', '\u200b', '\u200d', '\u202e', '\u2066', '\ufeff', '\uffff', '\ufffd',
  '\ud800', '\udfff', '\udc00\ud800', '\ud83d\ude00', '\ud83d', 'a\u0301', 'e\u0301\u0301\u0301', 'İ', 'ı', 'ß', 'ﬀ', 'Ⅸ', '＠', '％２Ｆ', 'Ａ',
  '<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "javascript:alert('x')", '{{7*7}}', '${7*7}', '../../etc/passwd', '%00', '%', '%%', '%zz', '%E0%A4%A',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'null', 'undefined', 'NaN', '-0', '1e309', 'x'.repeat(300), '𝕏'.repeat(100),
]

/** A string from the edge list, random text of any code units (lone surrogates included), or a mix. */
export const edgyString = fc.oneof(
  fc.constantFrom(...UNICODE_EDGES),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.tuple(fc.constantFrom(...UNICODE_EDGES), fc.string({ maxLength: 10 }), fc.constantFrom(...UNICODE_EDGES)).map(([a, b, c]) => a + b + c),
)

/** Any JSON value, strings of any code units, bounded depth. */
export const anyJson = fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' })

/** The demo's fragments, and one that does not exist. */
export const FRAGMENTS = ['hello-card', 'beta-panel', 'admin-console', 'account-sessions', 'document', 'no-such-fragment']

/** A region request with a random guard spec (policy, claims, params, ids, kinds). */
export const randomRegion = fc.record(
  {
    id: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_:.-]{1,64}$/), edgyString, anyJson),
    kind: fc.oneof(fc.constantFrom('region', 'guard'), edgyString, anyJson),
    fragment: fc.oneof(fc.constantFrom(...FRAGMENTS), edgyString, anyJson),
    policy: fc.oneof(fc.constantFrom('AdminOnly', 'CanReadDocument', 'NoSuchPolicy', ''), edgyString, anyJson),
    claims: fc.oneof(fc.array(fc.array(fc.oneof(fc.constantFrom('role', 'admin', 'beta'), edgyString), { maxLength: 3 }), { maxLength: 4 }), anyJson),
    params: fc.oneof(fc.dictionary(edgyString, anyJson, { maxKeys: 4 }), fc.record({ docId: fc.constantFrom('welcome', 'board-minutes', 'beta-notes', '__proto__') }), anyJson),
    redirect: fc.oneof(edgyString, fc.constantFrom('//evil.example', '/ok', 'https://www.example.com/x')),
    returnTo: edgyString,
  },
  { requiredKeys: [] },
)


/** Bodies a JSON parser must refuse or survive (and prototype-pollution shapes). */
export const MALFORMED_JSON = [
  '{', '}', '{"regions":', '[1,2', '{"email":"a@b.c","password":}', 'nul', 'NaN', 'Infinity', '{"a":1}garbage', '\ufeff{"a":1}', '{"a":1,}', "{'a':1}", '{a:1}',
  '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}', '{"regions":[{"id":"a","__proto__":{"fragment":"admin-console"}}]}',
  '[]', '""', '0', 'null', 'true', '{"a":"\\ud800"}', '{"a":"\\u0000"}', '1e999999', '-0', '{"a":1e999999}', '{"a":"\\x41"}', '{"a":"\u0000"}',
  `${'['.repeat(3000)}${']'.repeat(3000)}`, `${'{"a":'.repeat(1500)}1${'}'.repeat(1500)}`, '{"email":"a@example.com","email":"b@example.com","password":"x"}', '',
]

/** Content types, including the variants behind Fastify's content-type CVEs. */
export const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'application/JSON', 'Application/Json; Charset=UTF-8', 'application/json; charset=utf-16', 'application/json;charset=latin1',
  'application/json ;', 'application/json\t', ' application/json', 'application/jsonx', 'application/json-patch+json', 'application/vnd.api+json', 'application/json, text/plain',
  'text/json', 'text/plain', 'text/plain; charset=utf-8', 'text/html', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=----x', 'application/octet-stream',
  'application/xml', '*/*', 'application/*', ';', 'application/json; boundary="', 'x'.repeat(300),
]

/** Checks one HTTP answer: never 5xx, coded JSON errors, nothing internal leaked. */
export function expectCodedAnswer(response: { statusCode: number; headers: Record<string, unknown>; body: string }, what: string, method = 'GET'): void {
  expect(response.statusCode, `${what}: ${response.body.slice(0, 300)}`).toBeLessThan(500)
  // HEAD answers carry the GET's headers and no body.
  if (response.statusCode < 400 || method === 'HEAD') return
  expect(response.body, what).not.toMatch(/\n\s+at |SqliteError|node_modules|\.ts:\d+|FST_ERR|stack/)
  const type = String(response.headers['content-type'] ?? '')
  if (type.startsWith('text/html')) {
    // A denied fragment with else content: 403 HTML with the code in a header.
    expect(response.statusCode, what).toBe(403)
    expect(String(response.headers['x-wire-auth-code']), what).toMatch(/^ERR_[A-Z_]+$/)
    return
  }
  expect(type, what).toBe('application/json; charset=utf-8')
  const body = JSON.parse(response.body) as unknown
  expect(errorCode(body), `${what}: ${response.body.slice(0, 300)}`).toMatch(/^ERR_[A-Z_]+$/)
  expect(typeof errorMessage(body), what).toBe('string')
}

const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** encodeURIComponent that never throws: a lone surrogate becomes its WTF-8 bytes (%ED%A0%80…), as an attacker would send them. */
export function encodeAny(value: string): string {
  return value.split(LONE).map((part) => encodeURIComponent(part)).join('%ED%A0%80')
}

/** Percent-encodes only what cannot appear in a request line (controls, spaces, non-ASCII), leaving `%`, `&`, `=`, `/`, `\\` raw. */
export function encodeLoose(value: string): string {
  return value.replace(LONE, '\ufffd').replace(/[^!-~]+/g, (chars) => encodeURIComponent(chars))
}
