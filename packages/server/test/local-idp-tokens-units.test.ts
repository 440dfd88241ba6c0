// AccessTokens at the unit level: each of its own checks at its boundary, the
// checks that fast-jwt would skip, its two caches and the faults it turns into
// coded errors. local-idp-tokens.test.ts holds the behaviour through the local
// IdP; local-idp-tokens-differential.test.ts holds the verifier to jose's.
import { createPrivateKey, generateKeyPairSync, sign, type JsonWebKeyInput, type KeyObject } from 'node:crypto'
import { exportJWK } from 'jose'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { MAX_TOKEN_LENGTH } from '@wire-auth/core'
import { ACCESS_TOKEN_TYP, AccessTokens, VERIFIED_CACHE_SIZE, type AccessTokenOptions } from '../src/lib/local-idp/tokens.js'
import { SigningKeys } from '../src/lib/local-idp/signing-keys.js'
import { frozenClock, tempStore } from './local-idp-harness.js'

const START = Date.UTC(2030, 0, 1)
const NOW = START / 1000
const OPTIONS: AccessTokenOptions = { issuer: 'https://auth.example.com', audience: 'wire-auth', ttlSeconds: 600 }

let env: Awaited<ReturnType<typeof tempStore>>
let clock: ReturnType<typeof frozenClock>
let keys: SigningKeys
let kid: string
let privateKey: KeyObject

beforeEach(async () => {
  env = await tempStore()
  clock = frozenClock(START)
  keys = new SigningKeys(env.store, 'EdDSA', clock.now)
  await keys.init()
  const [record] = await env.store.listSigningKeys()
  kid = record!.kid
  privateKey = createPrivateKey({ key: record!.privateJwk, format: 'jwk' } as JsonWebKeyInput)
})
afterEach(async () => {
  vi.restoreAllMocks()
  await env.cleanup()
})

const b64 = (text: string) => Buffer.from(text).toString('base64url')
const headerText = () => JSON.stringify({ alg: 'EdDSA', kid, typ: ACCESS_TOKEN_TYP })
const claims = (overrides: Record<string, unknown> = {}) => ({ iss: OPTIONS.issuer, aud: OPTIONS.audience, sub: 'user-1', name: 'Ada', jti: 'jti-1', iat: NOW, nbf: NOW, exp: NOW + 600, wa_claims: [['role', 'admin']], wa_ver: 1, ...overrides })

