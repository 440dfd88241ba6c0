import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Fastify from 'fastify'
import { connectAuth } from '../src/index.js'
import { loadCommonPasswords, OWASP_ARGON2, PasswordHasher } from '../src/lib/local-idp/passwords.js'
import { frozenClock, makeIdp, tempStore } from './local-idp-harness.js'

const policy = { minLength: 8, maxLength: 1024 }

/** The PHC parameters of an argon2id hash (argon2 writes them in any order). */
function argon2idParams(hash: string | null | undefined): { m: number; t: number; p: number } {
  const match = /^\$argon2id\$v=19\$([a-z]=\d+(?:,[a-z]=\d+)*)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(hash ?? '')
  if (match === null) throw new Error('not an argon2id v19 hash')
  const params = Object.fromEntries(match[1].split(',').map((kv) => [kv[0], Number(kv.slice(2))]))
  return { m: params.m, t: params.t, p: params.p }
}
const hasher = new PasswordHasher({ ...OWASP_ARGON2 }, policy)

describe('argon2id hashing (checklist 1)', () => {
  it('stores $argon2id$ with at least m=19456 KiB, t=2, p=1', async () => {
    const hash = await hasher.hash('correct horse battery staple')
    const { m, t, p } = argon2idParams(hash)
    expect(m).toBeGreaterThanOrEqual(19456)
    expect(t).toBeGreaterThanOrEqual(2)
    expect(p).toBeGreaterThanOrEqual(1)
    expect(await hasher.verify(hash, 'correct horse battery staple')).toBe(true)
    expect(await hasher.verify(hash, 'correct horse battery staplE')).toBe(false)
  })

  it('hashes through createUser into the store with the configured (stronger) parameters', async () => {
    const env = await tempStore()
    try {
      const idp = await makeIdp(env.store, Date.now, { argon2: { memoryCost: 24576, timeCost: 3, parallelism: 1 } })
      const user = await idp.createUser({ email: 'Ada@Example.com', password: 'a long and unusual passphrase', name: 'Ada' })
      const row = await env.store.getUser(user.id)
      expect(row?.email).toBe('ada@example.com')
      expect(argon2idParams(row?.passwordHash)).toEqual({ m: 24576, t: 3, p: 1 })
    } finally {
      await env.cleanup()
    }
  })

  it('accepts a 64+ character passphrase untruncated: a different last character fails', async () => {
    const passphrase = 'the quick brown fox jumps over the lazy dog and keeps on running far away'
    expect(passphrase.length).toBeGreaterThan(64)
    const hash = await hasher.hash(passphrase)
    expect(await hasher.verify(hash, passphrase)).toBe(true)
    expect(await hasher.verify(hash, `${passphrase.slice(0, -1)}X`)).toBe(false)
    expect(await hasher.verify(hash, passphrase.slice(0, 72))).toBe(false)
  })

  it('accepts exactly the maximum length and refuses one more with ERR_PASSWORD_TOO_LONG', async () => {
    const max = 'x7Q!'.repeat(256)
    expect(max.length).toBe(1024)
    await expect(hasher.assertAcceptable(max)).resolves.toBeUndefined()
    await expect(hasher.hash(`${max}z`)).rejects.toMatchObject({ code: 'ERR_PASSWORD_TOO_LONG', statusCode: 400 })
  })

  it('caps by code points and bytes, so astral characters cannot slip past the cap', async () => {
    const emoji = '😀'.repeat(1025) // 1025 code points, 2050 UTF-16 units, 4100 bytes
    await expect(hasher.assertAcceptable(emoji)).rejects.toMatchObject({ code: 'ERR_PASSWORD_TOO_LONG' })
    await expect(hasher.assertAcceptable('😀'.repeat(1024))).resolves.toBeUndefined()
  })

  it('refuses passwords shorter than the minimum with ERR_WEAK_PASSWORD', async () => {
    await expect(hasher.hash('Zq9!x')).rejects.toMatchObject({ code: 'ERR_WEAK_PASSWORD', statusCode: 400 })
    await expect(hasher.hash('')).rejects.toMatchObject({ code: 'ERR_WEAK_PASSWORD' })
    await expect(hasher.hash(12345678)).rejects.toMatchObject({ code: 'ERR_WEAK_PASSWORD' })
  })

  it.each(['password', 'password1', 'iloveyou', '12345678', 'qwertyuiop', 'PASSWORD1', 'Football1', 'Sunshine'])(
    'refuses the common password %j with ERR_WEAK_PASSWORD',
    async (password) => {
      await expect(hasher.hash(password)).rejects.toMatchObject({ code: 'ERR_WEAK_PASSWORD' })
    },
  )

  it('ships 10,000 common passwords and loads them once', async () => {
    const list = await loadCommonPasswords()
    expect(list.size).toBe(10_000)
    expect(await loadCommonPasswords()).toBe(list)
    expect(list.has('123456')).toBe(true)
  })

  it('normalises Unicode (NFKC) so the same password typed differently verifies', async () => {
    const composed = 'Ｆｕｌｌｗｉｄｔｈ-café-passphrase'
    const hash = await hasher.hash(composed)
    expect(await hasher.verify(hash, 'Fullwidth-cafe\u0301-passphrase')).toBe(true)
  })

  it('verifies a dummy hash for unknown accounts and never says yes', async () => {
    const dummy = await hasher.dummyHash()
    expect(argon2idParams(dummy)).toEqual({ m: 19456, t: 2, p: 1 })
    expect(await hasher.dummyHash()).toBe(dummy)
    expect(await hasher.verify(null, 'anything at all')).toBe(false)
  })

  it('never throws on malformed hashes or inputs', async () => {
    expect(await hasher.verify('$argon2id$garbage', 'password123')).toBe(false)
    expect(await hasher.verify('not a hash', 'password123')).toBe(false)
    const hash = await hasher.hash('a perfectly fine passphrase')
    expect(await hasher.verify(hash, undefined)).toBe(false)
    expect(await hasher.verify(hash, 'x'.repeat(100_000))).toBe(false)
  })

  it('needsRehash when the parameters change', async () => {
    const hash = await hasher.hash('a perfectly fine passphrase')
    expect(hasher.needsRehash(hash)).toBe(false)
    const stronger = new PasswordHasher({ memoryCost: 19456, timeCost: 3, parallelism: 1 }, policy)
    expect(stronger.needsRehash(hash)).toBe(true)
    expect(stronger.needsRehash('$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA')).toBe(true)
  })

  it('upgrades an old hash at sign-in when the parameters changed', async () => {
    const env = await tempStore()
    try {
      const clock = frozenClock()
      const weak = await makeIdp(env.store, clock.now)
      const user = await weak.createUser({ email: 'ada@example.com', password: 'a perfectly fine passphrase' })
      const strong = await makeIdp(env.store, clock.now, { argon2: { memoryCost: 19456, timeCost: 3, parallelism: 1 } })
      const result = await strong.signIn('ada@example.com', 'a perfectly fine passphrase', '192.0.2.1')
      expect(result.ok).toBe(true)
      expect(argon2idParams((await env.store.getUser(user.id))?.passwordHash)).toEqual({ m: 19456, t: 3, p: 1 })
    } finally {
      await env.cleanup()
    }
  })
})

