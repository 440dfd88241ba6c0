// Checklist 1 over HTTP: the 10,000 most common passwords ship as data and
// are all refused, in any case and in their Unicode compatibility forms;
// passwords over the size cap are refused; long passphrases are accepted and
// never truncated; hashes are argon2id at or above OWASP's parameters.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadCommonPasswords, PasswordHasher } from '../../packages/server/src/lib/local-idp/passwords.js'
import { budget } from './support/fuzz.js'
import { securityApp, type SecurityApp } from './support/security-app.js'

const LIST = fileURLToPath(new URL('../../packages/server/data/common-passwords.txt', import.meta.url))
const entries = readFileSync(LIST, 'utf8').split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0 && !l.startsWith('#'))
const PASSPHRASE = 'the quick brown fox jumps over the lazy dog while seven wizards box jumping zebras quietly, ' + 'and then it rains '.repeat(5)

let product: SecurityApp
let n = 0
const register = (password: string) => product.app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: `p${n++}@example.com`, password } })

beforeAll(async () => {
  product = await securityApp({ config: { localIdp: { rateLimitPerMinute: 100_000, maxFailuresPerAccount: 100 } } })
})
afterAll(async () => {
  await product?.close()
})

describe('common passwords (the shipped list)', () => {
  it('ships exactly 10,000 entries with the package (data/ is in "files")', () => {
    expect(entries).toHaveLength(10_000)
    expect(new Set(entries).size).toBeGreaterThan(9_900)
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../packages/server/package.json', import.meta.url)), 'utf8')) as { files?: string[] }
    expect(pkg.files).toContain('data')
  })

  it('every one of the 10,000 is refused by the password policy (ERR_WEAK_PASSWORD)', async () => {
    const hasher = new PasswordHasher({ memoryCost: 19456, timeCost: 2, parallelism: 1 }, { minLength: 8, maxLength: 1024 })
    const loaded = await loadCommonPasswords()
    expect(loaded.size).toBeGreaterThan(9_900)
    let refused = 0
    for (const entry of entries) {
      await hasher.assertAcceptable(entry).then(
        () => expect.unreachable(`${JSON.stringify(entry)} was accepted`),
        (err: { code?: string }) => expect(err.code).toBe('ERR_WEAK_PASSWORD'),
      )
      refused++
    }
    expect(refused).toBe(10_000)
  })

  it('over HTTP: the first, the last and a random sample are refused at registration, in upper case and full-width forms too', async () => {
    const long = entries.filter((e) => [...e].length >= 8)
    const sample = [...long.slice(0, 10), ...long.slice(-10)]
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...long), fc.constantFrom<(s: string) => string>((s) => s, (s) => s.toUpperCase(), (s) => s.replace(/[!-~]/g, (c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0))), async (entry, variant) => {
        const response = await register(variant(entry))
        expect(response.statusCode, entry).toBe(400)
        expect(response.json().error.code).toBe('ERR_WEAK_PASSWORD')
      }),
      { ...budget(60, 4000), examples: sample.map((e) => [e, (s: string) => s] as [string, (s: string) => string]) },
    )
    expect(await product.app.authStore.listUsers({ limit: 10 })).toEqual([])
  })
})

describe('length: a size cap, and long passphrases untruncated', () => {
  it('a 200-character passphrase is accepted, and only the exact passphrase signs in (no truncation at 72 or any length)', async () => {
    expect([...PASSPHRASE].length).toBeGreaterThan(180)
    const registered = await product.app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'long@example.com', password: PASSPHRASE } })
    expect(registered.statusCode).toBe(201)
    const login = (password: string) => product.app.inject({ method: 'POST', url: '/auth/local/login', payload: { email: 'long@example.com', password } })
    expect((await login(PASSPHRASE)).statusCode).toBe(200)
    for (const wrong of [PASSPHRASE.slice(0, 72), PASSPHRASE.slice(0, 64), PASSPHRASE.slice(0, -1), `${PASSPHRASE.slice(0, -1)}X`, `${PASSPHRASE} `]) {
      expect((await login(wrong)).statusCode, `${wrong.length} chars`).toBe(401)
    }
    const stored = await product.app.authStore.getUserByEmail('long@example.com')
    expect(stored!.passwordHash).toMatch(/^\$argon2id\$v=19\$/)
    const param = (name: string) => Number(new RegExp(`[$,]${name}=(\\d+)[,$]`).exec(stored!.passwordHash!)?.[1])
    expect(param('m')).toBeGreaterThanOrEqual(19456)
    expect(param('t')).toBeGreaterThanOrEqual(2)
    expect(param('p')).toBeGreaterThanOrEqual(1)
  })

  it('exactly 1024 characters is accepted; 1025, or 1024 astral characters over the byte cap, is ERR_PASSWORD_TOO_LONG', async () => {
    const base = 'Zq8#vL2!'
    expect((await register(base.repeat(128))).statusCode).toBe(201)
    for (const tooLong of [`${base.repeat(128)}x`, '😀'.repeat(1025), 'x'.repeat(5000)]) {
      const response = await register(tooLong)
      expect(response.statusCode).toBe(400)
      expect(response.json().error.code).toMatch(/^ERR_(PASSWORD_TOO_LONG|VALIDATION)$/)
    }
    const capped = await register(`${base.repeat(128)}x`)
    expect(capped.json().error.code).toBe('ERR_PASSWORD_TOO_LONG')
  })

  it('a sign-in with a password over the cap is a plain failure (401, same as a wrong one), never a long hash', async () => {
    const response = await product.app.inject({ method: 'POST', url: '/auth/local/login', payload: { email: 'long@example.com', password: 'x'.repeat(2000) } })
    expect(response.statusCode).toBe(401)
    expect(response.json().error.code).toBe('ERR_INVALID_CREDENTIALS')
  })
})
