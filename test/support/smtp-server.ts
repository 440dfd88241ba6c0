import { SMTPServer } from 'smtp-server'
import { simpleParser } from 'mailparser'

/** A message the test SMTP server accepted, parsed. */
export interface CapturedMail {
  from: string
  to: string[]
  subject: string
  text: string
  html: string
  raw: string
}

/** A real SMTP server on loopback that keeps every message it accepts. */
export interface TestSmtpServer {
  /** `smtp://127.0.0.1:<port>`: pass as `options.mail.transport`. */
  url: string
  /** Every message accepted so far, oldest first. */
  messages: CapturedMail[]
  /** The first message (already received or still to come) to `to` that matches `match`; rejects after `timeoutMs`. */
  waitFor(to: string, match?: (mail: CapturedMail) => boolean, timeoutMs?: number): Promise<CapturedMail>
  /** Messages to `to`. */
  to(address: string): CapturedMail[]
  close(): Promise<void>
}

/**
 * Starts `smtp-server` (the nodemailer project's SMTP server) on
 * 127.0.0.1, port 0, without TLS or authentication, parsing each message
 * with mailparser. Tests send through it with nodemailer for real.
 */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const messages: CapturedMail[] = []
  const waiters = new Set<() => void>()
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        simpleParser(raw).then(
          (parsed) => {
            messages.push({
              from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              raw,
            })
            for (const wake of [...waiters]) wake()
            callback()
          },
          (err: Error) => callback(err),
        )
      })
    },
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.server.address() as { port: number }
  const toAddress = (address: string) => messages.filter((m) => m.to.includes(address))
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    to: toAddress,
    waitFor(to, match = () => true, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = toAddress(to).find(match)
          if (found === undefined) return false
          waiters.delete(wake)
          clearTimeout(timer)
          resolve(found)
          return true
        }
        const wake = () => void check()
        const timer = setTimeout(() => {
          waiters.delete(wake)
          reject(new Error(`no mail to ${to} within ${timeoutMs} ms (got ${messages.length} in all)`))
        }, timeoutMs)
        waiters.add(wake)
        check()
      })
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** The token of the single-use link in a message (`…#token=<43 chars>`). */
export function linkToken(mail: CapturedMail): string {
  const match = /#token=([A-Za-z0-9_-]{43})/.exec(mail.text)
  if (match === null) throw new Error(`no link token in mail "${mail.subject}"`)
  return match[1]!
}
