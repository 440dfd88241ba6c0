// Checklist lines 18, 20, 23, 24 and 25 end to end through the full product:
// policies that fail deny everywhere; one user never obtains another's
// fragments, grants or sessions; no credential is taken from a socket URL;
// markup in names stays text; a store that is down means 503 or denial on
// every entry point, never allow, never a stack trace.
import { renameSync } from 'node:fs'
import { dirname } from 'node:path'
import { html } from '@wire-auth/core'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ResyncChannel } from '../../packages/server/test/live-harness.js'
import { budget, edgyString } from './support/fuzz.js'
import { Client } from './support/live-client.js'
import { securityApp, SITE, type SecurityApp } from './support/security-app.js'

const PASSWORD = 'correct horse battery staple'
let product: SecurityApp
let url: string
// Fires the resync a Redis channel fires after an outage: every socket is re-validated in one shared batch.
const channel = new ResyncChannel()

beforeAll(async () => {
  product = await securityApp({
    config: {
      channel,
      policyTimeoutMs: 200,
      localIdp: { rateLimitPerMinute: 1000 },
      setup(app, engine) {
        engine.addPolicy('Throws', () => {
          throw new Error('policy bug')
        })
        engine.addPolicy('Rejects', async () => Promise.reject(new Error('db down')))
        engine.addPolicy('Hangs', () => new Promise<boolean>(() => undefined))
        engine.addPolicy('Truthy', (() => 'yes') as unknown as () => boolean)
        engine.addPolicy('Undefined', (() => undefined) as unknown as () => boolean)
        for (const policy of ['Throws', 'Rejects', 'Hangs', 'Truthy', 'Undefined', 'Ghost']) {
          app.fragment(`f-${policy}`, { policy }, () => html`<p>secret behind ${policy}</p>`)
          app.get(`/test/policy/${policy}`, { config: { wireAuth: 'guarded' }, preHandler: app.requirePolicy(policy) }, async () => ({ secret: policy }))
        }
        app.fragment('whoami', { authenticated: true }, ({ user }) => html`<p data-user="${user.userId}">${user.name}: ${user.claims.map((c) => `${c.type}=${c.value}`).join(',')}</p>`)
      },
    },
  })
  await product.app.listen({ port: 0, host: '127.0.0.1' })
  url = `ws://127.0.0.1:${(product.app.server.address() as { port: number }).port}/auth/live`
}, 60_000)
afterAll(async () => {
  await product?.close()
})

describe('checklist 18: a failing policy denies, never allows', () => {
  const CODES: Record<string, string> = { Throws: 'ERR_POLICY_THREW', Rejects: 'ERR_POLICY_THREW', Hangs: 'ERR_POLICY_TIMEOUT', Truthy: 'ERR_POLICY_RESULT', Undefined: 'ERR_POLICY_RESULT', Ghost: 'ERR_POLICY_NOT_FOUND' }

  it('throwing, rejecting, hanging, non-boolean and unknown policies deny on host routes, fragments over HTTP and on the socket', async () => {
    const { cookie } = await product.signedInUser('Eve')
    const regions = Object.keys(CODES).map((policy) => ({ id: policy, fragment: `f-${policy}` }))
    for (const policy of Object.keys(CODES)) {
      const response = await product.app.inject({ url: `/test/policy/${policy}`, headers: { cookie } })
      expect(response.statusCode, policy).toBe(403)
      expect(response.body).not.toContain('secret')
    }
    const batch = (await product.app.inject({ method: 'POST', url: '/auth/fragments', headers: { cookie }, payload: { regions } })).json()
    for (const region of batch.regions) expect(region, region.id).toMatchObject({ status: 'denied', html: '', code: CODES[region.id] })
    const socket = await Client.open(url, { cookie })
    try {
      await socket.next('principal')
      socket.send({ t: 'mount', regions })
      const rendered = await socket.render()
      for (const [id, region] of Object.entries(rendered)) expect(region, id).toMatchObject({ status: 'denied', code: CODES[id] })
    } finally {
      socket.close()
    }
    // An element's own policy attribute naming a failing policy denies too, on a fragment that would allow.
    const added = (await product.app.inject({ method: 'POST', url: '/auth/fragments', headers: { cookie }, payload: { regions: Object.keys(CODES).map((p) => ({ id: p, fragment: 'whoami', policy: p })) } })).json()
    for (const region of added.regions) expect(region, region.id).toMatchObject({ status: 'denied', code: CODES[region.id] })
  })
})

