// The real backend the browser tests of @wire-auth/elements run against
// (started by web-test-runner.config.mjs). It is the BUILT server
// (packages/server/dist) on a SQLite file in a temp directory, with a few
// policies and fragments, the local IdP, and test-only control routes under
// /test/* that let a browser test cause server-side changes and read
// server-side counters. Nothing here is part of the product.
//
// Standalone: `node packages/elements/test/backend/server.mjs http://localhost:8000`
// prints the backend URL (the argument is the page origin to allow).
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import cors from '@fastify/cors'
import Fastify from 'fastify'
import { connectAuth, html, raw } from '@wire-auth/server'
import { freePort } from '../../../../test/support/free-port.mjs'
import { startProtectedApi } from '../../../../test/support/protected-api.mjs'

/** A free TCP port on loopback (the tests' shared one). */
export { freePort }

function newStats() {
  return {
    /** `POST /auth/fragments` calls. */
    fragmentPosts: 0,
    /** Regions asked for over `POST /auth/fragments`. */
    fragmentPostRegions: 0,
    /** Accepted socket upgrades. */
    socketOpens: 0,
    /** Upgrades of `/auth/live` answered 403. */
    socketRefused: 0,
    /** Every client socket message: `{ t, regions?, ids? }` (counts only, never tokens). */
    socketMessages: [],
    /** Calls of each fragment's `load`, by fragment name. */
    loads: {},
    /** Calls of each fragment's `render`, by fragment name. */
    renders: {},
  }
}

function count(map, key) {
  map[key] = (map[key] ?? 0) + 1
}

/**
 * Starts the backend.
 * @param {{ pageOrigin: string, port?: number }} options `pageOrigin` is the
 *   origin of the test pages (allowed for CORS, the socket and redirects).
 */
