// The wire-auth server every socket and HTTP scenario measures: the built
// @wire-auth/server plugin on Fastify with a real SQLite file, a claim
// policy, an async function policy and three fragments (one of ~1 KB).
import { createHash, randomBytes } from 'node:crypto'
import { connectAuth, html } from '@wire-auth/server'
import Fastify from 'fastify'

/** A session's store id: the SHA-256 (hex) of its cookie value (docs/http.md, docs/security.md). */
const sessionStoreId = (raw) => createHash('sha256').update(raw).digest('hex')

/** The page origin the sockets and fetches come from (in allowedOrigins). */
export const SITE_ORIGIN = 'http://www.bench.test'
export const COOKIE_NAME = 'wa_sid'

/** The prose of the ~1 KB fragments (escaped at every render). */
export const LOREM =
  'Server-authoritative authorization means the browser only ever receives HTML that the server decided this visitor may see. ' +
  'Each region is evaluated on its own, against named policies and the claims of the principal, and the result travels as a ' +
  'fragment of escaped HTML. When a claim changes, every open tab re-renders within milliseconds. <This text is escaped & so is "this">. ' +
  'The fragment is about one kilobyte, which is what a card in a product list, a panel of an account page or a row of an admin table weighs. ' +
  'Policies are named, registered at boot and evaluated on the server only; a missing policy, a throw or a time-out is a denial. ' +
  'Element attributes can only add requirements to the guard of a fragment, never loosen it. ' +
  'Inline children of an element are public by definition and show while the server decides.'

/** The ~1 KB card: title, two lines of data and escaped prose. */
function card({ user, params }) {
  const item = params.item
  return html`<article class="card" data-item="${item}"><h3>Item ${item}</h3><p class="meta">for ${user.name} · ${user.claims.length} claims</p><p>${LOREM}</p><a href="/items/${item}">Open item ${item}</a></article>`
}

/** Registers the benchmark's policies and fragments on an app with wire-auth. */
export function registerBenchContent(app) {
  app.authEngine.addPolicy('Member', { requiresClaim: ['role', 'member'] })
  // An async resource policy, as element attributes add them: checks the params.
  app.authEngine.addPolicy('ItemReader', async (user, { params }) => {
    await null
    return typeof params.item === 'number' && params.item >= 0 && user.hasClaim('role', 'member')
  })
  app.fragment('card', { policy: 'Member' }, card)
  // Changes with every claim change: its output carries the user row version.
  app.fragment('plan', { claims: [['plan', 'pro']], bindVerdict: true }, ({ user, allowed }) => html`<section class="plan" data-v="${String(user.raw.userVersion)}">${allowed ? 'Pro plan' : 'Free plan'}: <p>${LOREM}</p></section>`)
  app.fragment('profile', { authenticated: true }, ({ user }) => html`<span class="who">${user.name}</span>`)
}

/**
 * Builds the app (not listening). `options` go to connectAuth on top of
 * the benchmark defaults (a SQLite file, allowed site origin, default limits
 * except the per-client caps, lifted: all load comes from one address).
 */
export async function buildBenchApp({ sqlitePath, mongoUrl, channel, live, helmet } = {}) {
  const app = Fastify({ logger: false })
  // mongoUrl: MongoAuthStore (the benches start FerretDB for it) instead of the SQLite file.
  const store = mongoUrl ? new (await import('@wire-auth/server/mongodb')).MongoAuthStore({ url: mongoUrl }) : undefined
  await connectAuth(app, {
    ...(store ? { store } : { sqlitePath }),
    channel,
    allowedOrigins: [SITE_ORIGIN],
    publicUrl: 'http://127.0.0.1:3000',
    // Every bench client connects from 127.0.0.1: lift the per-address and
    // per-user socket caps, the per-address render budget (checklist 28) and
    // the per-client request rate of the fragment routes (it is messagesPerSecond),
    // which would otherwise refuse the load itself. The limiters still run.
    live: { maxSocketsPerAddress: 10_000_000, maxSocketsPerUser: 10_000_000, rendersPerSecond: 1_000_000_000, messagesPerSecond: 1_000_000_000, ...(live ?? {}) },
    ...(helmet === undefined ? {} : { helmet }),
  })
  registerBenchContent(app)
  return app
}

/**
 * The local IdP of a wire-auth app on `store`, through the public API
 * (`connectAuth` with `localIdp: true`, then `app.localIdp`). Close the app when done.
 */
export async function benchLocalIdp(store) {
  const app = Fastify({ logger: false })
  await connectAuth(app, { store, localIdp: true, publicUrl: 'https://auth.example.com' })
  await app.ready()
  return { app, idp: app.localIdp }
}

/**
 * Creates `count` users with one session each directly in the store (what a
 * login would leave behind) and returns their ids and cookie pairs.
 */
export async function seedUsers(store, { count, prefix, claims = [{ type: 'role', value: 'member' }] }) {
  const now = Date.now()
  const out = []
  for (let i = 0; i < count; i++) {
    const user = await store.createUser({ email: `${prefix}-${i}@bench.test`, name: `${prefix} ${i}`, passwordHash: null, claims })
    const raw = randomBytes(32).toString('base64url')
    await store.createSession({
      id: sessionStoreId(raw),
      userId: user.id,
      name: user.name,
      claims: user.claims.map((c) => ({ type: c.type, value: c.value })),
      userVersion: user.version,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: now + 30 * 60_000,
      absoluteExpiresAt: now + 12 * 3600_000,
      ip: '127.0.0.1',
      userAgent: 'wire-auth-bench',
    })
    out.push({ userId: user.id, cookie: `${COOKIE_NAME}=${raw}` })
  }
  return out
}