describe('the argon2 slot queue', () => {
  it('settles a burst larger than its slots, each with the right answer, and throwing work frees its slot', async () => {
    const hash = await hasher.hash('correct horse battery staple')
    const attempts = Array.from({ length: 12 }, (_, i) => hasher.verify(i % 3 === 0 ? 'not a hash' : hash, i % 2 === 0 ? 'correct horse battery staple' : 'wrong password here'))
    const results = await Promise.all(attempts)
    expect(results).toEqual(Array.from({ length: 12 }, (_, i) => i % 3 !== 0 && i % 2 === 0))
    // Still usable afterwards (no slot leaked by the failures).
    expect(await hasher.verify(hash, 'correct horse battery staple')).toBe(true)
  })
})

describe('argon2 options below OWASP are refused at registration', () => {
  it.each([
    [{ memoryCost: 1024 }],
    [{ timeCost: 1 }],
    [{ parallelism: 0 }],
    [{ memoryCost: 19455 }],
    [{ memoryCost: 19456.5 }],
  ])('PasswordHasher refuses %j with ERR_INVALID_OPTION', (params) => {
    expect(() => new PasswordHasher({ ...OWASP_ARGON2, ...params }, policy)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
  })

  let env: Awaited<ReturnType<typeof tempStore>>
  beforeAll(async () => {
    env = await tempStore()
  })
  afterAll(async () => {
    await env.cleanup()
  })

  it.each([[{ argon2: { memoryCost: 4096 } }], [{ argon2: { timeCost: 1 } }], [{ passwordMinLength: 4 }], [{ passwordMaxLength: 32 }], [{ signingAlg: 'HS256' }]])(
    'connectAuth refuses localIdp %j with ERR_INVALID_OPTION',
    async (localIdp) => {
      const app = Fastify()
      await expect(connectAuth(app, { sqlitePath: `${env.dir}/refused.sqlite`, localIdp: localIdp as never })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' })
      await app.close()
    },
  )
})
