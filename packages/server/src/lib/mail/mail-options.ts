import { InvalidOption } from '@wire-auth/core'
import { defaultMailTemplates, type MailTemplates } from './templates.js'

/**
 * Outgoing mail (`options.mail`), sent with nodemailer. Without it the flows
 * that need mail (e-mail verification, password reset) are off and answer
 * `ERR_MAIL_NOT_CONFIGURED`.
 * @example
 * ```ts
 * mail: { transport: 'smtps://user:pass@smtp.example.com', from: 'Example <no-reply@example.com>' }
 * ```
 */
export interface MailOptions {
  /** A nodemailer SMTP transport: a URL (`smtp://…`, `smtps://…`) or SMTP transport options. */
  transport: string | Record<string, unknown>
  /** The `From` address, e.g. `"Example <no-reply@example.com>"`. */
  from: string
  /** Overrides of the default messages ({@link defaultMailTemplates}). */
  templates?: Partial<MailTemplates>
  /**
   * Page the verification link opens, with `#token=…` appended (a fragment
   * never reaches server logs or `Referer`). The page posts the token to
   * `POST /auth/account/verify-email`. Absolute, or a path on `publicUrl`;
   * must be on `publicUrl` or an `allowedOrigins` origin.
   * Default `${publicUrl}/account/verify-email`.
   */
  verifyEmailUrl?: string
  /** Page the reset link opens (posts to `POST /auth/account/password/reset`). Default `${publicUrl}/account/reset-password`. */
  resetPasswordUrl?: string
}

/** `options.mail` after checks. @internal */
export interface ResolvedMailOptions {
  transport: string | Record<string, unknown>
  from: string
  templates: MailTemplates
  verifyEmailUrl: string
  resetPasswordUrl: string
}

function fail(message: string): never {
  throw new InvalidOption(message)
}

function linkBase(value: unknown, name: string, fallback: string, publicUrl: string, origins: readonly string[]): string {
  if (value === undefined) return `${publicUrl}${fallback}`
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) fail(`"${name}" must be a URL or a path`)
  let url: URL
  try {
    url = new URL(value, `${publicUrl}/`)
  } catch {
    fail(`"${name}" is not a valid URL`)
  }
  if (url.hash !== '' || url.username !== '' || url.password !== '') fail(`"${name}" must have no fragment and no credentials`)
  if (!origins.includes(url.origin)) fail(`"${name}" must be on "options.publicUrl" or an "options.allowedOrigins" origin, got ${JSON.stringify(url.origin)}`)
  return url.href
}

/**
 * Checks `options.mail` at registration.
 * @throws InvalidOption `ERR_INVALID_OPTION`, quoting the option.
 * @internal
 */
export function resolveMailOptions(value: unknown, publicUrl: string, allowedOrigins: readonly string[]): ResolvedMailOptions | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'object' || Array.isArray(value)) fail('"options.mail" must be an object { transport, from }')
  const m = value as Record<string, unknown>
  const known = new Set(['transport', 'from', 'templates', 'verifyEmailUrl', 'resetPasswordUrl'])
  for (const key of Object.keys(m)) if (!known.has(key)) fail(`"options.mail.${key.slice(0, 64)}" is not an option (known: ${[...known].join(', ')})`)
  const transport = m.transport
  if (typeof transport === 'string') {
    if (!/^smtps?:\/\//i.test(transport)) fail('"options.mail.transport" must be an smtp:// or smtps:// URL, or nodemailer SMTP options')
  } else if (transport === null || typeof transport !== 'object' || Array.isArray(transport)) {
    fail('"options.mail.transport" must be an smtp:// or smtps:// URL, or nodemailer SMTP options')
  }
  // CR / LF would let a misconfigured value inject headers.
  if (typeof m.from !== 'string' || m.from.trim() === '' || m.from.length > 512 || /[\r\n]/.test(m.from)) fail('"options.mail.from" must be an address such as "Example <no-reply@example.com>"')
  const templates: MailTemplates = { ...defaultMailTemplates }
  if (m.templates !== undefined) {
    if (m.templates === null || typeof m.templates !== 'object') fail('"options.mail.templates" must be an object of template functions')
    for (const [key, fn] of Object.entries(m.templates)) {
      if (!(key in defaultMailTemplates)) fail(`"options.mail.templates.${key.slice(0, 64)}" is not a template (known: ${Object.keys(defaultMailTemplates).join(', ')})`)
      if (typeof fn !== 'function') fail(`"options.mail.templates.${key}" must be a function returning { subject, text, html }`)
      ;(templates as unknown as Record<string, unknown>)[key] = fn
    }
  }
  const publicOrigin = new URL(publicUrl).origin
  const origins = [publicOrigin, ...allowedOrigins]
  return {
    transport: transport as ResolvedMailOptions['transport'],
    from: m.from,
    templates,
    verifyEmailUrl: linkBase(m.verifyEmailUrl, 'options.mail.verifyEmailUrl', '/account/verify-email', publicUrl, origins),
    resetPasswordUrl: linkBase(m.resetPasswordUrl, 'options.mail.resetPasswordUrl', '/account/reset-password', publicUrl, origins),
  }
}
