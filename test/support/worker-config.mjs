// Config module for `wire-auth serve` in the multi-process tests (test/scale).
// It runs inside the BUILT server (packages/server/dist), so it imports only
// package entry points. Everything test-only lives here, never in product
// code: the control routes under /test/* and the parent watchdog.
//
// Environment:
//   WA_TEST_SQLITE         SQLite file shared by the workers (required unless WA_TEST_MONGODB_URL)
//   WA_TEST_MONGODB_URL    MongoDB URL with the database name as path: MongoAuthStore instead
//   WA_TEST_REDIS_URL      Redis for the channel (optional: in-process channel without it)
//   WA_TEST_REDIS_CHANNEL  pub/sub channel name (optional)
//   WA_TEST_PARENT_PID     exit when this process is gone (the test runner was killed)
//   WA_TEST_PID_DIR        each process that loads this config writes <pid>.pid there
//   WA_TEST_DOC_ACCESS     JSON file { docId: [userId | "*"] } that the CanReadDoc policy reads (shared data)
import cluster from 'node:cluster'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { html } from '@wire-auth/core'

/** The access lists of the `doc` fragment: shared by the workers through a file, as data in a database would be. */
function docReaders(docId) {
  const file = process.env.WA_TEST_DOC_ACCESS
  if (!file || typeof docId !== 'string') return []
  try {
    const lists = JSON.parse(readFileSync(file, 'utf8'))
    return Array.isArray(lists[docId]) ? lists[docId] : []
  } catch {
    return []
  }
}

/** The page origin the test clients connect from. */
export const SITE = 'https://www.example.com'

function watchParent() {
  const parent = Number(process.env.WA_TEST_PARENT_PID)
  if (!Number.isInteger(parent) || parent <= 0) return
  // A test runner killed by a signal skips its afterAll: never outlive it.
  // A cluster worker stops its primary too (which would re-fork it otherwise).
  setInterval(() => {
    try {
      process.kill(parent, 0)
    } catch {
      if (cluster.isWorker) process.kill(process.ppid, 'SIGTERM')
      process.exit(0)
    }
  }, 1000).unref()
}

/** The resource server the scale tests introspect as (see INTROSPECTION in worker-processes.ts). */
export const WORKER_RESOURCE_SERVER = { id: 'scale-tests', secret: 'scale-tests-introspection-secret-0123456789', claimTypes: ['role'] }

export default function config() {
  const sqlitePath = process.env.WA_TEST_SQLITE
  const mongoUrl = process.env.WA_TEST_MONGODB_URL || undefined
  if (!sqlitePath && !mongoUrl) throw new Error('WA_TEST_SQLITE or WA_TEST_MONGODB_URL must be set')
  watchParent()
  if (process.env.WA_TEST_PID_DIR) writeFileSync(join(process.env.WA_TEST_PID_DIR, `${process.pid}.pid`), '')
  return {
    sqlitePath,
    mongoUrl,
    redisUrl: process.env.WA_TEST_REDIS_URL || undefined,
    redisChannel: process.env.WA_TEST_REDIS_CHANNEL || undefined,
    allowedOrigins: [SITE],
    // The password grant is opt-in (RFC 9700); introspection needs a resource server (RFC 7662, issue 13 F14).
    localIdp: { grants: ['authorization_code', 'refresh_token', 'password'], resourceServers: [WORKER_RESOURCE_SERVER] },
    helmet: false,
    fastify: { logger: { level: process.env.LOG_LEVEL ?? 'warn' } },
    policies: {
      BetaOnly: { requiresClaim: ['role', 'beta'] },
      CanReadDoc: (user, { params }) => {
        const readers = docReaders(params.docId)
        return readers.includes('*') || readers.includes(user.userId)
      },
    },

    setup(app) {
      app.fragment('beta-panel', { policy: 'BetaOnly' }, ({ user }) => html`<p>beta for ${user.name}</p>`)
      app.fragment('account', { authenticated: true }, ({ user }) => html`<p>${user.name}</p>`)
      app.fragment('worker', { public: true }, () => html`<p>${String(process.pid)}</p>`)
      app.fragment('claims', { authenticated: true }, ({ user }) => html`<p>${user.claims.map((c) => c.value).join(' ')}</p>`)

      app.fragment('doc', { policy: 'CanReadDoc' }, ({ params }) => html`<p>doc ${String(params.docId)}</p>`)

      const route = { config: { wireAuth: 'public' } }
      app.get('/test/worker', route, async () => ({ pid: process.pid }))
      app.post('/test/users', route, async (request) => {
        const { email, name } = request.body
        const user = await app.authStore.createUser({ email, name, passwordHash: null })
        return { id: user.id }
      })
      app.post('/test/sign-in/:userId', route, async (request, reply) => {
        await app.auth.signIn(request, reply, request.params.userId)
        return { ok: true }
      })
      app.post('/test/grant', route, async (request) => {
        const { userId, type, value } = request.body
        const user = await app.auth.grantTo(userId, type, value, request)
        return { version: user.version }
      })
      // Changes a document's access list (the file), then tells every worker (app.auth.refresh).
      app.post('/test/doc-access', route, async (request) => {
        const { docId, readers } = request.body
        const file = process.env.WA_TEST_DOC_ACCESS
        let lists = {}
        try {
          lists = JSON.parse(readFileSync(file, 'utf8'))
        } catch {
          lists = {}
        }
        lists[docId] = readers
        writeFileSync(file, JSON.stringify(lists))
        await app.auth.refresh({ fragment: 'doc', params: { docId } })
        return { ok: true }
      })
      app.post('/test/revoke-session', route, async (request) => {
        await app.auth.revokeSession(request.user, request)
        return { ok: true }
      })
      // A host route behind the guard helper, as a site would protect its own API.
      app.get('/test/beta-api', { config: { wireAuth: 'guarded' }, preHandler: app.requirePolicy('BetaOnly') }, async (request) => ({ hello: request.user.name }))
    },
  }
}
