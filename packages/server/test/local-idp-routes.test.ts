import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { idpAppPerTest, setCookie } from './local-idp-harness.js'

const PASSWORD = 'a long and unusual passphrase'

const idpApp = idpAppPerTest()
afterEach(() => {
  vi.useRealTimers()
})


async function register(a: FastifyInstance, body: Record<string, unknown>, ip = '127.0.0.1') {
  return a.inject({ method: 'POST', url: '/auth/local/register', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body), remoteAddress: ip })
}
async function login(a: FastifyInstance, email: string, password: string, ip = '127.0.0.1', cookie?: string) {
  return a.inject({ method: 'POST', url: '/auth/local/login', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, payload: JSON.stringify({ email, password }), remoteAddress: ip })
}

describe('POST /auth/local/register', () => {
  it('creates the user with a canonical e-mail, answers 201 and signs in', async () => {
    const app = await idpApp.build()
    const response = await register(app, { email: '  Ada@Example.COM ', password: PASSWORD, name: 'Ada' })
    expect(response.statusCode).toBe(201)
    const { user } = response.json()
    expect(user).toEqual({ id: expect.any(String), email: 'ada@example.com', name: 'Ada' })
    const cookie = setCookie(response)
    expect(cookie).not.toBeNull()
    expect((await app.inject({ url: '/auth/me', headers: { cookie: cookie! } })).json()).toEqual({ authenticated: true, id: user.id, name: 'Ada' })
    const audit = await app.authStore.listAudit({ action: 'user.register' })
    expect(audit.map((a) => a.targetId)).toEqual([user.id])
  })

  it('a registration name with C1 or bidi control characters is refused (checklist 30)', async () => {
    const app = await idpApp.build()
    for (const [i, name] of ['Ada\u001b[2J', 'Ada\u009b31m', 'Ada\u202eevil', 'Ada\u2066x\u2069', 'Ada\u0085'].entries()) {
      const response = await register(app, { email: `ada${i}@example.com`, password: PASSWORD, name })
      expect(response.statusCode, JSON.stringify(name)).toBe(400)
      expect(response.json().error.code).toBe('ERR_VALIDATION')
    }
    expect((await app.authStore.listUsers()).length).toBe(0)
  })

  it('refuses an existing account (any case) with 409 ERR_ACCOUNT_EXISTS', async () => {
    const app = await idpApp.build()
    expect((await register(app, { email: 'ada@example.com', password: PASSWORD })).statusCode).toBe(201)
    const again = await register(app, { email: 'ADA@example.com', password: 'another fine passphrase' })
    expect(again.statusCode).toBe(409)
    expect(again.json().error.code).toBe('ERR_ACCOUNT_EXISTS')
    expect(setCookie(again)).toBeNull()
  })

  it('rate-limits registration probing for existing accounts (checklist 3 trade-off)', async () => {
    const app = await idpApp.build({ maxFailuresPerClient: 3 })
    await register(app, { email: 'ada@example.com', password: PASSWORD })
    for (let i = 0; i < 3; i++) expect((await register(app, { email: 'ada@example.com', password: PASSWORD }, '203.0.113.5')).statusCode).toBe(409)
    const probe = await register(app, { email: 'bob@example.com', password: PASSWORD }, '203.0.113.5')
    expect(probe.statusCode).toBe(429)
    expect(probe.json().error.code).toBe('ERR_RATE_LIMITED')
    expect(Number(probe.headers['retry-after'])).toBeGreaterThan(0)
  })

  it.each([
    [{ email: 'ada@example.com', password: 'short' }, 400, 'ERR_WEAK_PASSWORD'],
    [{ email: 'ada@example.com', password: 'password1' }, 400, 'ERR_WEAK_PASSWORD'],
    [{ email: 'ada@example.com', password: 'Qwertyuiop' }, 400, 'ERR_WEAK_PASSWORD'],
    [{ email: 'ada@example.com', password: 'x'.repeat(1025) }, 400, 'ERR_PASSWORD_TOO_LONG'],
    [{ email: 'victim@example.com,attacker@evil.example', password: PASSWORD }, 400, 'ERR_INVALID_EMAIL'],
    [{ email: '"victim@example.com"@evil.example', password: PASSWORD }, 400, 'ERR_INVALID_EMAIL'],
    [{ email: 'ada@example.com' }, 400, 'ERR_VALIDATION'],
    [{ password: PASSWORD }, 400, 'ERR_VALIDATION'],
    [{ email: 'ada@example.com', password: PASSWORD, name: 'x'.repeat(300) }, 400, 'ERR_VALIDATION'],
    [{ email: 'ada@example.com', password: PASSWORD, name: 'Ada\u0000' }, 400, 'ERR_VALIDATION'],
    [{ email: 'a'.repeat(2000), password: PASSWORD }, 400, 'ERR_VALIDATION'],
  ])('refuses %j with %i %s', async (body, status, code) => {
    const app = await idpApp.build()
    const response = await register(app, body)
    expect(response.statusCode).toBe(status)
    expect(response.json().error.code).toBe(code)
  })

  it('only takes JSON: text/plain and form bodies cannot skip validation (checklist 21)', async () => {
    const app = await idpApp.build()
    const text = await app.inject({ method: 'POST', url: '/auth/local/register', headers: { 'content-type': 'text/plain' }, payload: JSON.stringify({ email: 'ada@example.com', password: PASSWORD }) })
    // Fastify parses text/plain as a string, which the object schema refuses.
    expect(text.statusCode).toBe(400)
    expect(text.json().error.code).toBe('ERR_VALIDATION')
    const form = await app.inject({ method: 'POST', url: '/auth/local/register', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `email=ada%40example.com&password=${encodeURIComponent(PASSWORD)}` })
    expect(form.statusCode).toBe(415)
    expect(form.json().error.code).toBe('ERR_UNSUPPORTED_MEDIA_TYPE')
    expect(await app.authStore.getUserByEmail('ada@example.com')).toBeNull()
    expect((await app.inject({ method: 'POST', url: '/auth/local/register', headers: { 'content-type': 'application/json' }, payload: '{"email":' })).statusCode).toBe(400)
  })

  it('is not mounted when allowRegistration is false', async () => {
    const app = await idpApp.build({ allowRegistration: false })
    expect((await register(app, { email: 'ada@example.com', password: PASSWORD })).statusCode).toBe(404)
  })
})