describe('checklist 20: one user never obtains another user’s fragments, grants or sessions', () => {
  it('concurrent users with random names and equal claims each get only their own renders, over HTTP and after a shared-batch resync', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Equal claims for everyone: only the user id and name tell their renders apart.
        fc.array(fc.record({ name: edgyString.filter((s) => s.trim().length > 2 && s.length < 40 && !/[\u0000-\u001f\u007f]/.test(s) && s.isWellFormed()), claim: fc.constant('alpha') }), { minLength: 2, maxLength: 4 }),
        async (people) => {
          const users = await Promise.all(people.map(async (p, i) => {
            const user = await product.app.authStore.createUser({ email: `iso${Date.now()}x${i}x${Math.random().toString(36).slice(2)}@example.com`, name: `${p.name}#${i}`, passwordHash: null })
            await product.app.auth.grantTo(user.id, 'tier', p.claim)
            return { ...user, cookie: await product.signIn(user.id) }
          }))
          const sockets = await Promise.all(users.map((u) => Client.open(url, { cookie: u.cookie })))
          try {
            // Every user asks at once: the batched evaluation must keep them apart.
            const answers = await Promise.all(users.map((u) => product.app.inject({ method: 'POST', url: '/auth/fragments', headers: { cookie: u.cookie }, payload: { regions: [{ id: 'me', fragment: 'whoami' }, { id: 'sessions', fragment: 'account-sessions' }] } })))
            const sessionIds = await Promise.all(users.map(async (u) => (await product.app.auth.listSessions(u.id)).map((s) => s.id)))
            answers.forEach((answer, i) => {
              const body = answer.body
              expect(body).toContain(`data-user=\\"${users[i]!.id}\\"`)
              users.forEach((other, j) => {
                if (j === i) return
                expect(body).not.toContain(other.id)
                for (const id of sessionIds[j]!) expect(body).not.toContain(id.slice(0, 12))
              })
            })
            for (const s of sockets) {
              await s.next('principal')
              s.send({ t: 'mount', regions: [{ id: 'me', fragment: 'whoami' }] })
              await s.render()
            }
            // A change whose events were lost (written to the store only), then the resync that
            // re-validates every socket in one shared batch: users with equal claims must not share renders.
            await Promise.all(users.map((u) => product.app.authStore.addClaim(u.id, { type: 'tier', value: 'delta' })))
            channel.resync()
            for (const [i, s] of sockets.entries()) {
              const html = (await s.render()).me!.html ?? ''
              expect(html).toContain(`data-user="${users[i]!.id}"`)
              expect(html).toContain('tier&#61;delta')
              users.forEach((other, j) => j !== i && expect(html).not.toContain(other.id))
            }
          } finally {
            for (const s of sockets) s.close()
          }
        },
      ),
      budget(8, 6000),
    )
  })

  it('a user cannot end, list or grant on another user’s behalf through the product routes', async () => {
    const alice = await product.signedInUser('Alice')
    const bob = await product.signedInUser('Bob')
    const [bobSession] = await product.app.auth.listSessions(bob.id)
    const attempt = await product.app.inject({ method: 'POST', url: `/demo/api/me/sessions/${bobSession!.id}/revoke`, headers: { cookie: alice.cookie, origin: SITE } })
    expect(attempt.json()).toEqual({ ended: false })
    expect((await product.app.inject({ url: '/auth/me', headers: { cookie: bob.cookie } })).json().authenticated).toBe(true)
    // Admin routes refuse a signed-in non-admin (no self-granted claims).
    const grant = await product.app.inject({ method: 'POST', url: `/demo/api/users/${alice.id}/claims`, headers: { cookie: alice.cookie, origin: SITE }, payload: { type: 'role', value: 'admin' } })
    expect(grant.statusCode).toBe(403)
    expect((await product.app.authStore.getUser(alice.id))!.claims).toEqual([])
    // The fragment that lists sessions lists only the caller's.
    const sessions = await product.app.inject({ method: 'POST', url: '/auth/fragments', headers: { cookie: alice.cookie }, payload: { regions: [{ id: 's', fragment: 'account-sessions' }] } })
    expect(sessions.body).not.toContain(bobSession!.id.slice(0, 12))
  })
})

describe('checklist 23: no credential is taken from the socket URL', () => {
  it('a valid access token or session id in the query string leaves the socket anonymous', async () => {
    expect((await product.app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'q@example.com', password: PASSWORD } })).statusCode).toBe(201)
    const token = (await product.app.inject({ method: 'POST', url: '/auth/local/token', payload: { grant_type: 'password', username: 'q@example.com', password: PASSWORD } })).json().access_token as string
    const { cookie } = await product.signedInUser('Q')
    for (const query of [`access_token=${token}`, `token=${token}`, `auth=${token}`, `wa_sid=${cookie.split('=')[1]}`, `session=${cookie.split('=')[1]}`]) {
      const socket = await Client.open(`${url}?${query}`)
      try {
        expect((await socket.next('principal')).user, query).toMatchObject({ authenticated: false })
      } finally {
        socket.close()
      }
    }
  })
})

