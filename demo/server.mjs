#!/usr/bin/env node
// The wire-auth demo: what `npm start` runs (after `npm run build`).
//
// One process, no services: the backend (Fastify + wire-auth on an embedded
// SQLite file in demo/data/), the demo site in demo/public/, a "Demo OpenID"
// provider on loopback so "Sign in with…" works offline, and optionally a
// partner site on a second origin (DEMO_HOST_PORT) that embeds the elements
// from this backend.
//
// In development (NODE_ENV is not "production") the demo also runs a
// capturing SMTP server on loopback and shows what it received at /dev/mail,
// so e-mail verification and password reset work offline. Under
// NODE_ENV=production neither exists: mail goes to DEMO_SMTP_URL, or the
// flows that need mail are off.
//
// Environment: PORT (default 3000; 0 picks a free port), HOST (default
// 127.0.0.1), DEMO_DATA_DIR (default demo/data), DEMO_OIDC_PORT (default
// PORT+1, or a free port), DEMO_HOST_PORT (partner site; off unless set),
// DEMO_SMTP_URL (production only: where mail goes), NODE_ENV.
import { mkdirSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createServer, OidcProvider, startupGate } from '@wire-auth/server'
import { ensureAdminAccount } from './lib/admin-account.mjs'
import { registerDemoApi } from './lib/api.mjs'
import { DEV_MAIL_PATH, registerDevMailPage } from './lib/dev-mail-page.mjs'
import { canReadDocument, loadDocumentAccess } from './lib/documents.mjs'
import { registerDemoFragments } from './lib/fragments.mjs'
import { startHostSite } from './lib/host-site.mjs'
import { startMailCapture } from './lib/mail-capture.mjs'
import { startOidcProvider } from './lib/oidc-provider.mjs'

