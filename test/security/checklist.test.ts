// Checklist lines whose other tests work below HTTP or in one module, proven
// end to end through the full product: 3 (a missing account and a wrong
// password look the same), 6 (a request in flight during logout never writes
// the session back), 10 (forged tokens over HTTP and the socket), 18
// (failing policies deny everywhere), 20 (one user never obtains another's
// fragments, grants or sessions), 23 (no credential from a socket URL), 24
// (markup in names stays text), 25 (a store that is down means 503 or denial
// on every entry point, never allow, never a stack trace).
import { generateKeyPairSync } from 'node:crypto'
import { renameSync } from 'node:fs'
import { dirname } from 'node:path'
import { html } from '@wire-auth/core'
import fc from 'fast-check'
import { decodeJwt, decodeProtectedHeader, exportJWK, importJWK, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ResyncChannel } from '../../packages/server/test/live-harness.js'
import { budget, edgyString } from './support/fuzz.js'
import { Client } from './support/live-client.js'
import { securityApp, SITE, type SecurityApp, INTROSPECTION_HEADERS } from './support/security-app.js'
import { errorCode } from '../support/error-code.js'

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
      localIdp: { rateLimitPerMinute: 1000, grants: ['authorization_code', 'refresh_token', 'password'] },
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
      const rendered = await socket.regions()
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
              await s.regions()
            }
            // A change whose events were lost (written to the store only), then the resync that
            // re-validates every socket in one shared batch: users with equal claims must not share renders.
            await Promise.all(users.map((u) => product.app.authStore.addClaim(u.id, { type: 'tier', value: 'delta' })))
            channel.resync()
            for (const [i, s] of sockets.entries()) {
              const html = (await s.regions()).me!.html ?? ''
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
    // The route that lists sessions (<wire-auth-account>) lists only the caller's.
    const sessions = await product.app.inject({ url: '/auth/sessions', headers: { cookie: alice.cookie } })
    expect(sessions.statusCode).toBe(200)
    expect(sessions.json().sessions.length).toBeGreaterThan(0)
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
      const live = await socket.regions()
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
      expect(errorCode(response.json()), what).toBe('ERR_STORE_UNAVAILABLE')
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

describe('checklist 3: a missing account and a wrong password look the same', () => {
  let product: SecurityApp
  beforeAll(async () => {
    product = await securityApp({ config: { localIdp: { rateLimitPerMinute: 1000, grants: ['authorization_code', 'refresh_token', 'password'] } } })
    expect((await product.app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'pat@example.com', password: PASSWORD } })).statusCode).toBe(201)
  })
  afterAll(async () => {
    await product?.close()
  })

  it('both answer 401 with the same body, and both verify one argon2id hash of the same cost (the dummy one for a missing account)', async () => {
    const passwords = product.app.localIdp!.passwords
    const verify = vi.spyOn(passwords, 'verify')
    const missing = await product.app.inject({ method: 'POST', url: '/auth/local/login', payload: { email: 'nobody@example.com', password: PASSWORD } })
    const wrong = await product.app.inject({ method: 'POST', url: '/auth/local/login', payload: { email: 'pat@example.com', password: 'not the right one at all' } })
    const malformed = await product.app.inject({ method: 'POST', url: '/auth/local/login', payload: { email: 'not an address', password: PASSWORD } })
    for (const response of [missing, wrong, malformed]) {
      expect(response.statusCode).toBe(401)
      expect(response.body).toBe(wrong.body)
      expect(Object.keys(response.headers).sort()).toEqual(Object.keys(wrong.headers).sort())
    }
    expect(verify).toHaveBeenCalledTimes(3)
    const [missingHash, wrongHash] = verify.mock.calls.map((call) => call[0])
    expect(missingHash).toBeNull()
    const dummy = await passwords.dummyHash()
    const stored = (await product.app.authStore.getUserByEmail('pat@example.com'))!.passwordHash!
    expect(wrongHash).toBe(stored)
    const cost = (hash: string) => hash.split('$')[3]
    expect(cost(dummy)).toBe(cost(stored))
    verify.mockRestore()
  })
})

