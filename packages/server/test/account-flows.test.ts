import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { linkToken, startSmtpServer, type TestSmtpServer } from '../../../test/support/smtp-server.js'
import type { WireAuthOptions } from '../src/lib/options.js'
import { idpAppPerTest, setCookie } from './local-idp-harness.js'

const PASSWORD = 'a long and unusual passphrase'
const NEW_PASSWORD = 'another entirely fresh passphrase'
const FROM = 'Wire Auth <no-reply@example.test>'

let smtp: TestSmtpServer
let addresses = 0
/** A fresh address per test: the SMTP server is shared by the file. */
const address = (label = 'ada') => `${label}.${process.pid}.${++addresses}@example.test`

beforeAll(async () => {
  smtp = await startSmtpServer()
})
afterAll(async () => {
  await smtp.close()
})
const idpApp = idpAppPerTest()

function withMail(extra: Omit<WireAuthOptions, 'localIdp' | 'sqlitePath'> = {}): Promise<FastifyInstance> {
  return idpApp.build({}, { mail: { transport: smtp.url, from: FROM }, ...extra })
}

async function post(a: FastifyInstance, url: string, body: unknown, cookie?: string, ip = '127.0.0.1') {
  return a.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, payload: JSON.stringify(body), remoteAddress: ip })
}

async function signUp(a: FastifyInstance, email: string, name: string | null = 'Ada'): Promise<{ id: string; cookie: string }> {
  const response = await post(a, '/auth/local/register', { email, password: PASSWORD, name })
  expect(response.statusCode).toBe(201)
  return { id: response.json().user.id, cookie: setCookie(response)! }
}

async function login(a: FastifyInstance, email: string, password = PASSWORD) {
  return post(a, '/auth/local/login', { email, password })
}

async function claimsOf(a: FastifyInstance, cookie: string): Promise<string[][] | number> {
  const response = await a.inject({ url: '/test/whoami', headers: { cookie } })
  return response.statusCode === 200 ? response.json().claims : response.statusCode
}

const verifyMail = (to: string) => smtp.waitFor(to, (m) => m.subject === 'Confirm your e-mail address')
const resetMail = (to: string) => smtp.waitFor(to, (m) => m.subject === 'Reset your password')