export async function startBrowserBackend({ pageOrigin, port }) {
  port ??= await freePort()
  const url = `http://localhost:${port}`
  const dir = mkdtempSync(join(tmpdir(), 'wire-auth-browser-'))
  const sqlitePath = join(dir, 'auth.sqlite')
  let stats = newStats()
  let app
  let restarting = null
  let socketOutageUntil = 0

  async function build() {
    const instance = Fastify({ logger: false, forceCloseConnections: true })
    await connectAuth(instance, {
      sqlitePath,
      publicUrl: url,
      allowedOrigins: [pageOrigin],
      loginUrl: `${pageOrigin}/__login`,
      localIdp: { rateLimitPerMinute: 10_000, maxFailuresPerAccount: 1000, grants: ['authorization_code', 'refresh_token', 'password'] },
      policies: {
        AdminOnly: { requiresClaim: ['role', 'admin'] },
        Beta: { requiresClaim: ['plan', 'beta'] },
        // Resource-based: item 13 makes the policy throw, which must deny that item only.
        ItemAccess: (user, ctx) => {
          const id = Number(ctx.params.itemId)
          if (id === 13) throw new Error('item 13 is cursed')
          return user.isAuthenticated && Number.isInteger(id)
        },
      },
    })

    // The test-only control routes (/test/*) are this host's own: wire-auth's CORS covers only its
    // routes, so the host allows the page origin for them itself, as a site with its own API does.
    await instance.register(cors, { origin: [pageOrigin], credentials: true })

    const counted = (name, render) => (ctx) => {
      count(stats.renders, name)
      return render(ctx)
    }
    const load = (name) => () => {
      count(stats.loads, name)
      return { loadedAt: name }
    }
    instance.fragment('hello', { public: true }, counted('hello', ({ user }) => html`<p class="hello">Hello, ${user.name ?? 'guest'}</p>`))
    instance.fragment('styled', { public: true }, counted('styled', () => html`<p class="styled-by-host">styled by the host page</p>`))
    instance.fragment('beta-panel', { policy: 'Beta', load: load('beta-panel') }, counted('beta-panel', ({ user }) => html`<p class="beta">Beta for ${user.name}</p>`))
    instance.fragment(
      'pro-panel',
      { claims: [['plan', 'pro']], else: () => html`<p class="pro-upsell">Upgrade to pro</p>` },
      counted('pro-panel', () => html`<p class="pro">Pro tools</p>`),
    )
    instance.fragment('admin-dashboard', { policy: 'AdminOnly', load: load('admin-dashboard') }, counted('admin-dashboard', () => html`<p class="admin">Admin dashboard</p>`))
    instance.fragment('item', { policy: 'ItemAccess', load: load('item') }, counted('item', ({ params }) => html`<span class="item" data-id="${String(params.itemId)}">Item ${String(params.itemId)}</span>`))
    instance.fragment('profile', { authenticated: true }, counted('profile', ({ user }) => html`<p class="profile">${user.name}</p>`))
    // Deliberately unsafe (raw): the SDK's sanitizer is the last line of defence.
    instance.fragment(
      'unsafe-profile',
      { authenticated: true },
      counted('unsafe-profile', ({ user }) =>
        raw(`<div class="unsafe"><p>${user.name}</p><a class="js-link" href=" java\tscript:window.__wireAuthPwned='href'">x</a><svg><a class="svg-link" href="javascript:window.__wireAuthPwned='svg'"><text>y</text></a></svg></div>`),
      ),
    )

    instance.addHook('onRequest', async (request) => {
      if (request.method === 'POST' && request.url === '/auth/fragments') stats.fragmentPosts++
    })
    instance.addHook('preHandler', async (request) => {
      if (request.method === 'POST' && request.url === '/auth/fragments') stats.fragmentPostRegions += request.body?.regions?.length ?? 0
    })
    instance.addHook('onRequest', async (request, reply) => {
      // A socket outage while HTTP stays up (see /test/socket-outage).
      if (request.url.startsWith('/auth/live') && Date.now() < socketOutageUntil) return reply.code(503).send()
    })
    instance.addHook('onResponse', async (request, reply) => {
      if (request.url.startsWith('/auth/live') && reply.statusCode === 403) stats.socketRefused++
    })

    const control = { config: { wireAuth: 'public' } }
    instance.get('/test/stats', control, async () => stats)
    instance.post('/test/stats/reset', control, async () => {
      stats = newStats()
      return { ok: true }
    })
    // Signs the page in as a new user without argon2 (the local IdP is tested on its own).
    instance.post('/test/sign-in', control, async (request, reply) => {
      const name = String(request.body?.name ?? 'Ada')
      const user = await instance.authStore.createUser({ email: null, name, passwordHash: null })
      await instance.auth.signIn(request, reply, user)
      return { user: { id: user.id, name: user.name } }
    })
    instance.post('/test/grant', control, async (request) => {
      const { userId, type, value } = request.body
      await instance.auth.grantTo(userId, type, value)
      return { ok: true }
    })
    instance.post('/test/revoke-claim', control, async (request) => {
      const { userId, type, value } = request.body
      await instance.auth.revokeFrom(userId, type, value)
      return { ok: true }
    })
    // The page's own API, not Fastify: what WireAuth.getToken() is for.
    instance.get('/test/api-url', control, async () => ({ url: protectedApi?.url ?? null }))
    instance.post('/test/revoke-sessions', control, async (request) => {
      return { revoked: await instance.auth.revokeAllSessions(request.body.userId) }
    })
    instance.post('/test/socket-outage', control, async (request) => {
      socketOutageUntil = Date.now() + Math.min(Number(request.body?.ms ?? 1000), 10_000)
      for (const client of instance.websocketServer.clients) client.terminate()
      return { ok: true }
    })
    instance.post('/test/restart', control, async (request) => {
      const downMs = Math.min(Number(request.body?.downMs ?? 300), 5000)
      // Answer first, then go down for `downMs` and come back on the same port and file.
      restarting = new Promise((resolve) => setTimeout(resolve, 20)).then(() => restart(downMs))
      return { ok: true }
    })

    await instance.ready()
    instance.websocketServer.on('connection', (socket) => {
      stats.socketOpens++
      socket.on('message', (data) => {
        let message
        try {
          message = JSON.parse(String(data))
        } catch {
          message = {}
        }
        stats.socketMessages.push({
          t: message.t,
          regions: Array.isArray(message.regions) ? message.regions.length : undefined,
          ids: Array.isArray(message.ids) ? message.ids.length : undefined,
        })
      })
    })
    await instance.listen({ port, host: '127.0.0.1' })
    return instance
  }

  async function restart(downMs) {
    await app.close()
    await new Promise((resolve) => setTimeout(resolve, downMs))
    app = await build()
  }

  let protectedApi = null
  app = await build()
  protectedApi = await startProtectedApi({ issuer: url, allowOrigin: pageOrigin })

  // A page on an origin that is NOT allowed, for the cross-site socket test.
  const foreignPort = await freePort()
  const foreign = createServer((request, response) => {
    response.setHeader('content-type', 'text/html; charset=utf-8')
    if (request.url === '/foreign-region.html') {
      // The bundle loads (it is public), but the backend refuses this origin:
      // the region must say so (code attribute, one console warning).
      response.end(`<!doctype html><script>
        const warnings = []
        const warn = console.warn
        console.warn = (...args) => { warnings.push(String(args[0])); warn.apply(console, args) }
        addEventListener('wire-auth-change', (event) => {
          const region = event.target
          if (region.getAttribute('status') !== 'denied') return
          setTimeout(() => parent.postMessage({ wireAuthForeignRegion: true, code: region.getAttribute('code'), warnings }, '*'), 200)
        })
      </script>
      <script type="module" src="${`http://localhost:${port}/wire-auth.js`}"></script>
      <wire-auth-region fragment="hello"><p slot="else">else</p></wire-auth-region>
      <wire-auth-region fragment="styled"><p slot="else">else</p></wire-auth-region>`)
      return
    }
    response.end(`<!doctype html><script>
      const ws = new WebSocket(${JSON.stringify(`ws://localhost:${port}/auth/live`)})
      let opened = false
      ws.onopen = () => { opened = true }
      ws.onclose = (event) => parent.postMessage({ wireAuthForeign: true, opened, code: event.code }, '*')
    </script>`)
  })
  await new Promise((resolve) => foreign.listen(foreignPort, '127.0.0.1', resolve))

  return {
    url,
    foreignUrl: `http://localhost:${foreignPort}/foreign.html`,
    foreignRegionUrl: `http://localhost:${foreignPort}/foreign-region.html`,
    async close() {
      await restarting?.catch(() => {})
      await app.close()
      await protectedApi?.close()
      await new Promise((resolve) => foreign.close(resolve))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const backend = await startBrowserBackend({ pageOrigin: process.argv[2] ?? 'http://localhost:8000' })
  console.log(`browser backend on ${backend.url} (foreign page ${backend.foreignUrl})`)
  process.once('SIGINT', () => backend.close().then(() => process.exit(0)))
}
