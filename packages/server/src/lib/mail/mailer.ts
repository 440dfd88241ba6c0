import { HtmlString, WireAuthError } from '@wire-auth/core'
import nodemailer, { type Transporter } from 'nodemailer'
import type { ResolvedMailOptions } from './mail-options.js'
import type { MailContent, MailTemplates } from './templates.js'
import { codedError } from '../errors.js'

type TemplateName = keyof MailTemplates
type TemplateData<K extends TemplateName> = Parameters<MailTemplates[K]>[0]

/**
 * Sends wire-auth's messages through nodemailer (`options.mail`).
 * @internal
 */
export class Mailer {
  readonly #options: ResolvedMailOptions
  readonly #transport: Transporter

  constructor(options: ResolvedMailOptions) {
    this.#options = options
    this.#transport = nodemailer.createTransport(options.transport as Parameters<typeof nodemailer.createTransport>[0])
  }

  /** The page a verification link opens. */
  get verifyEmailUrl(): string {
    return this.#options.verifyEmailUrl
  }

  /** The page a reset link opens. */
  get resetPasswordUrl(): string {
    return this.#options.resetPasswordUrl
  }

  /**
   * Renders template `name` with `data` and sends it to `data.email`.
   * @throws WireAuthError `ERR_MAIL_UNAVAILABLE` (503) when the template
   *   misbehaves or the transport refuses (the cause is kept, never shown).
   */
  async send<K extends TemplateName>(name: K, data: TemplateData<K>): Promise<void> {
    let content: MailContent
    try {
      content = (this.#options.templates[name] as (d: TemplateData<K>) => MailContent)(data)
      if (typeof content?.subject !== 'string' || typeof content.text !== 'string' || !(content.html instanceof HtmlString)) {
        throw new TypeError(`mail template "${name}" must return { subject: string, text: string, html: html\`…\` }`)
      }
    } catch (err) {
      throw codedError('ERR_MAIL_UNAVAILABLE', 'the message could not be rendered', { cause: err })
    }
    try {
      await this.#transport.sendMail({
        from: this.#options.from,
        to: data.email,
        // A subject is one header line.
        subject: content.subject.replace(/[\r\n]+/g, ' '),
        text: content.text,
        html: content.html.value,
      })
    } catch (err) {
      throw codedError('ERR_MAIL_UNAVAILABLE', 'the mail server did not accept the message', { cause: err })
    }
  }

  close(): void {
    this.#transport.close()
  }
}