describe('mail', () => {
  it('sign-up mails a verification link through the SMTP server, text and HTML, from options.mail.from', async () => {
    const app = await withMail()
    const email = address()
    await signUp(app, email)
    const mail = await verifyMail(email)
    expect(mail.from).toBe('no-reply@example.test')
    expect(mail.text).toMatch(/http:\/\/localhost:3000\/account\/verify-email#token=[A-Za-z0-9_-]{43}/)
    // The html tag writes `=` in attribute values as `&#61;` (the same URL once parsed).
    expect(mail.html.replaceAll('&#61;', '=')).toContain(`href="http://localhost:3000/account/verify-email#token=${linkToken(mail)}"`)
  })

  it('names and addresses are escaped in the HTML part (the html tag)', async () => {
    const app = await withMail()
    const email = address()
    await signUp(app, email, '<img src=x onerror=alert(1)>')
    const mail = await verifyMail(email)
    expect(mail.html).not.toContain('<img')
    expect(mail.html).toContain('&lt;img src&#61;x onerror&#61;alert(1)&gt;')
  })

  it('templates can be overridden', async () => {
    const { html } = await import('@wire-auth/core')
    const app = await withMail({
      mail: {
        transport: smtp.url,
        from: FROM,
        templates: { verifyEmail: (d) => ({ subject: 'Bitte bestätigen', text: `Link: ${d.link}`, html: html`<a href="${d.link}">bestätigen</a>` }) },
      },
    })
    const email = address()
    await signUp(app, email)
    const mail = await smtp.waitFor(email, (m) => m.subject === 'Bitte bestätigen')
    expect(linkToken(mail)).toHaveLength(43)
  })

  it('without options.mail the flows that need it answer ERR_MAIL_NOT_CONFIGURED and capabilities say so', async () => {
    const app = await idpApp.build()
    const { cookie } = await signUp(app, address())
    expect((await app.inject({ url: '/auth/account/capabilities' })).json()).toEqual({
      mail: false,
      emailVerification: false,
      passwordReset: false,
      passwordChange: true,
      emailChange: false,
      passkeys: false,
      requireVerifiedEmail: false,
    })
    for (const response of [await post(app, '/auth/account/password/forgot', { email: address() }), await post(app, '/auth/account/verify-email/send', {}, cookie)]) {
      // 404: the flow is off on this server (a 5xx would say the server failed, and hide the reason).
      expect(response.statusCode).toBe(404)
      expect(response.json().error.code).toBe('ERR_MAIL_NOT_CONFIGURED')
    }
  })

  it('malformed mail options are refused at registration with ERR_INVALID_OPTION', async () => {
    const bad: unknown[] = [
      'smtp://127.0.0.1:25',
      { transport: 'http://mail.example', from: FROM },
      { transport: 42, from: FROM },
      { transport: 'smtp://127.0.0.1:25' },
      { transport: 'smtp://127.0.0.1:25', from: 'a@b.test\r\nBcc: x@evil.test' },
      { transport: 'smtp://127.0.0.1:25', from: FROM, verifyEmailUrl: 'https://evil.example/verify' },
      { transport: 'smtp://127.0.0.1:25', from: FROM, templates: { nope: () => null } },
      { transport: 'smtp://127.0.0.1:25', from: FROM, tranport: 'x' },
    ]
    for (const mail of bad) {
      await expect(idpApp.build({}, { mail: mail as never }), JSON.stringify(mail)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' })
    }
  })
})

describe('e-mail verification', () => {
  it('following the link grants email_verified=true to the signed-in principal; the link works once', async () => {
    const app = await withMail()
    const email = address()
    const { cookie } = await signUp(app, email)
    expect(await claimsOf(app, cookie)).toEqual([])
    const token = linkToken(await verifyMail(email))
    const response = await post(app, '/auth/account/verify-email', { token })
    expect(response.statusCode).toBe(200)
    expect(response.json().user).toMatchObject({ email, emailVerified: true })
    expect(await claimsOf(app, cookie)).toEqual([['email_verified', 'true']])
    const again = await post(app, '/auth/account/verify-email', { token })
    expect(again.statusCode).toBe(400)
    expect(again.json().error.code).toBe('ERR_LINK_INVALID')
    expect((await app.authStore.listAudit({ action: 'email.verify' })).length).toBe(1)
  })

  it('a resent link replaces the earlier one; resending is rate-limited per account', async () => {
    const app = await withMail()
    const email = address()
    const { cookie } = await signUp(app, email)
    const first = linkToken(await verifyMail(email))
    const resend = await post(app, '/auth/account/verify-email/send', {}, cookie)
    expect(resend.statusCode).toBe(202)
    const second = linkToken(await smtp.waitFor(email, (m) => m.subject === 'Confirm your e-mail address' && linkToken(m) !== first))
    expect((await post(app, '/auth/account/verify-email', { token: first })).json().error.code).toBe('ERR_LINK_INVALID')
    // Sign-up sent one, the resend a second; the third is the last one the window allows.
    expect((await post(app, '/auth/account/verify-email/send', {}, cookie)).statusCode).toBe(202)
    const limited = await post(app, '/auth/account/verify-email/send', {}, cookie)
    expect(limited.statusCode).toBe(429)
    expect(limited.json().error.code).toBe('ERR_RATE_LIMITED')
    // The newest link (the third) works; the second was replaced by it.
    expect((await post(app, '/auth/account/verify-email', { token: second })).json().error.code).toBe('ERR_LINK_INVALID')
  })

  it('resending needs a signed-in user, and a verified one gets no mail', async () => {
    const app = await withMail()
    const email = address()
    const { cookie } = await signUp(app, email)
    expect((await post(app, '/auth/account/verify-email/send', {})).json().error.code).toBe('ERR_UNAUTHENTICATED')
    await post(app, '/auth/account/verify-email', { token: linkToken(await verifyMail(email)) })
    const response = await post(app, '/auth/account/verify-email/send', {}, cookie)
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ sent: false })
  })

  it("another account's link is refused while signed in as someone else, and verifies nobody", async () => {
    const app = await withMail()
    const ada = address('ada')
    const bob = address('bob')
    await signUp(app, ada)
    const bobSession = await signUp(app, bob)
    const adaToken = linkToken(await verifyMail(ada))
    const response = await post(app, '/auth/account/verify-email', { token: adaToken }, bobSession.cookie)
    expect(response.statusCode).toBe(400)
    expect(response.json().error.code).toBe('ERR_LINK_INVALID')
    expect(await claimsOf(app, bobSession.cookie)).toEqual([])
    const adaUser = await app.authStore.getUserByEmail(ada)
    expect(adaUser!.claims).toEqual([])
  })

  it('a link of another purpose (a reset link) does not verify', async () => {
    const app = await withMail()
    const email = address()
    await signUp(app, email)
    await post(app, '/auth/account/password/forgot', { email })
    const resetToken = linkToken(await resetMail(email))
    const response = await post(app, '/auth/account/verify-email', { token: resetToken })
    expect(response.json().error.code).toBe('ERR_LINK_INVALID')
    expect((await app.authStore.getUserByEmail(email))!.claims).toEqual([])
  })

  it('malformed tokens answer ERR_LINK_INVALID or ERR_VALIDATION, never a crash', async () => {
    const app = await withMail()
    for (const token of ['', 'x', 'A'.repeat(43), '../../etc/passwd', '\u0000'.repeat(43)]) {
      const response = await post(app, '/auth/account/verify-email', { token })
      expect(response.statusCode, JSON.stringify(token)).toBe(400)
      expect(response.json().error.code).toBe('ERR_LINK_INVALID')
    }
    for (const body of [{}, { token: 42 }, { token: 'x'.repeat(300) }]) {
      const response = await post(app, '/auth/account/verify-email', body)
      expect(response.statusCode, JSON.stringify(body)).toBe(400)
      expect(response.json().error.code, JSON.stringify(body)).toBe('ERR_VALIDATION')
    }
  })

  it('requireVerifiedEmail: sign-up opens no session and sign-in is refused until the link is followed', async () => {
    const app = await withMail({ requireVerifiedEmail: true })
    const email = address()
    const registered = await post(app, '/auth/local/register', { email, password: PASSWORD })
    expect(registered.statusCode).toBe(201)
    expect(registered.json().verificationRequired).toBe(true)
    expect(setCookie(registered)).toBeNull()
    const refused = await login(app, email)
    expect(refused.statusCode).toBe(403)
    expect(refused.json().error.code).toBe('ERR_EMAIL_NOT_VERIFIED')
    // A wrong password still answers like any wrong password (nothing about verification).
    expect((await login(app, email, 'not the right passphrase')).json().error.code).toBe('ERR_INVALID_CREDENTIALS')
    await post(app, '/auth/account/verify-email', { token: linkToken(await verifyMail(email)) })
    expect((await login(app, email)).statusCode).toBe(200)
    expect((await app.inject({ url: '/auth/account/capabilities' })).json().requireVerifiedEmail).toBe(true)
  })
})

