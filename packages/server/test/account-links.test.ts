import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { linkToken, startSmtpServer, type TestSmtpServer } from '../../../test/support/smtp-server.js'
import { RESET_PASSWORD_TTL_MS, VERIFY_EMAIL_TTL_MS } from '../src/lib/account/account-links.js'
import { AccountService } from '../src/lib/account/account-service.js'
import { createAuthActions } from '../src/lib/auth-actions.js'
import { LocalAuthChannel } from '../src/lib/channel/local-channel.js'
import { resolveMailOptions } from '../src/lib/mail/mail-options.js'
import { Mailer } from '../src/lib/mail/mailer.js'
import { resolveOptions } from '../src/lib/options.js'
import { createSessionManager } from '../src/lib/sessions.js'
import { frozenClock, makeIdp, tempStore } from './local-idp-harness.js'

// The flows over a real SQLite store, a real mailer and SMTP server, with the
// clock injected: expiry is tested at the boundary, not by waiting.
const PASSWORD = 'a long and unusual passphrase'
let smtp: TestSmtpServer
let env: Awaited<ReturnType<typeof tempStore>>
let mailer: Mailer
let n = 0

beforeAll(async () => {
  smtp = await startSmtpServer()
})
afterAll(async () => {
  await smtp.close()
})
beforeEach(async () => {
  env = await tempStore()
  mailer = new Mailer(resolveMailOptions({ transport: smtp.url, from: 'no-reply@example.test' }, 'http://localhost:3000', [])!)
})
afterEach(async () => {
  mailer.close()
  await env.cleanup()
})

async function setup() {
  const clock = frozenClock(Date.now())
  const idp = await makeIdp(env.store, clock.now)
  const channel = new LocalAuthChannel()
  const log = { warn: () => {}, info: () => {} }
  const audit = async (_r: unknown, record: { action: string; actorId: string | null; targetId: string | null; detail: Record<string, unknown> }) => env.store.appendAudit({ ...record, at: clock.now(), ip: null })
  const sessions = createSessionManager({ store: env.store, options: resolveOptions({}), now: clock.now })
  const actions = createAuthActions({ store: env.store, channel, audit, log: log as never, sessions })
  const service = new AccountService({ store: env.store, idp, mailer, actions, audit, log, requireVerifiedEmail: false, publicUrl: 'http://localhost:3000', now: clock.now })
  const email = `links.${process.pid}.${++n}@example.test`
  const user = await idp.createUser({ email, password: PASSWORD, name: 'Ada' })
  return { clock, idp, service, user, email }
}

describe('account links and the clock', () => {
  it('a verification link works until 24 h and is expired from then on (ERR_LINK_EXPIRED), and stays burnt', async () => {
    const { clock, service, user, email } = await setup()
    await service.sendVerification(user, null)
    const late = linkToken(await smtp.waitFor(email))
    clock.advance(VERIFY_EMAIL_TTL_MS)
    await expect(service.verifyEmail(late, null, null)).rejects.toMatchObject({ code: 'ERR_LINK_EXPIRED' })
    clock.advance(-VERIFY_EMAIL_TTL_MS)
    await expect(service.verifyEmail(late, null, null)).rejects.toMatchObject({ code: 'ERR_LINK_INVALID' })

    const link = await service.verificationLink(user)
    clock.advance(VERIFY_EMAIL_TTL_MS - 1)
    const verified = await service.verifyEmail(link.split('#token=')[1], null, null)
    expect(verified.claims).toEqual([{ type: 'email_verified', value: 'true' }])
  })

  it('a reset link lives one hour at most', async () => {
    const { clock, service, email, idp } = await setup()
    await service.requestPasswordReset(email, '127.0.0.1', null)
    const token = linkToken(await smtp.waitFor(email, (m) => m.subject === 'Reset your password'))
    clock.advance(RESET_PASSWORD_TTL_MS)
    await expect(service.resetPassword(token, 'another entirely fresh passphrase', null, null)).rejects.toMatchObject({ code: 'ERR_LINK_EXPIRED' })
    expect((await idp.signIn(email, PASSWORD, '127.0.0.1')).ok).toBe(true)
  })

  it('the CLI forms: a printed reset link works once, and markVerified grants the claim', async () => {
    const { service, user, email, idp } = await setup()
    const link = await service.resetLink(user)
    expect(link).toMatch(/^http:\/\/localhost:3000\/account\/reset-password#token=[A-Za-z0-9_-]{43}$/)
    await service.resetPassword(link.split('#token=')[1], 'another entirely fresh passphrase', null, null)
    expect((await idp.signIn(email, 'another entirely fresh passphrase', '127.0.0.1')).ok).toBe(true)
    expect((await env.store.listAudit({ action: 'password.reset.link' })).length).toBe(1)
    const verified = await service.markVerified(user)
    expect(verified.claims).toEqual([{ type: 'email_verified', value: 'true' }])
  })
})
