import { createHash } from 'node:crypto'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { AuthActions } from '../auth-actions.js'
import type { AuditWriter } from '../audit.js'
import { canonicalEmail, tryCanonicalEmail } from '../local-idp/email.js'
import type { LocalIdp } from '../local-idp/local-idp.js'
import { clientBucket } from '../local-idp/throttle.js'
import type { Mailer } from '../mail/mailer.js'
import type { AuthStore, UserRecord } from '../store/auth-store.js'
import { AccountLinks, linkFor, RESET_PASSWORD_TTL_MS, VERIFY_EMAIL_TTL_MS, type LinkOutcome } from './account-links.js'
import { codedError } from '../errors.js'

/** Verification mails one account may ask for per window. */
export const VERIFY_MAILS_PER_WINDOW = 3
/** Reset mails one account may be sent per window (every accepted request mails its owner a working link). */
export const RESET_MAILS_PER_ACCOUNT = 3
/** Reset requests one client address (IPv6 /64) may make per window, across accounts. */
export const RESET_REQUESTS_PER_CLIENT = 10
/** Window of the mail limits: 1 hour. */
export const MAIL_WINDOW_MS = 60 * 60 * 1000

/** The claim that e-mail verification grants. */
export const EMAIL_VERIFIED: readonly [string, string] = ['email_verified', 'true']

/** Which account flows are on (`GET /auth/account/capabilities`). */
export interface AccountCapabilities {
  /** `options.mail` is set: wire-auth can send mail. */
  mail: boolean
  emailVerification: boolean
  passwordReset: boolean
  passwordChange: boolean
  emailChange: boolean
  passkeys: boolean
  requireVerifiedEmail: boolean
}

/** What the account flows need. @internal */
export interface AccountDeps {
  store: AuthStore
  idp: LocalIdp
  mailer: Mailer | null
  actions: Pick<AuthActions, 'grantTo' | 'revokeAllSessions' | 'revokeSessionById' | 'listSessions'>
  audit: AuditWriter
  log: Pick<FastifyBaseLogger, 'warn' | 'info'>
  requireVerifiedEmail: boolean
  /** `options.passkeys` is on. */
  passkeys?: boolean
  /** `options.publicUrl`: where links point when `options.mail` does not say (the CLI prints links without mail). */
  publicUrl: string
  /** `options.mail.resetPasswordUrl`, for links made without a mailer (the CLI). */
  resetPasswordUrl?: string
  now?: () => number
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex')
}

function isVerified(user: UserRecord): boolean {
  return user.claims.some((c) => c.type === EMAIL_VERIFIED[0] && c.value === EMAIL_VERIFIED[1])
}

function linkError(outcome: Exclude<LinkOutcome, { ok: true }>): Error {
  return outcome.reason === 'expired'
    ? codedError('ERR_LINK_EXPIRED', 'this link has expired: ask for a new one')
    : codedError('ERR_LINK_INVALID', 'this link is not valid: it was used, replaced by a newer one, or is not for this')
}

/**
 * E-mail verification, password reset and password change over the store,
 * the local IdP and the mailer. Fastify-free apart from the request passed
 * through to the audit trail: the routes and the CLI both use it.
 * @internal
 */
export class AccountService {
  readonly links: AccountLinks
  readonly #d: AccountDeps
  readonly #now: () => number