describe('password reset', () => {
  it('forgot answers the same for an existing and a missing account; only the existing one gets mail', async () => {
    const app = await withMail()
    const email = address()
    await signUp(app, email)
    const missing = address('nobody')
    const known = await post(app, '/auth/account/password/forgot', { email: email.toUpperCase() })
    const unknown = await post(app, '/auth/account/password/forgot', { email: missing })
    const malformed = await post(app, '/auth/account/password/forgot', { email: 'not an address' })
    for (const response of [known, unknown, malformed]) {
      expect(response.statusCode).toBe(202)
      expect(response.body).toBe(known.body)
      expect(response.headers['content-type']).toBe(known.headers['content-type'])
    }
    expect(known.json()).toEqual({ accepted: true })
    await resetMail(email)
    // Delivery is asynchronous: by the time a later mail to the known address arrived, one to the missing one would have too.
    await post(app, '/auth/account/password/forgot', { email })
    await smtp.waitFor(email, (m) => m.subject === 'Reset your password' && smtp.to(email).filter((x) => x.subject === m.subject).length === 2)
    expect(smtp.to(missing)).toEqual([])
    const audit = await app.authStore.listAudit({ action: 'password.reset.request' })
    expect(audit.map((a) => a.detail.known).sort()).toEqual([false, false, true, true])
  })

  it('is rate-limited per account, alike for existing and missing accounts, and per client', async () => {
    const app = await withMail()
    const email = address()
    await signUp(app, email)
    const missing = address('nobody')
    for (const target of [email, missing]) {
      for (let i = 0; i < 3; i++) expect((await post(app, '/auth/account/password/forgot', { email: target }, undefined, '10.0.0.1')).statusCode).toBe(202)
      const limited = await post(app, '/auth/account/password/forgot', { email: target }, undefined, '10.0.0.2')
      expect(limited.statusCode).toBe(429)
      expect(limited.json().error.code).toBe('ERR_RATE_LIMITED')
    }
    // Per client: 10 requests across accounts from one address, then 429 (different accounts each time).
    for (let i = 0; i < 10; i++) expect((await post(app, '/auth/account/password/forgot', { email: address('spray') }, undefined, '10.0.0.9')).statusCode).toBe(202)
    expect((await post(app, '/auth/account/password/forgot', { email: address('spray') }, undefined, '10.0.0.9')).statusCode).toBe(429)
  })

  it('the reset link sets the new password, revokes every session, refresh and access token, mails a notice and audits', async () => {
    const app = await withMail()
    const email = address()
    const { id, cookie } = await signUp(app, email)
    const tokens = (await post(app, '/auth/local/token', { grant_type: 'password', username: email, password: PASSWORD })).json()
    expect((await app.inject({ url: '/test/whoami', headers: { authorization: `Bearer ${tokens.access_token}` } })).statusCode).toBe(200)

    await post(app, '/auth/account/password/forgot', { email })
    const token = linkToken(await resetMail(email))
    const weak = await post(app, '/auth/account/password/reset', { token, password: 'short' })
    expect(weak.json().error.code).toBe('ERR_WEAK_PASSWORD')
    // A refused password does not burn the link.
    const response = await post(app, '/auth/account/password/reset', { token, password: NEW_PASSWORD })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ reset: true })

    expect(await claimsOf(app, cookie)).toBe(401)
    expect((await app.inject({ url: '/test/whoami', headers: { authorization: `Bearer ${tokens.access_token}` } })).statusCode).toBe(401)
    expect((await post(app, '/auth/local/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).statusCode).toBe(400)
    expect((await login(app, email)).statusCode).toBe(401)
    expect((await login(app, email, NEW_PASSWORD)).statusCode).toBe(200)

    const notice = await smtp.waitFor(email, (m) => m.subject === 'Your password was changed')
    expect(notice.text).toContain('was reset')
    expect((await app.authStore.listAudit({ userId: id, action: 'password.reset' })).length).toBe(1)

    const reused = await post(app, '/auth/account/password/reset', { token, password: 'yet another good passphrase' })
    expect(reused.json().error.code).toBe('ERR_LINK_INVALID')
  })

  it("a verification link does not reset a password, and another account's reset link is refused while signed in", async () => {
    const app = await withMail()
    const ada = address('ada')
    const bob = address('bob')
    await signUp(app, ada)
    const bobSession = await signUp(app, bob)
    const verifyToken = linkToken(await verifyMail(ada))
    expect((await post(app, '/auth/account/password/reset', { token: verifyToken, password: NEW_PASSWORD })).json().error.code).toBe('ERR_LINK_INVALID')
    await post(app, '/auth/account/password/forgot', { email: ada })
    const adaReset = linkToken(await resetMail(ada))
    const response = await post(app, '/auth/account/password/reset', { token: adaReset, password: NEW_PASSWORD }, bobSession.cookie)
    expect(response.json().error.code).toBe('ERR_LINK_INVALID')
    expect((await login(app, ada)).statusCode).toBe(200)
  })
})

describe('password change', () => {
  it('needs the current password; other sessions are revoked, this one stays; a notice is mailed', async () => {
    const app = await withMail()
    const email = address()
    const { cookie } = await signUp(app, email)
    const other = setCookie(await login(app, email))!
    const wrong = await post(app, '/auth/account/password/change', { currentPassword: 'not the right passphrase', newPassword: NEW_PASSWORD }, cookie)
    expect(wrong.statusCode).toBe(401)
    expect(wrong.json().error.code).toBe('ERR_INVALID_CREDENTIALS')
    expect(await claimsOf(app, other)).toEqual([])

    const response = await post(app, '/auth/account/password/change', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, cookie)
    expect(response.statusCode).toBe(200)
    expect(await claimsOf(app, cookie)).toEqual([])
    expect(await claimsOf(app, other)).toBe(401)
    expect((await login(app, email, NEW_PASSWORD)).statusCode).toBe(200)
    await smtp.waitFor(email, (m) => m.subject === 'Your password was changed' && m.text.includes('was changed at'))
  })

  it('needs a signed-in user and refuses a weak new password', async () => {
    const app = await withMail()
    const { cookie } = await signUp(app, address())
    expect((await post(app, '/auth/account/password/change', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).json().error.code).toBe('ERR_UNAUTHENTICATED')
    expect((await post(app, '/auth/account/password/change', { currentPassword: PASSWORD, newPassword: 'password' }, cookie)).json().error.code).toBe('ERR_WEAK_PASSWORD')
  })
})

describe('e-mail change', () => {
  it('takes effect only when the link sent to the new address is followed; the old address gets a notice', async () => {
    const app = await withMail()
    const old = address('old')
    const next = address('new')
    const { id, cookie } = await signUp(app, old)
    const oldVerify = linkToken(await verifyMail(old))
    const wrong = await post(app, '/auth/account/email/change', { email: next, password: 'not the right passphrase' }, cookie)
    expect(wrong.statusCode).toBe(401)
    expect(wrong.json().error.code).toBe('ERR_INVALID_CREDENTIALS')

    const response = await post(app, '/auth/account/email/change', { email: ` ${next.toUpperCase()} `, password: PASSWORD }, cookie)
    expect(response.statusCode).toBe(202)
    expect(response.json()).toEqual({ accepted: true })
    // Nothing changed yet.
    expect((await app.authStore.getUser(id))!.email).toBe(old)
    const token = linkToken(await verifyMail(next))
    const confirmed = await post(app, '/auth/account/verify-email', { token })
    expect(confirmed.statusCode).toBe(200)
    expect(confirmed.json().user).toMatchObject({ id, email: next, emailVerified: true })
    expect((await login(app, next)).statusCode).toBe(200)
    expect((await login(app, old)).statusCode).toBe(401)
    const notice = await smtp.waitFor(old, (m) => m.subject === 'Your e-mail address was changed')
    expect(notice.text).toContain(next)
    // The verification link of the old address no longer does anything.
    expect((await post(app, '/auth/account/verify-email', { token: oldVerify })).json().error.code).toBe('ERR_LINK_INVALID')
    expect((await post(app, '/auth/account/verify-email', { token })).json().error.code).toBe('ERR_LINK_INVALID')
    expect((await app.authStore.listAudit({ userId: id, action: 'email.change' })).length).toBe(1)
  })

  it("another account's address answers the same and mails nobody (no enumeration)", async () => {
    const app = await withMail()
    const ada = address('ada')
    const bob = address('bob')
    const { cookie } = await signUp(app, ada)
    await signUp(app, bob)
    await verifyMail(bob)
    const free = await post(app, '/auth/account/email/change', { email: address('free'), password: PASSWORD }, cookie)
    const taken = await post(app, '/auth/account/email/change', { email: bob, password: PASSWORD }, cookie)
    expect(taken.statusCode).toBe(free.statusCode)
    expect(taken.body).toBe(free.body)
    // bob got his sign-up mail only.
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(smtp.to(bob).length).toBe(1)
    expect((await app.authStore.getUserByEmail(ada))).not.toBeNull()
  })

  it('needs a signed-in user, a valid address and mail', async () => {
    const app = await withMail()
    const { cookie } = await signUp(app, address())
    expect((await post(app, '/auth/account/email/change', { email: address(), password: PASSWORD })).json().error.code).toBe('ERR_UNAUTHENTICATED')
    expect((await post(app, '/auth/account/email/change', { email: 'a, b@example.test', password: PASSWORD }, cookie)).json().error.code).toBe('ERR_INVALID_EMAIL')
  })
})
