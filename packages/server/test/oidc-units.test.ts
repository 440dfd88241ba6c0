// The pure parts of the OIDC module: the login-state cookie, the claims
// mapping and the discovery cache.
import { describe, expect, it } from 'vitest'
import { mapProviderClaims, defaultClaimMapper, verifiedEmail, displayNameOf } from '../src/lib/oidc/claims-mapping.js'
import { createLazyDiscovery } from '../src/lib/oidc/lazy-discovery.js'
import { openLoginState, sealLoginState, type LoginState } from '../src/lib/oidc/login-state.js'
import { OidcProvider } from '../src/lib/oidc/oidc-provider.js'
import { createCookieSealer } from '../src/lib/cookie-sealer.js'

const sealer = createCookieSealer(Buffer.alloc(32, 7), 'oidc-login-state')
// Values long enough that no ciphertext contains one by chance (two characters, as 's1' was, do now and then).
const state: LoginState = { provider: 'demo', state: 'state-secret-s1', nonce: 'nonce-secret-n1', codeVerifier: 'v1-verifier-secret', returnTo: '/account/secret-return', expiresAt: 2_000 }

describe('login-state cookie', () => {
  it('round-trips for its provider before expiry', async () => {
    expect(await openLoginState(sealer, await sealLoginState(sealer, state), 'demo', 1_000)).toEqual(state)
  })

  it('is encrypted, not only signed: the PKCE verifier, nonce and state cannot be read from it (F12)', async () => {
    const sealed = await sealLoginState(sealer, state)
    const visible = sealed.split('.').map((part) => Buffer.from(part, 'base64url').toString('latin1')).join(' ')
    for (const secret of ['v1-verifier-secret', 'nonce-secret-n1', 'state-secret-s1', '/account/secret-return']) {
      expect(sealed).not.toContain(secret)
      expect(visible).not.toContain(secret)
    }
    expect(JSON.parse(Buffer.from(sealed.split('.')[0]!, 'base64url').toString())).toEqual({ alg: 'dir', enc: 'A256GCM' })
  })

  it('is refused for another provider, after expiry, forged, tampered or malformed', async () => {
    const sealed = await sealLoginState(sealer, state)
    expect(await openLoginState(sealer, sealed, 'other', 1_000)).toBeNull()
    expect(await openLoginState(sealer, sealed, 'demo', 2_000)).toBeNull()
    expect(await openLoginState(createCookieSealer(Buffer.alloc(32, 8), 'oidc-login-state'), sealed, 'demo', 1_000)).toBeNull()
    // Same secret, another purpose: another key.
    expect(await openLoginState(createCookieSealer(Buffer.alloc(32, 7), 'other-purpose'), sealed, 'demo', 1_000)).toBeNull()
    const parts = sealed.split('.')
    const flipped = Buffer.from(parts[3]!, 'base64url')
    flipped[0] ^= 1
    expect(await openLoginState(sealer, [...parts.slice(0, 3), flipped.toString('base64url'), parts[4]].join('.'), 'demo', 1_000)).toBeNull()
    const alg = Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A128GCM' })).toString('base64url')
    expect(await openLoginState(sealer, [alg, ...parts.slice(1)].join('.'), 'demo', 1_000)).toBeNull()
    for (const junk of [undefined, '', 'x', '.', 'a.b.c', 'a.b.c.d.e', 'x'.repeat(9000), await sealer.seal('not json'), await sealer.seal('[1,2]'), await sealer.seal('{"p":"demo"}')]) {
      expect(await openLoginState(sealer, junk, 'demo', 1_000)).toBeNull()
    }
  })
})

