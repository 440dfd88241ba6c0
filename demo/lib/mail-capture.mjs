// Development only: a real SMTP server on loopback (smtp-server, from the
// nodemailer project) that keeps the demo's outgoing mail in memory, so the
// e-mail flows work offline. wire-auth sends to it through nodemailer exactly
// as it would send to a real mail provider; nothing leaves the machine.
//
// The packages are dev dependencies and are imported only when the capture
// starts: a production run of the demo never loads them.

/** Messages kept; older ones are dropped so memory stays bounded. */
const KEEP = 100
/** Largest message accepted (the demo's mails are a few KiB). */
const MAX_BYTES = 256 * 1024
/** A single-use account link as wire-auth writes it (`…#token=<43 base64url>`). */
const LINK = /https?:\/\/[^\s<>"']+#token=[A-Za-z0-9_-]{43}/g

/**
 * @typedef {object} CapturedMail
 * @property {number} id       1, 2, 3… in arrival order
 * @property {Date} receivedAt
 * @property {string} from     envelope sender
 * @property {string[]} to     envelope recipients
 * @property {string} subject
 * @property {string} text     the plain-text part
 * @property {string[]} links  the single-use links in the text part
 */

/**
 * Starts the capturing SMTP server on `host` (loopback), port 0.
 * @param {{ host?: string }} [options]
 * @returns {Promise<{ url: string, messages: () => CapturedMail[], close: () => Promise<void> }>}
 *   `url` is `smtp://host:port` for `options.mail.transport`; `messages()` is newest first.
 */
export async function startMailCapture({ host = '127.0.0.1' } = {}) {
  const [{ SMTPServer }, { simpleParser }] = await Promise.all([import('smtp-server'), import('mailparser')])
  /** @type {CapturedMail[]} */
  const kept = []
  let next = 1
  const server = new SMTPServer({
    // Loopback, no TLS and no login: a local development mailbox, not a relay.
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: MAX_BYTES,
    onConnect(session, callback) {
      const address = session.remoteAddress.replace(/^::ffff:/, '')
      if (address !== '127.0.0.1' && address !== '::1') return callback(new Error('loopback only'))
      callback()
    },
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (parsed) => {
          const text = parsed.text ?? ''
          kept.unshift({
            id: next++,
            receivedAt: new Date(),
            from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? '',
            text,
            links: [...new Set(text.match(LINK) ?? [])],
          })
          kept.length = Math.min(kept.length, KEEP)
          callback()
        },
        (err) => callback(err),
      )
    },
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve(undefined))
  })
  const { port } = server.server.address()
  return {
    url: `smtp://${host}:${port}`,
    messages: () => [...kept],
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  }
}