describe('checklist 6: a request in flight during logout never writes the destroyed session back', () => {
  it('a request that read the session before the logout renews nothing after it (rolling renewal due on every request)', async () => {
    // The real SQLite store; one session read is held back to open the race window.
    let holdNext = false
    let entered!: () => void
    let release!: () => void
    const inside = new Promise<void>((resolve) => (entered = resolve))
    const gate = new Promise<void>((resolve) => (release = resolve))
    const product = await securityApp({
      config: { session: { touchIntervalMs: 1 } },
      wrapStore: (real) =>
        new Proxy(real, {
          get(target, key) {
            const value = Reflect.get(target, key, target) as unknown
            if (key !== 'getSession' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value
            return async (id: string) => {
              const row = await (value as (id: string) => Promise<unknown>).call(target, id)
              if (holdNext) {
                holdNext = false
                entered()
                await gate
              }
              return row
            }
          },
        }),
    })
    try {
      const { id, cookie } = await product.signedInUser('Racer')
      await new Promise((resolve) => setTimeout(resolve, 5))
      holdNext = true
      const inFlight = product.app.inject({ url: '/auth/me', headers: { cookie } })
      await inside
      expect((await product.app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } })).statusCode).toBe(204)
      expect(await product.app.authStore.listSessions(id)).toEqual([])
      release()
      await inFlight
      // The late renewal found no row to touch: the session stays gone.
      expect(await product.app.authStore.listSessions(id)).toEqual([])
      expect((await product.app.inject({ url: '/auth/me', headers: { cookie } })).json().authenticated).toBe(false)
    } finally {
      release()
      await product.close()
    }
  })
})

describe('checklist 10: forged tokens are refused over HTTP and on the socket', () => {
  let product: SecurityApp
  let real: string
  let url: string
  beforeAll(async () => {
    product = await securityApp({ config: { localIdp: { rateLimitPerMinute: 1000, grants: ['authorization_code', 'refresh_token', 'password'] } } })
    expect((await product.app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'pat@example.com', password: PASSWORD } })).statusCode).toBe(201)
    real = (await product.app.inject({ method: 'POST', url: '/auth/local/token', payload: { grant_type: 'password', username: 'pat@example.com', password: PASSWORD } })).json().access_token
    await product.app.listen({ port: 0, host: '127.0.0.1' })
    url = `ws://127.0.0.1:${(product.app.server.address() as { port: number }).port}/auth/live`
  })
  afterAll(async () => {
    await product?.close()
  })

  async function forgeries(): Promise<Record<string, string>> {
    const header = decodeProtectedHeader(real) as Record<string, unknown>
    const claims = decodeJwt(real)
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const jwks = (await product.app.inject({ url: '/.well-known/jwks.json' })).json() as { keys: Array<Record<string, unknown>> }
    const publicJwk = jwks.keys.find((k) => k.kid === header.kid)!
    const attacker = generateKeyPairSync('ed25519')
    const attackerJwk = await exportJWK(attacker.publicKey)
    const attackerKey = await importJWK(await exportJWK(attacker.privateKey), 'EdDSA')
    const sign = (protectedHeader: Record<string, unknown>, key: Parameters<SignJWT['sign']>[0], payload = claims) => new SignJWT(payload).setProtectedHeader(protectedHeader as { alg: string }).sign(key)
    return {
      'alg none': `${b64({ ...header, alg: 'none' })}.${b64(claims)}.`,
      'alg none with a signature': `${b64({ ...header, alg: 'none' })}.${b64(claims)}.${real.split('.')[2]}`,
      'HS256 keyed with our public JWK': await sign({ ...header, alg: 'HS256' }, new TextEncoder().encode(JSON.stringify(publicJwk))),
      'HS256 keyed with our public key bytes': await sign({ ...header, alg: 'HS256' }, Buffer.from(String(publicJwk.x), 'base64url')),
      'attacker key embedded as jwk': await sign({ ...header, jwk: attackerJwk }, attackerKey),
      'attacker key under our kid': await sign(header, attackerKey),
      'attacker key behind jku': await sign({ ...header, jku: 'https://evil.example/jwks.json' }, attackerKey),
      'kid path traversal': await sign({ ...header, kid: '../../etc/passwd' }, attackerKey),
      'payload swapped (admin claims), signature kept': `${real.split('.')[0]}.${b64({ ...claims, wa_claims: [['role', 'admin']] })}.${real.split('.')[2]}`,
    }
  }

  it('each forgery is anonymous on HTTP, inactive at introspection and refused by the socket; the real token works', async () => {
    const { app } = product
    expect((await app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${real}` } })).json().authenticated).toBe(true)
    for (const [what, token] of Object.entries(await forgeries())) {
      expect((await app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${token}` } })).json().authenticated, what).toBe(false)
      expect((await app.inject({ method: 'POST', url: '/auth/local/verify-token', headers: INTROSPECTION_HEADERS, payload: { token } })).json(), what).toEqual({ active: false })
      const socket = await Client.open(url)
      try {
        await socket.next('principal')
        socket.send({ t: 'auth', token })
        expect((await socket.next('error')).code, what).toBe('ERR_INVALID_TOKEN')
        expect(socket.messages.filter((m) => m.t === 'principal' && (m.user as { authenticated: boolean }).authenticated), what).toEqual([])
      } finally {
        socket.close()
      }
    }
  })
})