describe('claims mapping', () => {
  it('maps email, email_verified and name by default, as strings', () => {
    expect(mapProviderClaims(defaultClaimMapper, { sub: 'x', email: 'a@b.example', email_verified: false, name: 'A', picture: 'p' })).toEqual([
      { type: 'email', value: 'a@b.example' },
      { type: 'email_verified', value: 'false' },
      { type: 'name', value: 'A' },
    ])
  })

  it('accepts records with arrays and Claim[]; drops objects, oversized and malformed entries; de-duplicates', () => {
    const mapped = mapProviderClaims(
      (c) => ({ role: c.groups, level: 3, nested: { a: 1 }, 'bad type!': 'x', huge: 'x'.repeat(5000), empty: null }),
      { groups: ['admin', 'admin', 'beta', { x: 1 }] },
    )
    expect(mapped).toEqual([
      { type: 'role', value: 'admin' },
      { type: 'role', value: 'beta' },
      { type: 'level', value: '3' },
    ])
    expect(mapProviderClaims(() => [{ type: 'role', value: 'x' }], {})).toEqual([{ type: 'role', value: 'x' }])
  })

  it('caps the number of claims', () => {
    const many = mapProviderClaims(() => ({ tag: Array.from({ length: 500 }, (_, i) => `t${i}`) }), {})
    expect(many.length).toBe(64)
  })

  it('keeps a row e-mail only when verified, canonicalised', () => {
    expect(verifiedEmail({ email: ' Ada@Example.COM ', email_verified: true })).toBe('ada@example.com')
    expect(verifiedEmail({ email: 'ada@example.com', email_verified: 'true' })).toBe('ada@example.com')
    expect(verifiedEmail({ email: 'ada@example.com', email_verified: false })).toBeNull()
    expect(verifiedEmail({ email: 'ada@example.com' })).toBeNull()
    expect(verifiedEmail({ email: 'not-an-email', email_verified: true })).toBeNull()
  })

  it('names the user from name, else preferred_username', () => {
    expect(displayNameOf({ name: ' Ada ', preferred_username: 'ada' })).toBe('Ada')
    expect(displayNameOf({ preferred_username: 'ada' })).toBe('ada')
    expect(displayNameOf({})).toBeNull()
  })

  it('a custom mapping without claimTypes is refused at boot: a role the provider dropped would never be removed (C1)', () => {
    const base = { name: 'corp', issuer: 'https://sso.example', clientId: 'c', clientSecret: 's' }
    expect(() => new OidcProvider({ ...base, mapClaims: (c) => ({ role: c.groups }) })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
    const declared = new OidcProvider({ ...base, mapClaims: (c) => ({ role: c.groups, extra: 'x' }), claimTypes: ['role', 'department'] })
    expect(declared.mapClaims({ groups: ['a'], iss: 'https://sso.example' })).toEqual({
      claims: [{ type: 'role', value: 'a' }, { type: 'iss', value: 'https://sso.example' }],
      types: ['role', 'department', 'iss'],
    })
    // The group was removed at the provider: `role` is owned, so the next login clears it; `extra` is not owned, so it is never written.
    expect(declared.mapClaims({ groups: [], iss: 'https://sso.example' })).toEqual({ claims: [{ type: 'iss', value: 'https://sso.example' }], types: ['role', 'department', 'iss'] })
  })
})

describe('lazy discovery cache', () => {
  it('loads once, shares concurrent loads, replays failures for retryAfterMs, keeps a stale value on refresh failure', async () => {
    let now = 0
    let calls = 0
    let fail = true
    const lazy = createLazyDiscovery(
      async () => {
        calls++
        if (fail) throw new Error('down')
        return `v${calls}`
      },
      { ttlMs: 1_000, retryAfterMs: 100, now: () => now },
    )
    await expect(Promise.all([lazy.get(), lazy.get()])).rejects.toThrow('down')
    expect(calls).toBe(1)
    now = 50
    await expect(lazy.get()).rejects.toThrow('down')
    expect(calls).toBe(1)
    now = 150
    fail = false
    await expect(lazy.get()).resolves.toBe('v2')
    now = 900
    await expect(lazy.get()).resolves.toBe('v2')
    expect(calls).toBe(2)
    now = 1_200
    fail = true
    await expect(lazy.get()).resolves.toBe('v2')
    expect(calls).toBe(3)
    now = 1_250
    await expect(lazy.get()).resolves.toBe('v2')
    expect(calls).toBe(3)
    now = 1_350
    fail = false
    await expect(lazy.get()).resolves.toBe('v4')
  })
})