  constructor(deps: AccountDeps) {
    this.#d = deps
    this.#now = deps.now ?? (() => Date.now())
    this.links = new AccountLinks(deps.store, this.#now)
  }

  capabilities(): AccountCapabilities {
    const mail = this.#d.mailer !== null
    return { mail, emailVerification: mail, passwordReset: mail, passwordChange: true, emailChange: mail, passkeys: this.#d.passkeys === true, requireVerifiedEmail: this.#d.requireVerifiedEmail }
  }

  /** True when `user` may sign in under `requireVerifiedEmail`. */
  maySignIn(user: UserRecord): boolean {
    return !this.#d.requireVerifiedEmail || isVerified(user)
  }

  #mailer(): Mailer {
    if (this.#d.mailer === null) throw codedError('ERR_MAIL_NOT_CONFIGURED', 'this flow is off: the server sends no mail ("options.mail" is not set)')
    return this.#d.mailer
  }

  /** Sends in the background: the answer never waits on (or tells about) delivery. */
  #sendLater(send: () => Promise<void>, userId: string, what: string): void {
    send().catch((err: unknown) => this.#d.log.warn({ code: 'ERR_MAIL_UNAVAILABLE', err, userId, mail: what }, 'wire-auth: a mail was not sent'))
  }

  /** A verification link for `user`'s current address (for the mail, or printed by the CLI). */
  async verificationLink(user: UserRecord): Promise<string> {
    if (user.email === null) throw codedError('ERR_VALIDATION', 'this account has no e-mail address')
    const token = await this.links.issue(user.id, 'verify-email', user.email, VERIFY_EMAIL_TTL_MS)
    return linkFor(this.#mailer().verifyEmailUrl, token)
  }

  /**
   * Mails `user` a verification link, rate-limited per account.
   * @returns false when the address is verified already (nothing sent)
   * @throws `ERR_MAIL_NOT_CONFIGURED`, `ERR_RATE_LIMITED`, `ERR_MAIL_UNAVAILABLE`
   */
  async sendVerification(user: UserRecord, request: FastifyRequest | null, background = false): Promise<boolean> {
    const mailer = this.#mailer()
    if (user.email === null) throw codedError('ERR_VALIDATION', 'this account has no e-mail address')
    if (isVerified(user)) return false
    const at = this.#now()
    if ((await this.#d.store.recordFailure(`mail:verify:${user.id}`, at, MAIL_WINDOW_MS)) > VERIFY_MAILS_PER_WINDOW) {
      await this.#d.store.releaseFailure(`mail:verify:${user.id}`, at)
      throw codedError('ERR_RATE_LIMITED', 'too many verification mails for this account, retry later')
    }
    const link = await this.verificationLink(user)
    const email = user.email
    const send = () => mailer.send('verifyEmail', { name: user.name, email, link, expiresInHours: VERIFY_EMAIL_TTL_MS / 3_600_000 })
    if (background) this.#sendLater(send, user.id, 'verifyEmail')
    else await send()
    await this.#d.audit(request, { action: 'email.verify.sent', actorId: user.id, targetId: user.id, detail: {} })
    return true
  }

  /**
   * Starts an e-mail change of a signed-in user: the current password is
   * required (throttled like a login), then a link goes to the NEW address;
   * the change takes effect only when it is followed. An address that
   * belongs to another account gets no mail, and the answer is the same
   * (no enumeration through this route).
   * @throws `ERR_MAIL_NOT_CONFIGURED`, `ERR_INVALID_EMAIL`, `ERR_INVALID_CREDENTIALS`, `ERR_RATE_LIMITED`
   */
  async requestEmailChange(userId: string, newEmail: unknown, password: unknown, ip: string, request: FastifyRequest | null): Promise<void> {
    const mailer = this.#mailer()
    const { store } = this.#d
    const email = canonicalEmail(newEmail)
    const user = await store.getUser(userId)
    if (user === null || user.disabled) throw codedError('ERR_USER_NOT_FOUND', 'no such user')
    await this.#checkPassword(user, password, ip, request, 'email.change.failure')
    const at = this.#now()
    if ((await store.recordFailure(`mail:verify:${user.id}`, at, MAIL_WINDOW_MS)) > VERIFY_MAILS_PER_WINDOW) {
      await store.releaseFailure(`mail:verify:${user.id}`, at)
      throw codedError('ERR_RATE_LIMITED', 'too many verification mails for this account, retry later')
    }
    const holder = await store.getUserByEmail(email)
    if (holder !== null || email === user.email) {
      await this.links.issueNothing()
      await this.#d.audit(request, { action: 'email.change.request', actorId: user.id, targetId: user.id, detail: { sent: false } })
      return
    }
    const token = await this.links.issue(user.id, 'change-email', email, VERIFY_EMAIL_TTL_MS)
    this.#sendLater(() => mailer.send('verifyEmail', { name: user.name, email, link: linkFor(mailer.verifyEmailUrl, token), expiresInHours: VERIFY_EMAIL_TTL_MS / 3_600_000 }), user.id, 'verifyEmail')
    await this.#d.audit(request, { action: 'email.change.request', actorId: user.id, targetId: user.id, detail: { sent: true } })
  }

  /** Verifies `password` for `user` under the login throttle; a wrong one is audited as `action` and throws. */
  async #checkPassword(user: UserRecord, password: unknown, ip: string, request: FastifyRequest | null, action: string): Promise<void> {
    const { idp } = this.#d
    const reserved = await idp.throttle.reserve(user.email, ip)
    if (!reserved.ok) throw codedError('ERR_RATE_LIMITED', `too many failed attempts, retry in ${reserved.verdict.retryAfterSeconds} s`)
    const matches = await idp.verifyPassword(user.passwordHash, password)
    if (!matches) {
      await idp.throttle.fail(reserved.reservation)
      await this.#d.audit(request, { action, actorId: user.id, targetId: user.id, detail: {} })
      throw codedError('ERR_INVALID_CREDENTIALS', 'the current password is wrong')
    }
    await idp.throttle.succeed(reserved.reservation)
  }

  /**
   * Follows a verification link: grants `email_verified=true` through
   * `app.auth` (every open tab of the account re-renders). A link of an
   * e-mail change first moves the account to the new address, then mails a
   * notice to the old one.
   * @param signedInUserId the request's user, if any: a link of another account is refused
   * @throws `ERR_LINK_INVALID`, `ERR_LINK_EXPIRED`
   */
  async verifyEmail(raw: unknown, signedInUserId: string | null, request: FastifyRequest | null): Promise<UserRecord> {
    const outcome = await this.links.use(raw, 'verify-email', 'change-email')
    if (!outcome.ok) throw linkError(outcome)
    const { record } = outcome
    const change = record.purpose === 'change-email'
    const user = await this.#d.store.getUser(record.userId)
    // The address changed since the link was sent, or the link is not for the signed-in account.
    if (user === null || user.disabled || record.email === null || (!change && user.email !== record.email) || (signedInUserId !== null && signedInUserId !== user.id)) {
      throw linkError({ ok: false, reason: 'invalid' })
    }
    if (change) {
      // ERR_ACCOUNT_EXISTS when someone registered the address meanwhile.
      await this.#d.store.setUserEmail(user.id, record.email)
      await this.#d.audit(request, { action: 'email.change', actorId: user.id, targetId: user.id, detail: {} })
      const mailer = this.#d.mailer
      const old = user.email
      if (mailer !== null && old !== null) {
        this.#sendLater(() => mailer.send('emailChanged', { name: user.name, email: old, newEmail: record.email as string, at: new Date(this.#now()) }), user.id, 'emailChanged')
      }
    }
    const updated = await this.#d.actions.grantTo(user.id, EMAIL_VERIFIED[0], EMAIL_VERIFIED[1], request)
    await this.#d.audit(request, { action: 'email.verify', actorId: user.id, targetId: user.id, detail: {} })
    return updated
  }

  /** Marks `user`'s address verified without a link (the CLI's `user verify-email`). */
  async markVerified(user: UserRecord, request: FastifyRequest | null = null): Promise<UserRecord> {
    const updated = await this.#d.actions.grantTo(user.id, EMAIL_VERIFIED[0], EMAIL_VERIFIED[1], request)
    await this.#d.audit(request, { action: 'email.verify', actorId: null, targetId: user.id, detail: { via: 'admin' } })
    return updated
  }

  /**
   * "Forgot password": mails a reset link when `identifier` names an active
   * account. Answers alike (and does the same work: throttle counters, one
   * lookup, one secret drawn and hashed, one store call, one audit line) for
   * every identifier; the mail leaves in the background.
   * @throws `ERR_MAIL_NOT_CONFIGURED`; `ERR_RATE_LIMITED` per client and per
   *   account (unknown accounts count exactly like existing ones)
   */
  async requestPasswordReset(identifier: unknown, ip: string, request: FastifyRequest | null): Promise<void> {
    const mailer = this.#mailer()
    const email = tryCanonicalEmail(identifier)
    const at = this.#now()
    const { store } = this.#d
    const clientKey = `reset:ip:${clientBucket(ip)}`
    if ((await store.recordFailure(clientKey, at, MAIL_WINDOW_MS)) > RESET_REQUESTS_PER_CLIENT) {
      // Refused attempts are handed back, so a flood never extends the window.
      await store.releaseFailure(clientKey, at)
      throw codedError('ERR_RATE_LIMITED', 'too many reset requests from this client, retry later')
    }
    // A malformed identifier is counted under a key of its own, like an unknown account.
    const accountKey = `reset:acct:${sha256(email ?? String(identifier).slice(0, 1024))}`
    if ((await store.recordFailure(accountKey, at, MAIL_WINDOW_MS)) > RESET_MAILS_PER_ACCOUNT) {
      await store.releaseFailure(accountKey, at)
      throw codedError('ERR_RATE_LIMITED', 'too many reset requests for this account, retry later')
    }
    const user = email === null ? null : await store.getUserByEmail(email)
    if (user === null || user.disabled || user.email === null) {
      await this.links.issueNothing()
      await this.#d.audit(request, { action: 'password.reset.request', actorId: null, targetId: null, detail: { known: false } })
      return
    }
    const token = await this.links.issue(user.id, 'reset-password', user.email, RESET_PASSWORD_TTL_MS)
    const to = user.email
    this.#sendLater(() => mailer.send('resetPassword', { name: user.name, email: to, link: linkFor(mailer.resetPasswordUrl, token), expiresInMinutes: RESET_PASSWORD_TTL_MS / 60_000 }), user.id, 'resetPassword')
    await this.#d.audit(request, { action: 'password.reset.request', actorId: null, targetId: user.id, detail: { known: true } })
  }

  /** A reset link for `user`, not mailed (the CLI's `user reset-link`); replaces earlier ones. */
  async resetLink(user: UserRecord, request: FastifyRequest | null = null): Promise<string> {
    const token = await this.links.issue(user.id, 'reset-password', user.email, RESET_PASSWORD_TTL_MS)
    await this.#d.audit(request, { action: 'password.reset.link', actorId: null, targetId: user.id, detail: { via: 'admin' } })
    return linkFor(this.#d.mailer?.resetPasswordUrl ?? this.#d.resetPasswordUrl ?? `${this.#d.publicUrl}/account/reset-password`, token)
  }

  /**
   * Follows a reset link: sets the new password, then signs the account out
   * everywhere (sessions, refresh tokens, access tokens), clears its login
   * throttle, mails a notice and writes the audit trail. The password is
   * checked before the link is burnt.
   * @throws `ERR_WEAK_PASSWORD`, `ERR_PASSWORD_TOO_LONG`, `ERR_LINK_INVALID`, `ERR_LINK_EXPIRED`
   */
  async resetPassword(raw: unknown, password: unknown, signedInUserId: string | null, request: FastifyRequest | null): Promise<UserRecord> {
    const { idp, store } = this.#d
    await idp.passwords.assertAcceptable(password)
    const outcome = await this.links.use(raw, 'reset-password')
    if (!outcome.ok) throw linkError(outcome)
    const user = await store.getUser(outcome.record.userId)
    if (user === null || user.disabled || user.email !== outcome.record.email || (signedInUserId !== null && signedInUserId !== user.id)) {
      throw linkError({ ok: false, reason: 'invalid' })
    }
    const passwordHash = await idp.hashPassword(password)
    const updated = await store.updateUser(user.id, { passwordHash })
    await this.#d.actions.revokeAllSessions(user.id, request)
    if (user.email !== null) await store.clearFailures(idp.throttle.accountKey(user.email))
    await this.#d.audit(request, { action: 'password.reset', actorId: user.id, targetId: user.id, detail: {} })
    this.#notifyPasswordChanged(updated, 'reset')
    return updated
  }

  /**
   * Changes the password of a signed-in user: the current one is required
   * (throttled like a login), every other session, refresh token and access
   * token is revoked, `keepSessionId` stays signed in, a notice is mailed.
   * @throws `ERR_INVALID_CREDENTIALS`, `ERR_RATE_LIMITED`, `ERR_WEAK_PASSWORD`, `ERR_PASSWORD_TOO_LONG`, `ERR_USER_NOT_FOUND`
   */
  async changePassword(userId: string, keepSessionId: string | null, current: unknown, next: unknown, ip: string, request: FastifyRequest | null): Promise<UserRecord> {
    const { idp, store } = this.#d
    await idp.passwords.assertAcceptable(next)
    const user = await store.getUser(userId)
    if (user === null || user.disabled) throw codedError('ERR_USER_NOT_FOUND', 'no such user')
    await this.#checkPassword(user, current, ip, request, 'password.change.failure')
    const passwordHash = await idp.hashPassword(next)
    // Refresh tokens first, then the version bump (same order as sign-out-everywhere, C5).
    await store.revokeUserRefreshTokens(user.id, this.#now())
    const updated = await store.updateUser(user.id, { passwordHash, revokeAccessTokens: true })
    for (const session of await this.#d.actions.listSessions(user.id)) {
      if (session.id !== keepSessionId) await this.#d.actions.revokeSessionById(user.id, session.id, request)
    }
    await this.#d.audit(request, { action: 'password.change', actorId: user.id, targetId: user.id, detail: {} })
    this.#notifyPasswordChanged(updated, 'change')
    return updated
  }

  #notifyPasswordChanged(user: UserRecord, via: 'reset' | 'change'): void {
    const mailer = this.#d.mailer
    const email = user.email
    if (mailer === null || email === null) return
    this.#sendLater(() => mailer.send('passwordChanged', { name: user.name, email, via, at: new Date(this.#now()) }), user.id, 'passwordChanged')
  }
}