describe('checklist 24: markup in names, e-mails and claims stays text', () => {
  it('a hostile name and claim render escaped over HTTP and on the socket; no tag or handler survives', async () => {
    const payload = '<img src=x onerror=alert(1)>"\'><script>alert(2)</script>'
    const user = await product.app.authStore.createUser({ email: 'xss@example.com', name: payload, passwordHash: null })
    await product.app.auth.grantTo(user.id, 'note', 'javascript:alert(3)')
    const cookie = await product.signIn(user.id)
    const answer = (await product.app.inject({ method: 'POST', url: '/auth/fragments', headers: { cookie }, payload: { regions: [{ id: 'a', fragment: 'whoami' }, { id: 'b', fragment: 'hello-card' }, { id: 'c', fragment: 'account-sessions' }] } })).json()
    const socket = await Client.open(url, { cookie })
    try {
      await socket.next('principal')
      socket.send({ t: 'mount', regions: [{ id: 'a', fragment: 'whoami' }, { id: 'b', fragment: 'hello-card' }] })
      const live = await socket.render()
      for (const html of [...answer.regions.map((r: { html: string }) => r.html), live.a!.html!, live.b!.html!]) {
        expect(html).not.toMatch(/<img|<script|onerror=|"'>/i)
        expect(html).toMatch(/&lt;img src=x onerror=alert\(1\)&gt;|&lt;img/)
      }
    } finally {
      socket.close()
    }
  })
})

describe('checklist 25: the store down means 503 or denial on every entry point, never allow, never a stack trace', () => {
  it('sessions, bearer tokens, logins, guarded routes, fragments and socket upgrades; anonymous visitors are denied; all recover', async () => {
    const { app } = product
    const admin = await app.authStore.createUser({ email: 'down-admin@example.com', name: 'Root', passwordHash: null, claims: [{ type: 'role', value: 'admin' }] })
    const cookie = await product.signIn(admin.id)
    expect((await app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'down@example.com', password: PASSWORD } })).statusCode).toBe(201)
    const token = (await app.inject({ method: 'POST', url: '/auth/local/token', payload: { grant_type: 'password', username: 'down@example.com', password: PASSWORD } })).json().access_token as string
    const dir = dirname(product.sqlitePath)
    const unavailable = (response: { statusCode: number; body: string; json(): { error: { code: string } } }, what: string) => {
      expect(response.statusCode, `${what}: ${response.body}`).toBe(503)
      expect(response.json().error.code, what).toBe('ERR_STORE_UNAVAILABLE')
      expect(response.body, what).not.toMatch(/\n\s+at |SqliteError|ENOENT|auth\.sqlite|\.ts:\d+/)
    }
    renameSync(dir, `${dir}-moved`)
    try {
      unavailable(await app.inject({ url: '/auth/me', headers: { cookie } }), 'session')
      unavailable(await app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${token}` } }), 'bearer')
      unavailable(await app.inject({ method: 'POST', url: '/auth/local/login', payload: { email: 'down@example.com', password: PASSWORD } }), 'login')
      unavailable(await app.inject({ method: 'POST', url: '/auth/local/token', payload: { grant_type: 'password', username: 'down@example.com', password: PASSWORD } }), 'token grant')
      unavailable(await app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'down2@example.com', password: PASSWORD } }), 'register')
      unavailable(await app.inject({ method: 'POST', url: `/demo/api/users/${admin.id}/claims`, headers: { cookie, origin: SITE }, payload: { type: 'role', value: 'x' } }), 'guarded route')
      unavailable(await app.inject({ method: 'POST', url: '/auth/fragments', headers: { cookie }, payload: { regions: [{ id: 'a', fragment: 'admin-console' }] } }), 'fragments')
      unavailable(await app.inject({ url: '/auth/fragments/admin-console', headers: { cookie } }), 'GET fragment')
      await expect(Client.open(url, { cookie })).rejects.toMatchObject({ statusCode: 503 })
      // Anonymous visitors need no store: served, and denied.
      const anonymous = (await app.inject({ method: 'POST', url: '/auth/fragments', payload: { regions: [{ id: 'a', fragment: 'admin-console' }, { id: 'b', fragment: 'whoami' }] } })).json()
      expect(anonymous.regions.map((r: { status: string }) => r.status)).toEqual(['denied', 'denied'])
    } finally {
      renameSync(`${dir}-moved`, dir)
    }
    expect((await app.inject({ url: '/auth/me', headers: { cookie } })).json().authenticated).toBe(true)
    expect((await app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${token}` } })).json().authenticated).toBe(true)
    expect((await app.inject({ method: 'POST', url: '/auth/fragments', headers: { cookie }, payload: { regions: [{ id: 'a', fragment: 'admin-console' }] } })).json().regions[0].status).toBe('allowed')
  })
})
