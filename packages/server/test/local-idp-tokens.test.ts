import { createPrivateKey, createPublicKey, sign } from 'node:crypto'
import { base64url, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { LocalIdp } from '../src/lib/local-idp/local-idp.js'
import type { SqliteAuthStore } from '../src/lib/store/sqlite-store.js'
import type { UserRecord } from '../src/lib/store/auth-store.js'
import { frozenClock, makeIdp, tempStore } from './local-idp-harness.js'

const ISSUER = 'http://localhost:3000'
/** A resource server that may see everything, for introspection calls. */
const ANY_SERVER = { id: 'rs', secret: 'x'.repeat(32), claimTypes: new Set(['role']), name: true }
const AUDIENCE = 'wire-auth'

let env: Awaited<ReturnType<typeof tempStore>>
let clock: ReturnType<typeof frozenClock>
let idp: LocalIdp
let user: UserRecord

beforeEach(async () => {
  env = await tempStore()
  clock = frozenClock()
  idp = await makeIdp(env.store, clock.now)
  user = await env.store.createUser({ email: 'ada@example.com', name: 'Ada', passwordHash: null, claims: [{ type: 'role', value: 'admin' }] })
})
afterEach(async () => {
  await env.cleanup()
})

const nowSeconds = () => Math.floor(clock.now() / 1000)

/** Our real signing key, as an attacker who stole nothing would not have it — used to isolate one defect per token. */
async function ourKey(store: SqliteAuthStore = env.store) {
  const [record] = await store.listSigningKeys()
  return { kid: record.kid, alg: record.alg, publicJwk: record.publicJwk as JWK, privateKey: await importJWK(record.privateJwk as JWK, record.alg) }
}

/** A token signed with our key; `claims` and `header` override the well-formed defaults. */
async function forge(claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
  const key = await ourKey()
  const iat = nowSeconds()
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: user.id, name: 'Ada', jti: 'forged-jti', iat, nbf: iat, exp: iat + 600, wa_claims: [['role', 'admin']], wa_ver: 1, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header })
    .sign(key.privateKey)
}

/** Signs arbitrary header and payload JSON with our Ed25519 key, bypassing jose's own header checks. */
async function forgeRaw(header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const [record] = await env.store.listSigningKeys()
  const enc = (o: object) => base64url.encode(JSON.stringify(o))
  const input = `${enc(header)}.${enc(payload)}`
  const signature = sign(null, Buffer.from(input), createPrivateKey({ key: record.privateJwk as JWK & { kty: string }, format: 'jwk' }))
  return `${input}.${base64url.encode(signature)}`
}

describe('access tokens', () => {
  it('issues an EdDSA at+jwt with the documented claims and verifies it', async () => {
    const { access_token, token_type, expires_in, refresh_token } = await idp.issueTokens(user)
    expect(token_type).toBe('Bearer')
    expect(expires_in).toBe(600)
    expect(refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const [h, p] = access_token.split('.').slice(0, 2).map((part) => JSON.parse(new TextDecoder().decode(base64url.decode(part))) as Record<string, unknown>)
    expect(h).toEqual({ alg: 'EdDSA', kid: (await ourKey()).kid, typ: 'at+jwt' })
    expect(p).toMatchObject({ iss: ISSUER, aud: AUDIENCE, sub: user.id, name: 'Ada', wa_claims: [['role', 'admin']], wa_ver: user.version })
    expect(p.exp).toBe((p.iat as number) + 600)
    expect(p.nbf).toBe(p.iat)
    expect(typeof p.jti).toBe('string')

    const principal = await idp.verifyAccessToken(access_token)
    expect(principal).toMatchObject({ isAuthenticated: true, userId: user.id, name: 'Ada' })
    expect(principal!.hasClaim('role', 'admin')).toBe(true)
    expect(principal!.raw).toEqual({ jti: p.jti, exp: p.exp, tokenUse: 'access' })
  })

  it('accepts a well-formed token signed with our key (control for the forgeries below)', async () => {
    expect(await idp.verifyAccessToken(await forge())).not.toBeNull()
  })

  it('refuses to issue a token that verification would refuse for its size', async () => {
    const claims = Array.from({ length: 200 }, (_, i) => ({ type: `permission-${i}`, value: 'x'.repeat(40) }))
    const heavy = await env.store.createUser({ email: 'heavy@example.com', name: 'Heavy', passwordHash: null, claims })
    await expect(idp.issueTokens(heavy)).rejects.toMatchObject({ code: 'ERR_INTERNAL' })
  })

  it('signs with ES256 when configured', async () => {
    const es = await makeIdp(env.store, clock.now, { signingAlg: 'ES256' })
    const { access_token } = await es.issueTokens(user)
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(access_token.split('.')[0]))).alg).toBe('ES256')
    expect(await es.verifyAccessToken(access_token)).not.toBeNull()
    // The EdDSA verifier pins its own algorithm.
    expect(await idp.verifyAccessToken(access_token)).toBeNull()
  })
})