describe('POST /auth/local/login', () => {
  it('signs in with a new session id (a planted cookie stops working) and answers { user }', async () => {
    const app = await idpApp.build()
    const registered = await register(app, { email: 'ada@example.com', password: PASSWORD, name: 'Ada' })
    const planted = setCookie(registered)!
    const response = await login(app, 'ADA@example.com', PASSWORD, '127.0.0.1', planted)
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ user: { id: registered.json().user.id, email: 'ada@example.com', name: 'Ada' } })
    const fresh = setCookie(response)!
    expect(fresh).not.toBe(planted)
    expect((await app.inject({ url: '/auth/me', headers: { cookie: fresh } })).json().authenticated).toBe(true)
    expect((await app.inject({ url: '/auth/me', headers: { cookie: planted } })).json().authenticated).toBe(false)
  })

  it('answers a missing account, a wrong password and a disabled user identically (checklist 3)', async () => {
    const app = await idpApp.build()
    await register(app, { email: 'ada@example.com', password: PASSWORD })
    const disabled = await register(app, { email: 'eve@example.com', password: PASSWORD })
    await app.authStore.updateUser(disabled.json().user.id, { disabled: true })

    const wrong = await login(app, 'ada@example.com', 'not the passphrase', '192.0.2.1')
    const missing = await login(app, 'nobody@example.com', 'not the passphrase', '192.0.2.2')
    const malformed = await login(app, 'not-an-email', 'not the passphrase', '192.0.2.3')
    const off = await login(app, 'eve@example.com', PASSWORD, '192.0.2.4')
    for (const response of [wrong, missing, malformed, off]) {
      expect(response.statusCode).toBe(401)
      expect(response.body).toBe(wrong.body)
      expect(setCookie(response)).toBeNull()
    }
    expect(wrong.json().error.code).toBe('ERR_INVALID_CREDENTIALS')
    expect(Object.keys(wrong.headers).sort()).toEqual(Object.keys(missing.headers).sort())
  })

  it('audits failures and successes without secrets', async () => {
    const app = await idpApp.build()
    await register(app, { email: 'ada@example.com', password: PASSWORD })
    await login(app, 'ada@example.com', 'wrong passphrase here')
    await login(app, 'ada@example.com', PASSWORD)
    const audit = await app.authStore.listAudit({})
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['login.failure', 'login.success']))
    const text = JSON.stringify(audit)
    expect(text).not.toContain(PASSWORD)
    expect(text).not.toContain('wrong passphrase here')
  })

  it('throttles per account with 429 ERR_RATE_LIMITED and Retry-After, case variants included (checklist 2)', async () => {
    const app = await idpApp.build({ maxFailuresPerAccount: 3 })
    await register(app, { email: 'ada@example.com', password: PASSWORD })
    const variants = ['ada@example.com', 'ADA@example.com', ' Ada@Example.com ']
    for (const email of variants) expect((await login(app, email, 'wrong passphrase', '198.51.100.1')).statusCode).toBe(401)
    const blocked = await login(app, 'ada@example.com', PASSWORD, '198.51.100.1')
    expect(blocked.statusCode).toBe(429)
    expect(blocked.json().error.code).toBe('ERR_RATE_LIMITED')
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0)
  })

  it('throttles per client across accounts', async () => {
    const app = await idpApp.build({ maxFailuresPerClient: 4 })
    await register(app, { email: 'ada@example.com', password: PASSWORD })
    for (let i = 0; i < 4; i++) expect((await login(app, `user${i}@example.com`, 'wrong passphrase', '203.0.113.1')).statusCode).toBe(401)
    expect((await login(app, 'ada@example.com', PASSWORD, '203.0.113.1')).statusCode).toBe(429)
    expect((await login(app, 'ada@example.com', PASSWORD, '203.0.113.2')).statusCode).toBe(200)
  })

  it('throttling expires with the window (frozen, then advanced clock)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.UTC(2030, 0, 1))
    const app = await idpApp.build({ maxFailuresPerAccount: 2, lockoutWindowMs: 10 * 60_000 })
    await register(app, { email: 'ada@example.com', password: PASSWORD })
    await login(app, 'ada@example.com', 'wrong passphrase', '198.51.100.1')
    await login(app, 'ada@example.com', 'wrong passphrase', '198.51.100.1')
    expect((await login(app, 'ada@example.com', PASSWORD, '198.51.100.1')).statusCode).toBe(429)
    vi.setSystemTime(Date.UTC(2030, 0, 1) + 10 * 60_000 + 1_000)
    expect((await login(app, 'ada@example.com', PASSWORD, '198.51.100.1')).statusCode).toBe(200)
  })

  it('15 concurrent wrong passwords for one account: only 5 answer 401, the rest 429 ERR_RATE_LIMITED (F2, check-then-act race)', async () => {
    const app = await idpApp.build({ maxFailuresPerAccount: 5 })
    await register(app, { email: 'ada@example.com', password: PASSWORD })
    const responses = await Promise.all(Array.from({ length: 15 }, (_, i) => login(app!, 'ada@example.com', `wrong passphrase ${i}`, '198.51.100.40')))
    const statuses = responses.map((r) => r.statusCode).sort()
    expect(statuses).toEqual([...new Array(5).fill(401), ...new Array(10).fill(429)])
    for (const r of responses.filter((x) => x.statusCode === 429)) expect(r.json().error.code).toBe('ERR_RATE_LIMITED')
  })

  it('other clients failures never lock the owner out, and the device cookie exempts a browser that signed in before (F3)', async () => {
    const app = await idpApp.build({ maxFailuresPerAccount: 3, maxFailuresPerClient: 10 })
    await register(app, { email: 'ada@example.com', password: PASSWORD })
    const first = await login(app, 'ada@example.com', PASSWORD, '198.51.100.50')
    expect(first.statusCode).toBe(200)
    const device = setCookie(first, 'wa_dev')
    expect(device).not.toBeNull()
    const line = ([first.headers['set-cookie']].flat() as string[]).find((l) => l.startsWith('wa_dev='))!
    expect(line).toMatch(/HttpOnly/i)
    expect(line).toMatch(/Path=\//)
    expect(line).toMatch(/SameSite=Lax/i)
    // An attacker behind the owner's address (NAT) exhausts that address on the account and across accounts.
    for (let i = 0; i < 12; i++) await login(app, i % 2 ? 'ada@example.com' : `u${i}@example.com`, 'wrong passphrase', '198.51.100.50')
    expect((await login(app, 'ada@example.com', PASSWORD, '198.51.100.50')).statusCode).toBe(429)
    // The owner's browser, with its device cookie: signed in.
    expect((await login(app, 'ada@example.com', PASSWORD, '198.51.100.50', device!)).statusCode).toBe(200)
    // A forged or edited device cookie exempts nobody.
    const [version, tag, id, mac] = decodeURIComponent(device!.slice('wa_dev='.length)).split('.')
    const forged = `wa_dev=${encodeURIComponent([version, tag, `${id![0] === 'A' ? 'B' : 'A'}${id!.slice(1)}`, mac].join('.'))}`
    expect((await login(app, 'ada@example.com', PASSWORD, '198.51.100.50', forged)).statusCode).toBe(429)
    // The owner on a new device elsewhere is spaced out at most, never locked for the window.
    const elsewhere = await login(app, 'ada@example.com', PASSWORD, '192.0.2.60')
    expect(elsewhere.statusCode).toBe(200)
  })

  it('the device cookie is __Host- prefixed and Secure when the session cookie is secure', async () => {
    const app = await idpApp.build({}, { publicUrl: 'https://auth.example.com' })
    await register(app, { email: 'ada@example.com', password: PASSWORD })
    const response = await app.inject({ method: 'POST', url: '/auth/local/login', headers: { 'content-type': 'application/json', origin: 'https://auth.example.com' }, payload: JSON.stringify({ email: 'ada@example.com', password: PASSWORD }) })
    expect(response.statusCode).toBe(200)
    const line = ([response.headers['set-cookie']].flat() as string[]).find((l) => l.startsWith('__Host-wa_dev='))
    expect(line).toMatch(/; Secure/i)
    expect(line).not.toMatch(/Domain=/i)
  })

  it('a success resets the account counter', async () => {
    const app = await idpApp.build({ maxFailuresPerAccount: 2 })
    await register(app, { email: 'ada@example.com', password: PASSWORD })
    await login(app, 'ada@example.com', 'wrong passphrase', '198.51.100.1')
    expect((await login(app, 'ada@example.com', PASSWORD, '198.51.100.2')).statusCode).toBe(200)
    await login(app, 'ada@example.com', 'wrong passphrase', '198.51.100.3')
    expect((await login(app, 'ada@example.com', PASSWORD, '198.51.100.4')).statusCode).toBe(200)
  })

  it('applies the per-IP request rate limit (rateLimitPerMinute)', async () => {
    const app = await idpApp.build({ rateLimitPerMinute: 3 })
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push((await login(app, `user${i}@example.com`, 'wrong passphrase', '203.0.113.50')).statusCode)
    expect(statuses).toEqual([401, 401, 401, 429])
    const limited = await login(app, 'user9@example.com', 'wrong passphrase', '203.0.113.50')
    expect(limited.json().error.code).toBe('ERR_RATE_LIMITED')
    expect((await login(app, 'user9@example.com', 'wrong passphrase', '203.0.113.51')).statusCode).toBe(401)
  })

  it('refuses non-JSON bodies and bad shapes without a 500', async () => {
    const app = await idpApp.build()
    const cases = [
      { headers: { 'content-type': 'text/plain' }, payload: 'email=a' },
      { headers: { 'content-type': 'application/json' }, payload: '[]' },
      { headers: { 'content-type': 'application/json' }, payload: '{"email":{"$ne":null},"password":"x"}' },
      { headers: { 'content-type': 'application/json' }, payload: '{"__proto__":{"admin":true},"email":"a@example.com","password":"x"}' },
      { headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(200_000) }) },
    ]
    for (const c of cases) {
      const response = await app.inject({ method: 'POST', url: '/auth/local/login', ...c })
      expect(response.statusCode).toBeGreaterThanOrEqual(400)
      expect(response.statusCode).toBeLessThan(500)
      expect(response.json().error.code).toMatch(/^ERR_/)
    }
  })
})
