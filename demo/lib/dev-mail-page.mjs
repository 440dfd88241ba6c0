// Development only: GET /dev/mail lists the mail the demo's capturing SMTP
// server (mail-capture.mjs) received, newest first, with each message's
// single-use links. demo/server.mjs registers it only when the capture runs,
// which is never under NODE_ENV=production: in production the route does
// not exist (404). Anyone who can reach the page can read every link on it —
// that is the point of a local development mailbox, and why it never ships.
import { html, securityHeaders } from '@wire-auth/server'

/** URL of the page. */
export const DEV_MAIL_PATH = '/dev/mail'

const time = (date) => date.toISOString().slice(11, 19)

const page = (messages) => html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>Captured mail · wire-auth demo</title>
  <link rel="icon" href="/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/css/site.css">
</head>
<body>
  <header class="top">
    <div class="top-inner">
      <a class="brand" href="/"><span class="brand-mark">◆</span> Team Handbook</a>
      <nav class="nav" aria-label="Main"><a href="/">Home</a><a href="/account">Account</a><a href="/admin">Admin</a></nav>
    </div>
  </header>
  <main>
    <h1>Captured mail <span class="pill off">development only</span></h1>
    <p class="lead">The demo sends its mail through a real SMTP server on loopback that keeps every message here
      instead of delivering it, so sign-up, e-mail verification and password reset work offline. This page does
      not exist when the demo runs with <code>NODE_ENV=production</code>.</p>
    <p><a class="button small" href="${DEV_MAIL_PATH}">Refresh</a>
      <span class="muted">${messages.length === 0 ? 'No mail yet: create an account or ask for a password reset.' : `${messages.length} message${messages.length === 1 ? '' : 's'}, newest first (the last 100 are kept).`}</span></p>
    <ol class="mailbox" reversed>
      ${messages.map((m) => html`
      <li class="card mail" data-mail-id="${m.id}" data-to="${m.to.join(' ')}">
        <div class="card-head">
          <h2 class="mail-subject">${m.subject || '(no subject)'}</h2>
          <span class="muted">${time(m.receivedAt)} UTC</span>
        </div>
        <p class="fine">From <code>${m.from}</code> to <code class="mail-to">${m.to.join(', ')}</code></p>
        ${m.links.length === 0 ? '' : html`<p class="mail-links">${m.links.map((link) => html`<a class="button small primary mail-link" href="${link}">Open the link in this mail</a> `)}</p>`}
        <pre class="mail-text">${m.text}</pre>
      </li>`)}
    </ol>
  </main>
</body>
</html>`

/**
 * Registers `GET /dev/mail` (development only; see the file's comment).
 * @param {import('fastify').FastifyInstance} app
 * @param {{ messages: () => Array<{ id: number, receivedAt: Date, from: string, to: string[], subject: string, text: string, links: string[] }> }} capture
 */
export function registerDevMailPage(app, capture) {
  app.get(
    DEV_MAIL_PATH,
    // Public on purpose, like every captured link: a local development mailbox.
    { config: { wireAuth: 'public' }, onRequest: securityHeaders() },
    async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page(capture.messages()).value),
  )
}