describe('forged and malformed tokens are rejected (checklist 10, 11)', () => {
  it('alg none', async () => {
    const key = await ourKey()
    const enc = (o: object) => base64url.encode(JSON.stringify(o))
    const iat = nowSeconds()
    const body = enc({ iss: ISSUER, aud: AUDIENCE, sub: user.id, jti: 'x', iat, nbf: iat, exp: iat + 600, wa_claims: [], wa_ver: 1 })
    for (const alg of ['none', 'None', 'NONE']) {
      const head = enc({ alg, kid: key.kid, typ: 'at+jwt' })
      expect(await idp.verifyAccessToken(`${head}.${body}.`)).toBeNull()
      expect(await idp.verifyAccessToken(`${head}.${body}.${base64url.encode('sig')}`)).toBeNull()
    }
  })

  it('HS256 with our public key as the HMAC secret (algorithm confusion)', async () => {
    const key = await ourKey()
    const iat = nowSeconds()
    const pem = createPublicKey({ key: key.publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' })
    const secrets = [new TextEncoder().encode(String(pem)), base64url.decode(String(key.publicJwk.x)), new TextEncoder().encode(JSON.stringify(key.publicJwk))]
    for (const secret of secrets) {
      const token = await new SignJWT({ sub: user.id, jti: 'hs', wa_claims: [], wa_ver: 1 })
        .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(iat)
        .setNotBefore(iat)
        .setExpirationTime(iat + 600)
        .sign(secret)
      expect(await idp.verifyAccessToken(token)).toBeNull()
    }
  })

  it('an attacker key embedded as jwk, or pointed to by jku / x5u / x5c', async () => {
    const attacker = await generateKeyPair('EdDSA', { extractable: true })
    const attackerJwk = await exportJWK(attacker.publicKey)
    const kid = (await ourKey()).kid
    const iat = nowSeconds()
    const headers: Record<string, unknown>[] = [
      { jwk: attackerJwk },
      { jwk: attackerJwk, kid: 'attacker' },
      { jku: 'https://evil.example/jwks.json' },
      { x5u: 'https://evil.example/cert.pem' },
      { x5c: ['MIIB'] },
    ]
    for (const extra of headers) {
      const token = await new SignJWT({ sub: user.id, jti: 'embedded', wa_claims: [['role', 'admin']], wa_ver: 1 })
        .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt', ...extra })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(iat)
        .setNotBefore(iat)
        .setExpirationTime(iat + 600)
        .sign(attacker.privateKey)
      expect(await idp.verifyAccessToken(token)).toBeNull()
    }
  })

  it('extra header parameters on a token signed with our own key (jwk, crit, b64, zip)', async () => {
    const attacker = await generateKeyPair('EdDSA', { extractable: true })
    const kid = (await ourKey()).kid
    const iat = nowSeconds()
    const payload = { iss: ISSUER, aud: AUDIENCE, sub: user.id, jti: 'raw', iat, nbf: iat, exp: iat + 600, wa_claims: [], wa_ver: 1 }
    // Control: the raw signer makes tokens we accept.
    expect(await idp.verifyAccessToken(await forgeRaw({ alg: 'EdDSA', kid, typ: 'at+jwt' }, payload))).not.toBeNull()
    for (const extra of [{ jwk: await exportJWK(attacker.publicKey) }, { crit: ['wa'], wa: 1 }, { crit: ['b64'], b64: true }, { zip: 'DEF' }, { cty: 'JWT' }]) {
      expect(await idp.verifyAccessToken(await forgeRaw({ alg: 'EdDSA', kid, typ: 'at+jwt', ...extra }, payload))).toBeNull()
    }
  })

  it('unknown, missing or odd kid', async () => {
    expect(await idp.verifyAccessToken(await forge({}, { kid: 'not-our-kid' }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({}, { kid: undefined }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({}, { kid: '../../../etc/passwd' }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({}, { kid: 42 }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({}, { kid: 'k'.repeat(200) }))).toBeNull()
  })

  it('a token signed by an attacker key under our kid', async () => {
    const attacker = await generateKeyPair('EdDSA')
    const iat = nowSeconds()
    const token = await new SignJWT({ sub: user.id, jti: 'x', wa_claims: [], wa_ver: 1 })
      .setProtectedHeader({ alg: 'EdDSA', kid: (await ourKey()).kid, typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + 600)
      .sign(attacker.privateKey)
    expect(await idp.verifyAccessToken(token)).toBeNull()
  })

  it('missing or wrong typ', async () => {
    expect(await idp.verifyAccessToken(await forge({}, { typ: undefined }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({}, { typ: 'JWT' }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({}, { typ: 'application/at+jwt' }))).toBeNull()
  })

  it('wrong or missing iss / aud', async () => {
    expect(await idp.verifyAccessToken(await forge({ iss: 'https://evil.example' }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({ iss: undefined }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({ aud: 'another-api' }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({ aud: undefined }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({ aud: ['another-api'] }))).toBeNull()
  })

  it('expired, missing exp, nbf in the future, missing nbf, iat in the future', async () => {
    const now = nowSeconds()
    expect(await idp.verifyAccessToken(await forge({ exp: now - 60 }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({ exp: undefined }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({ nbf: now + 120 }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({ nbf: undefined }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({ iat: now + 120, nbf: now }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({ iat: undefined }))).toBeNull()
  })

  it('a real token stops working once it expires (frozen clock)', async () => {
    const { access_token } = await idp.issueTokens(user)
    clock.advance(599_000)
    expect(await idp.verifyAccessToken(access_token)).not.toBeNull()
    clock.advance(10_000)
    expect(await idp.verifyAccessToken(access_token)).toBeNull()
  })

  it('the verified-token cache never outlives a revocation, an expiry or a changed byte', async () => {
    const { access_token } = await idp.issueTokens(user)
    expect(await idp.verifyAccessToken(access_token)).not.toBeNull()
    expect(await idp.verifyAccessToken(access_token)).not.toBeNull() // served from the cache
    const [head, body, signature] = access_token.split('.')
    const flipped = `${head}.${body}.${signature!.slice(0, -2)}${signature!.endsWith('AA') ? 'BA' : 'AA'}`
    expect(await idp.verifyAccessToken(flipped)).toBeNull()
    await idp.revokeToken(access_token)
    expect(await idp.verifyAccessToken(access_token)).toBeNull()
  })

  it('missing sub or jti, or malformed private claims', async () => {
    expect(await idp.verifyAccessToken(await forge({ sub: undefined }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({ jti: undefined }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({ wa_claims: 'role=admin' }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({ wa_claims: [['role']] }))).toBeNull()
    expect(await idp.verifyAccessToken(await forge({ wa_ver: '1' }))).toBeNull()
  })

  it('a refresh token used as an access token, and an access token used as a refresh token', async () => {
    const { access_token, refresh_token } = await idp.issueTokens(user)
    expect(await idp.verifyAccessToken(refresh_token)).toBeNull()
    expect(await idp.introspect(refresh_token, ANY_SERVER)).toEqual({ active: false })
    expect(await idp.refresh(access_token)).toMatchObject({ ok: false, reason: 'invalid' })
    // The access token still works: a failed swap revokes nothing.
    expect(await idp.verifyAccessToken(access_token)).not.toBeNull()
  })

  it('oversized and malformed tokens are invalid without throwing (checklist 12)', async () => {
    const good = (await idp.issueTokens(user)).access_token
    const samples = [
      '',
      '.',
      '..',
      'a.b',
      'a.b.c.d',
      `${good}.`,
      `${good} `,
      good.replace(/\./g, '!'),
      `${'A'.repeat(9000)}.${'B'.repeat(10)}.${'C'.repeat(10)}`,
      `${good.split('.')[0]}.${'e30'.repeat(3000)}.${good.split('.')[2]}`,
      `${base64url.encode('{"alg":"EdDSA"')}.e30.AAAA`,
      `${base64url.encode('[]')}.e30.AAAA`,
      `${base64url.encode('null')}.e30.AAAA`,
      `${good.split('.')[0]}.${base64url.encode('not json')}.${good.split('.')[2]}`,
      '\u0000\u0001.\u0002.\u0003',
      '😀.😀.😀',
    ]
    for (const token of samples) expect(await idp.verifyAccessToken(token)).toBeNull()
    for (const value of [undefined, null, 42, {}, ['a.b.c']]) expect(await idp.verifyAccessTokenPayload(value)).toBeNull()
  })

  it('never throws on arbitrary strings (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), fc.array(fc.base64String({ maxLength: 60 }), { minLength: 1, maxLength: 5 }).map((parts) => parts.join('.').replace(/\+/g, '-').replace(/\//g, '_').replace(/=/g, ''))), async (token) => {
        expect(await idp.verifyAccessToken(token)).toBeNull()
      }),
      { numRuns: 300 },
    )
  })
})

describe('the user row stays authoritative', () => {
  it('a disabled user gets no tokens, and their live tokens stop verifying', async () => {
    const { access_token, refresh_token } = await idp.issueTokens(user)
    const disabled = await env.store.updateUser(user.id, { disabled: true })
    expect(await idp.verifyAccessToken(access_token)).toBeNull()
    await expect(idp.issueTokens(disabled)).rejects.toMatchObject({ code: 'ERR_USER_DISABLED' })
    expect(await idp.refresh(refresh_token)).toMatchObject({ ok: false, reason: 'invalid' })
  })

  it('a revoked claim is gone from the next verification', async () => {
    const { access_token } = await idp.issueTokens(user)
    await env.store.removeClaim(user.id, 'role', 'admin')
    const principal = await idp.verifyAccessToken(access_token)
    expect(principal!.hasClaim('role')).toBe(false)
  })

  it('a deleted-or-unknown subject does not verify', async () => {
    expect(await idp.verifyAccessToken(await forge({ sub: 'no-such-user' }))).toBeNull()
  })
})

describe('revocation (checklist 13)', () => {
  it('revoking an access token denylists its jti; revoking again is fine', async () => {
    const { access_token } = await idp.issueTokens(user)
    expect(await idp.revokeToken(access_token)).toEqual({ kind: 'access', userId: user.id })
    expect(await idp.verifyAccessToken(access_token)).toBeNull()
    expect(await idp.introspect(access_token, ANY_SERVER)).toEqual({ active: false })
    expect(await idp.revokeToken(access_token)).toEqual({ kind: 'access', userId: user.id })
  })

  it('revoking a refresh token revokes its family', async () => {
    const first = await idp.issueTokens(user)
    const rotated = await idp.refresh(first.refresh_token)
    if (!rotated.ok) throw new Error('rotation failed')
    expect(await idp.revokeToken(first.refresh_token)).toEqual({ kind: 'refresh', userId: user.id })
    expect(await idp.refresh(rotated.tokens.refresh_token)).toMatchObject({ ok: false, reason: 'invalid' })
  })

  it('unknown and garbage tokens are "unknown", never an error', async () => {
    for (const token of ['', 'garbage', 'A'.repeat(43), 'a.b.c', await forge({ iss: 'https://evil.example' }), undefined, 7]) {
      expect(await idp.revokeToken(token)).toEqual({ kind: 'unknown' })
    }
  })

  it('reuse of a rotated refresh token revokes the whole family', async () => {
    const first = await idp.issueTokens(user)
    const second = await idp.refresh(first.refresh_token)
    if (!second.ok) throw new Error('rotation failed')
    const third = await idp.refresh(second.tokens.refresh_token)
    if (!third.ok) throw new Error('rotation failed')
    // The first token comes back: someone else holds it.
    expect(await idp.refresh(first.refresh_token)).toMatchObject({ ok: false, reason: 'reuse', userId: user.id })
    expect(await idp.refresh(third.tokens.refresh_token)).toMatchObject({ ok: false, reason: 'invalid' })
    // Another login's family is untouched.
    const other = await idp.issueTokens(user)
    expect(await idp.refresh(other.refresh_token)).toMatchObject({ ok: true })
  })

  it('two concurrent uses of one refresh token: at most one wins and the family is revoked', async () => {
    const { refresh_token } = await idp.issueTokens(user)
    const results = await Promise.all([idp.refresh(refresh_token), idp.refresh(refresh_token)])
    expect(results.filter((r) => r.ok).length).toBeLessThanOrEqual(1)
    for (const r of results) if (r.ok) expect(await idp.refresh(r.tokens.refresh_token)).toMatchObject({ ok: false })
  })

  it('an expired refresh token is refused', async () => {
    const { refresh_token } = await idp.issueTokens(user)
    clock.advance(30 * 24 * 3600 * 1000 + 1)
    expect(await idp.refresh(refresh_token)).toMatchObject({ ok: false, reason: 'invalid' })
  })

  it('stores only the SHA-256 of refresh tokens', async () => {
    const { refresh_token } = await idp.issueTokens(user)
    expect(await env.store.getRefreshToken(refresh_token)).toBeNull()
    const { createHash } = await import('node:crypto')
    expect(await env.store.getRefreshToken(createHash('sha256').update(refresh_token).digest('hex'))).toMatchObject({ userId: user.id, usedAt: null })
  })
})

describe('signing keys live in the store', () => {
  it('tokens survive a restart: a new LocalIdp on the same SQLite file verifies an old token', async () => {
    const { access_token } = await idp.issueTokens(user)
    await env.store.close()
    const reopened = await env.open()
    const again = await makeIdp(reopened, clock.now)
    expect(await again.verifyAccessToken(access_token)).toMatchObject({ userId: user.id })
    expect((await again.jwks()).keys).toHaveLength(1)
  })

  it('two workers racing at first start converge on one signing key', async () => {
    const fresh = await tempStore()
    try {
      const stores = [fresh.store, await fresh.open(), await fresh.open()]
      const idps = await Promise.all(stores.map((s) => makeIdp(s, clock.now)))
      const target = await stores[0].createUser({ email: 'b@example.com', name: 'B', passwordHash: null })
      const tokens = await Promise.all(idps.map((i) => i.issueTokens(target)))
      // Whatever key each worker signed with, every worker verifies every token.
      for (const i of idps) for (const t of tokens) expect(await i.verifyAccessToken(t.access_token)).not.toBeNull()
      const kids = new Set(tokens.map((t) => JSON.parse(new TextDecoder().decode(base64url.decode(t.access_token.split('.')[0]))).kid))
      expect(kids.size).toBe(1)
    } finally {
      await fresh.cleanup()
    }
  })

  it('publishes only public key members in the JWKS', async () => {
    const { keys } = await idp.jwks()
    expect(keys).toHaveLength(1)
    expect(Object.keys(keys[0]).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x'])
    expect(keys[0]).not.toHaveProperty('d')
  })
})
