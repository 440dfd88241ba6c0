import { html, type HtmlString } from '@wire-auth/core'

/** One rendered message: a subject, a plain-text body and an HTML body. */
export interface MailContent {
  subject: string
  text: string
  /** Built with core's escaping `html` tag; `raw()` only for markup you wrote. */
  html: HtmlString
}

/** Who a message goes to, as the templates see it. */
export interface MailRecipient {
  /** Display name of the account, or null. Untrusted: the `html` tag escapes it. */
  name: string | null
  email: string
}

/** Data of the e-mail verification message. */
export interface VerifyEmailData extends MailRecipient {
  /** The single-use link (https://…#token=…). */
  link: string
  expiresInHours: number
}

/** Data of the password-reset message. */
export interface ResetPasswordData extends MailRecipient {
  link: string
  expiresInMinutes: number
}

/** Data of the notice sent after a password was reset or changed. */
export interface PasswordChangedData extends MailRecipient {
  /** `reset` (through a link) or `change` (signed in, with the current password). */
  via: 'reset' | 'change'
  at: Date
}

/** Data of the notice sent to the old address after an e-mail change. */
export interface EmailChangedData extends MailRecipient {
  /** The address the account uses from now on. */
  newEmail: string
  at: Date
}

/**
 * The messages wire-auth sends. Override any of them with
 * `options.mail.templates`; each returns subject, text and HTML.
 */
export interface MailTemplates {
  verifyEmail(data: VerifyEmailData): MailContent
  resetPassword(data: ResetPasswordData): MailContent
  passwordChanged(data: PasswordChangedData): MailContent
  /** Sent to the old address once a change was confirmed from the new one. */
  emailChanged(data: EmailChangedData): MailContent
}

const greeting = (name: string | null): string => (name === null ? 'Hello,' : `Hello ${name},`)

/**
 * The default templates: short, plain, English. Every interpolation goes
 * through the `html` tag (names and addresses are user input).
 */
export const defaultMailTemplates: Readonly<MailTemplates> = Object.freeze({
  verifyEmail(d: VerifyEmailData): MailContent {
    return {
      subject: 'Confirm your e-mail address',
      text: `${greeting(d.name)}\n\nConfirm that ${d.email} is your address by opening this link:\n\n${d.link}\n\nThe link works once and expires in ${d.expiresInHours} hours. If you did not sign up, ignore this message.\n`,
      html: html`<p>${greeting(d.name)}</p><p>Confirm that <b>${d.email}</b> is your address:</p><p><a href="${d.link}">Confirm my e-mail address</a></p><p>The link works once and expires in ${d.expiresInHours} hours. If you did not sign up, ignore this message.</p>`,
    }
  },
  resetPassword(d: ResetPasswordData): MailContent {
    return {
      subject: 'Reset your password',
      text: `${greeting(d.name)}\n\nSomeone (hopefully you) asked to reset the password of ${d.email}. Choose a new one here:\n\n${d.link}\n\nThe link works once and expires in ${d.expiresInMinutes} minutes. If it was not you, ignore this message: your password stays as it is.\n`,
      html: html`<p>${greeting(d.name)}</p><p>Someone (hopefully you) asked to reset the password of <b>${d.email}</b>.</p><p><a href="${d.link}">Choose a new password</a></p><p>The link works once and expires in ${d.expiresInMinutes} minutes. If it was not you, ignore this message: your password stays as it is.</p>`,
    }
  },
  passwordChanged(d: PasswordChangedData): MailContent {
    const how = d.via === 'reset' ? 'was reset through an e-mail link' : 'was changed'
    return {
      subject: 'Your password was changed',
      text: `${greeting(d.name)}\n\nThe password of ${d.email} ${how} at ${d.at.toISOString()}. Every other session was signed out.\n\nIf this was not you, reset your password at once and contact support.\n`,
      html: html`<p>${greeting(d.name)}</p><p>The password of <b>${d.email}</b> ${how} at ${d.at.toISOString()}. Every other session was signed out.</p><p>If this was not you, reset your password at once and contact support.</p>`,
    }
  },
  emailChanged(d: EmailChangedData): MailContent {
    return {
      subject: 'Your e-mail address was changed',
      text: `${greeting(d.name)}\n\nThe account that used ${d.email} now uses ${d.newEmail} (changed at ${d.at.toISOString()}). Mail about it goes there from now on.\n\nIf this was not you, contact support at once.\n`,
      html: html`<p>${greeting(d.name)}</p><p>The account that used <b>${d.email}</b> now uses <b>${d.newEmail}</b> (changed at ${d.at.toISOString()}). Mail about it goes there from now on.</p><p>If this was not you, contact support at once.</p>`,
    }
  },
})