function portFrom(name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be a port number, got ${JSON.stringify(raw)}`)
  return port
}

function listen(server, port, host) {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolveListen()
    })
  })
}

// DEMO_TRACE_STARTUP=1: each start-up step on stderr as it is reached (the
// end-to-end tests set it, so a start that stalls shows where).
const traceStartup = process.env.DEMO_TRACE_STARTUP === '1'
const started = Date.now()
const step = (name) => {
  if (traceStartup) process.stderr.write(`demo start-up: ${name} (+${Date.now() - started} ms)\n`)
}

const here = fileURLToPath(new URL('.', import.meta.url))
const host = process.env.HOST ?? '127.0.0.1'
const port = portFrom('PORT', 3000)
const dataDir = resolve(process.env.DEMO_DATA_DIR ?? join(here, 'data'))
// 0700: the store and admin-credentials.txt hold secrets (checklist 26).
mkdirSync(dataDir, { recursive: true, mode: 0o700 })

// Listen first, so that the public URL (and the OpenID redirect URI) carries
// the real port even with PORT=0; Fastify is handed this server below. Until
// the app is ready the gate answers 503 ERR_NOT_READY (a request in that window
// used to crash the process in Fastify's hooks).
const server = createHttpServer()
const gate = startupGate(server)
step('listening')
await listen(server, port, host)
step('listening: done')
const backendPort = server.address().port
const publicUrl = `http://localhost:${backendPort}`
// The same backend reached as 127.0.0.1 is another origin to the browser.
const allowedOrigins = [`http://127.0.0.1:${backendPort}`]

let hostSite = null
const hostPort = portFrom('DEMO_HOST_PORT', null)
if (hostPort !== null) {
  step('partner site')
  hostSite = await startHostSite({ port: hostPort, host, backendUrl: publicUrl })
  allowedOrigins.push(hostSite.url)
}

// The Demo OpenID provider: the certified oidc-provider package on loopback,
// with its development login form (any login, any password). A stable port
// keeps OpenID accounts linked across restarts (linking is by issuer + subject).
const redirectUri = `${publicUrl}/auth/demo/callback`
const accounts = {
  grace: { name: 'Grace Hopper', email: 'grace@example.test', email_verified: true },
  alan: { name: 'Alan Turing', email: 'alan@example.test', email_verified: true },
}
let openId
step('OpenID provider')
const oidcPort = portFrom('DEMO_OIDC_PORT', port === 0 ? 0 : port + 1)
try {
  openId = await startOidcProvider({ port: oidcPort, clientId: 'wire-auth-demo', redirectUris: [redirectUri], accounts })
} catch (err) {
  if (err?.code !== 'EADDRINUSE' || oidcPort === 0) throw err
  openId = await startOidcProvider({ port: 0, clientId: 'wire-auth-demo', redirectUris: [redirectUri], accounts })
}

// Mail: in development a mailbox of our own on loopback (never in production).
const production = process.env.NODE_ENV === 'production'
step('mail capture')
const mailCapture = production ? null : await startMailCapture({ host: '127.0.0.1' })
const mailTransport = mailCapture?.url ?? (process.env.DEMO_SMTP_URL || null)

step('createServer')
const app = await createServer({
  sqlitePath: join(dataDir, 'wire-auth.sqlite'),
  publicUrl,
  allowedOrigins,
  loginUrl: '/login',
  localIdp: true,
  providers: [
    new OidcProvider({
      name: 'demo',
      displayName: 'Demo OpenID',
      issuer: openId.issuer,
      clientId: openId.clientId,
      clientSecret: openId.clientSecret,
      // http on loopback: for this demo only, never in production.
      allowInsecureRequests: true,
      errorRedirect: '/login',
    }),
  ],
  policies: {
    AdminOnly: { requiresClaim: ['role', 'admin'] },
    CanReadDocument: canReadDocument,
  },
  ...(mailTransport === null ? {} : { mail: { transport: mailTransport, from: 'Team Handbook <no-reply@handbook.example>' } }),
  // Passkeys: the relying party is publicUrl's host (localhost).
  passkeys: { rpName: 'Team Handbook (wire-auth demo)' },
  staticRoot: join(here, 'public'),
  fastify: {
    serverFactory: gate.serverFactory,
    logger: { level: process.env.LOG_LEVEL ?? 'error' },
  },
  async setup(app) {
    registerDemoFragments(app)
    registerDemoApi(app)
    if (mailCapture !== null) registerDevMailPage(app, mailCapture)
  },
})
step('app.ready')
await app.ready()
gate.open()
step('admin account')

const admin = await ensureAdminAccount(app, dataDir)
const shown = (file) => (relative(process.cwd(), file).startsWith('..') ? file : relative(process.cwd(), file))
const lines = [
  '',
  `wire-auth demo running at ${publicUrl}`,
  `  Demo OpenID provider:  ${openId.issuer}  (any login and password, e.g. "grace")`,
  '  (a development set-up on plain http: the provider\'s warnings above are expected)',
]
if (hostSite !== null) lines.push(`  Partner site (other origin): ${hostSite.url}`)
if (mailCapture !== null) lines.push(`  Captured mail (development only): ${publicUrl}${DEV_MAIL_PATH}`)
else lines.push(`  Mail: ${mailTransport === null ? 'off (set DEMO_SMTP_URL); e-mail verification and password reset are off' : 'sent through DEMO_SMTP_URL'}`)
if (admin.created) {
  lines.push('', 'Created the admin account:', `  e-mail:   ${admin.email}`, `  password: in ${shown(admin.file)} (mode 0600; not printed)`)
} else {
  lines.push(`  Admin account: ${admin.email}${admin.file ? ` (password in ${shown(admin.file)})` : ` (add one with: WIRE_AUTH_SQLITE=${shown(join(dataDir, 'wire-auth.sqlite'))} npx wire-auth user add --email you@example.com --claim role=admin)`}`)
}
lines.push('')
console.log(lines.join('\n'))

let closing = false
async function shutdown() {
  if (closing) return
  closing = true
  server.closeAllConnections?.()
  await Promise.allSettled([app.close(), openId.close(), hostSite?.close(), mailCapture?.close()])
  server.close()
  process.exit(0)
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