/** Signs the exact header and payload text with our key: every byte of the token is the test's. */
function signText(header: string, payload: string): string {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`
}

const token = (overrides: Record<string, unknown> = {}) => signText(headerText(), JSON.stringify(claims(overrides)))
const verifier = (options: AccessTokenOptions = OPTIONS) => new AccessTokens(keys, env.store, options, clock.now)

/** Length of the base64url (unpadded) text of `bytes` bytes. */
const b64Length = (bytes: number) => Math.floor(bytes / 3) * 4 + (bytes % 3 === 0 ? 0 : (bytes % 3) + 1)

/** A valid token of exactly `length` characters: JSON whitespace in the header and payload sets it. */
function tokenOfLength(length: number): string {
  const signatureLength = b64Length(64)
  const body = JSON.stringify(claims())
  for (let headerSpaces = 0; headerSpaces < 4; headerSpaces++) {
    const header = headerText() + ' '.repeat(headerSpaces)
    const payloadLength = length - b64Length(header.length) - signatureLength - 2
    for (let spaces = 0; b64Length(body.length + spaces) <= payloadLength; spaces++) {
      if (b64Length(body.length + spaces) === payloadLength) return signText(header, body + ' '.repeat(spaces))
    }
  }
  throw new Error(`no token of ${length} characters`)
}

describe('AccessTokens: its own checks at their boundaries', () => {
  it('accepts a token of exactly MAX_TOKEN_LENGTH characters and refuses one character more, before any crypto', async () => {
    const longest = tokenOfLength(MAX_TOKEN_LENGTH)
    const over = tokenOfLength(MAX_TOKEN_LENGTH + 1)
    expect(longest).toHaveLength(MAX_TOKEN_LENGTH)
    expect(over).toHaveLength(MAX_TOKEN_LENGTH + 1)
    expect(await verifier().verifySignedOnly(longest)).toMatchObject({ sub: 'user-1' })
    // Signed with our key and well-formed: only the length refuses it.
    const pem = vi.spyOn(keys, 'publicKeyPem')
    expect(await verifier().verifySignedOnly(over)).toBeNull()
    expect(pem).not.toHaveBeenCalled()
  })

  it('issues a token up to MAX_TOKEN_LENGTH characters and refuses to issue a longer one (ERR_INTERNAL)', async () => {
    const access = verifier()
    const probe = await env.store.createUser({ email: 'probe@example.test', name: '', passwordHash: null })
    const base = (await access.issue(probe)).token.length
    // Each character of the name adds 4/3 of a character to the token: find the names around the limit.
    const first = Math.floor(((MAX_TOKEN_LENGTH - base) * 3) / 4) - 4
    let length = first
    let longest: string | null = null
    for (; length < first + 12; length++) {
      const user = await env.store.createUser({ email: `n${length}@example.test`, name: 'n'.repeat(length), passwordHash: null })
      const issued = await access.issue(user).then(
        (answer) => answer.token,
        (err: unknown) => err,
      )
      if (typeof issued !== 'string') {
        expect(issued).toMatchObject({ code: 'ERR_INTERNAL' })
        break
      }
      longest = issued
    }
    expect(await access.verifySignedOnly(longest)).toMatchObject({ name: 'n'.repeat(length - 1) })
    // With this store's kid, some name makes the token exactly MAX_TOKEN_LENGTH long (base64 leaves out
    // 4k + 1 characters a segment, so that is not true of every header).
    expect(longest).toHaveLength(MAX_TOKEN_LENGTH)
  })

  it('a subject of 1024 characters and a jti of 128 verify; one more of either does not', async () => {
    expect(await verifier().verifySignedOnly(token({ sub: 's'.repeat(1024), jti: 'j'.repeat(128) }))).toMatchObject({ sub: 's'.repeat(1024), jti: 'j'.repeat(128) })
    expect(await verifier().verifySignedOnly(token({ sub: 's'.repeat(1025) }))).toBeNull()
    expect(await verifier().verifySignedOnly(token({ jti: 'j'.repeat(129) }))).toBeNull()
    expect(await verifier().verifySignedOnly(token({ sub: '' }))).toBeNull()
  })

  it('carries up to 256 claims; 257, or a pair that is not two strings, make the token invalid', async () => {
    const pairs = (n: number) => Array.from({ length: n }, (_, i) => ['c', String(i)])
    const full = await verifier().verifySignedOnly(token({ wa_claims: pairs(256) }))
    expect(full?.claims).toHaveLength(256)
    expect(full?.claims[255]).toEqual({ type: 'c', value: '255' })
    expect(await verifier().verifySignedOnly(token({ wa_claims: pairs(257) }))).toBeNull()
    for (const pair of [[1, 'x'], ['x', 1], ['x'], ['x', 'y', 'z'], 'xy', null]) {
      expect(await verifier().verifySignedOnly(token({ wa_claims: [['role', 'admin'], pair] }))).toBeNull()
    }
    expect(await verifier().verifySignedOnly(token({ wa_claims: {} }))).toBeNull()
  })

  it('name is a string, null or absent; wa_ver an integer', async () => {
    expect(await verifier().verifySignedOnly(token({ name: null }))).toMatchObject({ name: null })
    expect(await verifier().verifySignedOnly(token({ name: undefined }))).toMatchObject({ name: null })
    expect(await verifier().verifySignedOnly(token({ name: 'Ada' }))).toMatchObject({ name: 'Ada' })
    expect(await verifier().verifySignedOnly(token({ name: 7 }))).toBeNull()
    expect(await verifier().verifySignedOnly(token({ wa_ver: 2 }))).toMatchObject({ version: 2 })
    for (const wa_ver of ['2', 1.5, null, undefined]) expect(await verifier().verifySignedOnly(token({ wa_ver }))).toBeNull()
  })

  it('never throws on a non-string, even one that reads as a valid token', async () => {
    const good = token()
    for (const input of [undefined, null, 42, { toString: () => good }, [good], new String(good)]) {
      expect(await verifier().verifySignedOnly(input)).toBeNull()
    }
  })
})

describe('AccessTokens: iss and aud are compared even where fast-jwt skips them', () => {
  // fast-jwt skips its iss / aud check when the allowed value is empty; ours runs whatever the options say.
  const empty = { ...OPTIONS, issuer: '', audience: '' }

  it('an empty configured issuer or audience matches only tokens that carry exactly that', async () => {
    expect(await verifier(empty).verifySignedOnly(token({ iss: '', aud: '' }))).toMatchObject({ iss: '', aud: '' })
    expect(await verifier(empty).verifySignedOnly(token({ iss: '', aud: [''] }))).toMatchObject({ aud: '' })
    expect(await verifier(empty).verifySignedOnly(token({ iss: 'https://other.example', aud: '' }))).toBeNull()
    expect(await verifier(empty).verifySignedOnly(token({ iss: '', aud: 'other' }))).toBeNull()
    expect(await verifier(empty).verifySignedOnly(token({ iss: '', aud: ['other'] }))).toBeNull()
    expect(await verifier(empty).verifySignedOnly(token({ iss: '', aud: 5 }))).toBeNull()
  })

  it('an aud array holds ours and only strings', async () => {
    expect(await verifier().verifySignedOnly(token({ aud: ['other', OPTIONS.audience] }))).toMatchObject({ aud: OPTIONS.audience })
    expect(await verifier().verifySignedOnly(token({ aud: ['other'] }))).toBeNull()
    expect(await verifier(empty).verifySignedOnly(token({ iss: '', aud: ['', 5] }))).toBeNull()
    expect(await verifier(empty).verifySignedOnly(token({ iss: '', aud: [5, ''] }))).toBeNull()
  })
})

describe('AccessTokens: the caches', () => {
  it('a repeated token skips the signature work; another token does not evict it', async () => {
    const access = verifier()
    const pem = vi.spyOn(keys, 'publicKeyPem')
    const a = token({ jti: 'a' })
    const b = token({ jti: 'b' })
    expect(await access.verifySignedOnly(a)).toMatchObject({ jti: 'a' })
    expect(await access.verifySignedOnly(a)).toMatchObject({ jti: 'a' })
    expect(pem).toHaveBeenCalledTimes(1)
    expect(await access.verifySignedOnly(b)).toMatchObject({ jti: 'b' })
    expect(await access.verifySignedOnly(a)).toMatchObject({ jti: 'a' })
    expect(pem).toHaveBeenCalledTimes(2)
  })

  it(`remembers the last ${VERIFIED_CACHE_SIZE} tokens: the oldest is forgotten first`, async () => {
    const access = verifier()
    const header = b64(headerText())
    const tokens: string[] = []
    for (let i = 0; i <= VERIFIED_CACHE_SIZE; i++) {
      const input = `${header}.${b64(JSON.stringify(claims({ jti: `t${i}` })))}`
      tokens.push(`${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`)
    }
    for (const t of tokens) expect(await access.verifySignedOnly(t)).not.toBeNull()
    const pem = vi.spyOn(keys, 'publicKeyPem')
    // The second is still remembered; the first was evicted by the last.
    expect(await access.verifySignedOnly(tokens[1])).toMatchObject({ jti: 't1' })
    expect(pem).not.toHaveBeenCalled()
    expect(await access.verifySignedOnly(tokens[0])).toMatchObject({ jti: 't0' })
    expect(pem).toHaveBeenCalledTimes(1)
  })

  it('a remembered token is held to the time rules of a first sight when the clock goes back (nbf, then iat)', async () => {
    const access = verifier()
    const t = token({ iat: NOW - 100, nbf: NOW })
    expect(await access.verifySignedOnly(t)).not.toBeNull()
    clock.set(START - 10_000)
    expect(await access.verifySignedOnly(t)).toBeNull()
    const early = token({ jti: 'early', iat: NOW, nbf: NOW - 100 })
    clock.set(START)
    expect(await access.verifySignedOnly(early)).not.toBeNull()
    clock.set(START - 10_000)
    expect(await access.verifySignedOnly(early)).toBeNull()
  })
})

describe('AccessTokens: faults', () => {
  it('a stored key whose type does not fit the algorithm is a coded error when a token names it, never an accept', async () => {
    // A mislabelled row (an Ed25519 key stored as ES256): the PEM imports, fast-jwt refuses to verify with it.
    // The ES256 key that signs, then an older row that claims to be ES256 too.
    await new SigningKeys(env.store, 'ES256', clock.now).init()
    const ed = generateKeyPairSync('ed25519')
    await env.store.putSigningKey({ kid: 'mislabelled', alg: 'ES256', privateJwk: { ...(await exportJWK(ed.privateKey)) }, publicJwk: { ...(await exportJWK(ed.publicKey)) }, createdAt: START - 1000 })
    const es = new SigningKeys(env.store, 'ES256', clock.now)
    await es.init()
    const input = `${b64(JSON.stringify({ alg: 'ES256', kid: 'mislabelled', typ: ACCESS_TOKEN_TYP }))}.${b64(JSON.stringify(claims()))}`
    const forged = `${input}.${Buffer.alloc(64, 1).toString('base64url')}`
    const failure = await new AccessTokens(es, env.store, OPTIONS, clock.now).verifySignedOnly(forged).then(
      () => null,
      (err: unknown) => err,
    )
    expect(failure).toMatchObject({ code: 'ERR_INTERNAL' })
    expect((failure as Error).cause).toBeInstanceOf(Error)
  })

  it('without an injected clock, the real one: a fresh token verifies, one expired a minute ago does not', async () => {
    const realKeys = new SigningKeys(env.store, 'EdDSA')
    await realKeys.init()
    const access = new AccessTokens(realKeys, env.store, OPTIONS)
    const user = await env.store.createUser({ email: 'clock@example.test', name: 'C', passwordHash: null })
    const issued = await access.issue(user)
    const now = Math.floor(Date.now() / 1000)
    expect(Math.abs(issued.iat - now)).toBeLessThanOrEqual(1)
    expect(issued.exp).toBe(issued.iat + OPTIONS.ttlSeconds)
    expect(await access.verifySignedOnly(issued.token)).toMatchObject({ sub: user.id })
    expect(await access.verifySignedOnly(token({ jti: 'old', iat: now - 700, nbf: now - 700, exp: now - 60 }))).toBeNull()
  })
})
