import Fastify from 'fastify'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { connectAuth, type AuthEvent } from '../src/index.js'
import { buildApp, sessionCookie, signedInUser, tempDir } from './support/app.js'

let dir: { dir: string; cleanup: () => void }
beforeEach(() => {
  dir = tempDir()
})
afterEach(() => {
  vi.useRealTimers()
  dir.cleanup()
})

const sqlite = () => `${dir.dir}/auth.sqlite`

describe('options are checked at registration', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['allowedOrigins not an array', { allowedOrigins: 'https://a.example' }],
    ['allowedOrigins with a path', { allowedOrigins: ['https://a.example/path'] }],
    ['allowedOrigins not http(s)', { allowedOrigins: ['ftp://a.example'] }],
    ['publicUrl plain http off localhost', { publicUrl: 'http://auth.example.com' }],
    // Issue 13 C10 (regression: accepted).
    ['a plain-http allowed origin beside an https publicUrl', { publicUrl: 'https://auth.example.com', allowedOrigins: ['https://www.example.com', 'http://www.example.com'] }],
    ['a plain-http LAN origin beside an https publicUrl', { publicUrl: 'https://auth.example.com', allowedOrigins: ['http://192.168.1.10:8080'] }],
    ['idle longer than absolute', { session: { idleTimeoutMs: 10_000, absoluteTimeoutMs: 5_000 } }],
    ['argon2 below OWASP', { localIdp: { argon2: { memoryCost: 1024 } } }],
    ['sameSite none without secure', { session: { sameSite: 'none', secure: false } }],
    ['short secret', { secret: 'short' }],
  ]
  for (const [name, options] of cases) {
    it(`rejects ${name} with ERR_INVALID_OPTION quoting the option`, async () => {
      const app = Fastify()
      await expect(connectAuth(app, { sqlitePath: sqlite(), ...options })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('"options.') })
      await app.close()
    })
  }
})

describe('plain-http allowed origins beside an https backend (issue 13 C10)', () => {
  it('are accepted for loopback pages only (local development)', async () => {
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:8080', 'http://[::1]:3000', 'https://www.example.com']) {
      const app = Fastify()
      await connectAuth(app, { sqlitePath: sqlite(), publicUrl: 'https://auth.example.com', allowedOrigins: [origin] })
      await app.close()
    }
  })

  it('are accepted beside a plain-http loopback backend (nothing to downgrade)', async () => {
    const app = Fastify()
    await connectAuth(app, { sqlitePath: sqlite(), publicUrl: 'http://localhost:3000', allowedOrigins: ['http://www.example.com'] })
    await app.close()
  })
})

describe('sessions', () => {
  it('anonymous requests get the ANONYMOUS summary', async () => {
    const app = await buildApp({ sqlitePath: sqlite() })
    const response = await app.inject({ url: '/auth/me' })
    expect(response.json()).toEqual({ authenticated: false, id: null, name: null })
    await app.close()
  })

  it('signs in with an HttpOnly, SameSite=Lax, Path=/ cookie and answers /auth/me', async () => {
    const app = await buildApp({ sqlitePath: sqlite() })
    const user = await app.authStore.createUser({ email: 'ada@example.com', name: 'Ada', passwordHash: null })
    const response = await app.inject({ method: 'POST', url: `/test/sign-in/${user.id}` })
    const header = String(response.headers['set-cookie'])
    expect(header).toMatch(/HttpOnly/)
    expect(header).toMatch(/SameSite=Lax/)
    expect(header).toMatch(/Path=\//)
    const cookie = sessionCookie(response)!
    const me = await app.inject({ url: '/auth/me', headers: { cookie } })
    expect(me.json()).toEqual({ authenticated: true, id: user.id, name: 'Ada' })
    await app.close()
  })

  it('uses a Secure __Host- cookie outside plain-http localhost', async () => {
    const app = await buildApp({ sqlitePath: sqlite(), publicUrl: 'https://auth.example.com' })
    const user = await app.authStore.createUser({ email: 'a@example.com', name: 'A', passwordHash: null })
    const response = await app.inject({ method: 'POST', url: `/test/sign-in/${user.id}`, headers: { origin: 'https://auth.example.com' } })
    const header = String(response.headers['set-cookie'])
    expect(header).toMatch(/^__Host-wa_sid=/)
    expect(header).toMatch(/Secure/)
    await app.close()
  })

  it('a planted pre-login session id stops working at login (a new id is issued)', async () => {
    const app = await buildApp({ sqlitePath: sqlite() })
    const { user, cookie: planted } = await signedInUser(app)
    const again = await app.inject({ method: 'POST', url: `/test/sign-in/${user.id}`, headers: { cookie: planted } })
    const fresh = sessionCookie(again)!
    expect(fresh).not.toEqual(planted)
    expect((await app.inject({ url: '/auth/me', headers: { cookie: planted } })).json().authenticated).toBe(false)
    expect((await app.inject({ url: '/auth/me', headers: { cookie: fresh } })).json().authenticated).toBe(true)
    await app.close()
  })

  it('a forged or malformed cookie is anonymous, never an error', async () => {
    const app = await buildApp({ sqlitePath: sqlite() })
    for (const value of ['x', 'A'.repeat(43), '%00%ff', 'a'.repeat(5000)]) {
      const response = await app.inject({ url: '/auth/me', headers: { cookie: `wa_sid=${value}` } })
      expect(response.statusCode).toBe(200)
      expect(response.json().authenticated).toBe(false)
    }
    await app.close()
  })

  it('logout answers 204, clears the cookie and kills the session for every holder', async () => {
    const app = await buildApp({ sqlitePath: sqlite() })
    const { cookie } = await signedInUser(app)
    const response = await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } })
    expect(response.statusCode).toBe(204)
    expect(String(response.headers['set-cookie'])).toMatch(/wa_sid=;/)
    expect((await app.inject({ url: '/auth/me', headers: { cookie } })).json().authenticated).toBe(false)
    await app.close()
  })

  it('a request in flight during logout never writes the destroyed session back', async () => {
    const app = await buildApp({ sqlitePath: sqlite() })
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    app.post('/slow-grant', { config: { wireAuth: 'guarded' } }, async (request) => {
      await gate
      await app.auth.grant(request.user, request, 'role', 'late')
      return { ok: true }
    })
    const { user, cookie } = await signedInUser(app)
    const slow = app.inject({ method: 'POST', url: '/slow-grant', headers: { cookie } })
    await new Promise((resolve) => setTimeout(resolve, 20))
    await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } })
    release()
    expect((await slow).statusCode).toBe(200)
    expect((await app.inject({ url: '/auth/me', headers: { cookie } })).json().authenticated).toBe(false)
    expect(await app.authStore.listSessions(user.id)).toEqual([])
    await app.close()
  })

  it('idle expiry holds, and rolling renewal extends it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'))
    const app = await buildApp({ sqlitePath: sqlite(), session: { idleTimeoutMs: 10 * 60_000, absoluteTimeoutMs: 60 * 60_000, touchIntervalMs: 60_000 } })
    const { cookie } = await signedInUser(app)
    vi.advanceTimersByTime(8 * 60_000)
    expect((await app.inject({ url: '/auth/me', headers: { cookie } })).json().authenticated).toBe(true)
    vi.advanceTimersByTime(8 * 60_000) // 16 min after login, 8 after the renewal
    expect((await app.inject({ url: '/auth/me', headers: { cookie } })).json().authenticated).toBe(true)
    vi.advanceTimersByTime(11 * 60_000) // idle for 11 min
    expect((await app.inject({ url: '/auth/me', headers: { cookie } })).json().authenticated).toBe(false)
    await app.close()
  })

  it('absolute expiry holds even for a busy session', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'))
    const app = await buildApp({ sqlitePath: sqlite(), session: { idleTimeoutMs: 10 * 60_000, absoluteTimeoutMs: 30 * 60_000, touchIntervalMs: 60_000 } })
    const { cookie } = await signedInUser(app)
    for (let minute = 0; minute < 29; minute += 5) {
      vi.advanceTimersByTime(5 * 60_000)
      const summary = (await app.inject({ url: '/auth/me', headers: { cookie } })).json()
      expect(summary.authenticated).toBe(minute + 5 < 30)
    }
    vi.advanceTimersByTime(5 * 60_000)
    expect((await app.inject({ url: '/auth/me', headers: { cookie } })).json().authenticated).toBe(false)
    await app.close()
  })

  it('sessions survive a restart on the same SQLite file', async () => {
    const first = await buildApp({ sqlitePath: sqlite() })
    const { user, cookie } = await signedInUser(first)
    await first.auth.grantTo(user.id, 'role', 'beta')
    await first.close()
    const second = await buildApp({ sqlitePath: sqlite() })
    second.get('/beta', { preHandler: second.requirePolicy({ claims: [['role', 'beta']] }), config: { wireAuth: 'guarded' } }, async () => 'ok')
    expect((await second.inject({ url: '/beta', headers: { cookie } })).statusCode).toBe(200)
    await second.close()
  })
})

describe('host apps', () => {
  it('works when the host already registered @fastify/cookie (with its own secret)', async () => {
    const { default: cookie } = await import('@fastify/cookie')
    const app = Fastify({ logger: false })
    await app.register(cookie, { secret: 'host-secret-host-secret-host-secret!' })
    await connectAuth(app, { sqlitePath: sqlite() })
    app.post<{ Params: { userId: string } }>('/sign-in/:userId', { config: { wireAuth: 'public' } }, async (request, reply) => {
      await app.auth.signIn(request, reply, request.params.userId)
      reply.setCookie('host', 'value', { signed: true, path: '/' })
      return { ok: true }
    })
    app.get('/host-cookie', { config: { wireAuth: 'public' } }, async (request) => request.unsignCookie(request.cookies.host ?? ''))
    const user = await app.authStore.createUser({ email: 'h@example.com', name: 'Host', passwordHash: null })
    const response = await app.inject({ method: 'POST', url: `/sign-in/${user.id}` })
    const cookies = (response.headers['set-cookie'] as string[]).map((line) => line.split(';')[0]).join('; ')
    expect((await app.inject({ url: '/auth/me', headers: { cookie: cookies } })).json()).toMatchObject({ authenticated: true, id: user.id })
    expect((await app.inject({ url: '/host-cookie', headers: { cookie: cookies } })).json()).toMatchObject({ valid: true, value: 'value' })
    await app.close()
  })

  it('decorates the app up front: auth, authStore, authChannel, authEngine, requirePolicy, localIdp, authProviders', async () => {
    const app = await buildApp({ sqlitePath: sqlite(), localIdp: true })
    for (const name of ['auth', 'authStore', 'authChannel', 'authEngine', 'requirePolicy', 'localIdp', 'authProviders', 'fragment']) {
      expect(app.hasDecorator(name), name).toBe(true)
    }
    expect(app.authProviders).toEqual([])
    await app.close()
  })
})

describe('requirePolicy', () => {
  it('answers 401 anonymous, 403 denied, 200 allowed, with coded JSON', async () => {
    const app = await buildApp({ sqlitePath: sqlite(), policies: { AdminOnly: { requiresClaim: ['role', 'admin'] } } }, { codedErrors: true })
    app.get('/admin', { preHandler: app.requirePolicy('AdminOnly'), config: { wireAuth: 'guarded' } }, async () => ({ secret: 'admin stuff' }))
    const anonymous = await app.inject({ url: '/admin' })
    expect(anonymous.statusCode).toBe(401)
    expect(anonymous.json().error.code).toBe('ERR_UNAUTHENTICATED')
    const { user, cookie } = await signedInUser(app)
    const denied = await app.inject({ url: '/admin', headers: { cookie } })
    expect(denied.statusCode).toBe(403)
    expect(denied.json().error.code).toBe('ERR_FORBIDDEN')
    await app.auth.grantTo(user.id, 'role', 'admin')
    const allowed = await app.inject({ url: '/admin', headers: { cookie } })
    expect(allowed.statusCode).toBe(200)
    await app.close()
  })

  it('a missing policy denies (fails closed)', async () => {
    const app = await buildApp({ sqlitePath: sqlite() })
    app.get('/x', { preHandler: app.requirePolicy('NoSuchPolicy'), config: { wireAuth: 'guarded' } }, async () => 'leak')
    const { cookie } = await signedInUser(app)
    expect((await app.inject({ url: '/x', headers: { cookie } })).statusCode).toBe(403)
    await app.close()
  })

  it('a malformed spec throws at registration', async () => {
    const app = await buildApp({ sqlitePath: sqlite() })
    expect(() => app.requirePolicy({ claims: [] })).toThrow(expect.objectContaining({ code: 'ERR_GUARD_SPEC_INVALID' }))
    await app.close()
  })
})

describe('AuthActions', () => {
  it('grant updates the open session at once, persists, publishes one event, and survives logout/login', async () => {
    const app = await buildApp({ sqlitePath: sqlite() })
    const events: AuthEvent[] = []
    app.authChannel.subscribe((event) => events.push(event))
    app.get('/claims', { config: { wireAuth: 'public' } }, async (request) => request.user.claims)
    const { user, cookie } = await signedInUser(app)
    const updated = await app.auth.grantTo(user.id, 'role', 'beta')
    expect(events).toEqual([{ type: 'claims-changed', userId: user.id, version: updated.version }])
    expect((await app.inject({ url: '/claims', headers: { cookie } })).json()).toEqual([{ type: 'role', value: 'beta' }])
    await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } })
    const again = await app.inject({ method: 'POST', url: `/test/sign-in/${user.id}` })
    expect((await app.inject({ url: '/claims', headers: { cookie: sessionCookie(again)! } })).json()).toEqual([{ type: 'role', value: 'beta' }])
    await app.close()
  })

  it('grant(request.user, request, …) updates request.user in the same request', async () => {
    const app = await buildApp({ sqlitePath: sqlite() })
    app.post('/join', { config: { wireAuth: 'guarded' } }, async (request) => {
      await app.auth.grant(request.user, request, 'role', 'beta')
      return { beta: request.user.hasClaim('role', 'beta') }
    })
    const { cookie } = await signedInUser(app)
    expect((await app.inject({ method: 'POST', url: '/join', headers: { cookie } })).json()).toEqual({ beta: true })
    await app.close()
  })

  it('rejects malformed claims with ERR_INVALID_CLAIM and anonymous targets with ERR_UNAUTHENTICATED', async () => {
    const app = await buildApp({ sqlitePath: sqlite() })
    const { user } = await signedInUser(app)
    await expect(app.auth.grantTo(user.id, 'bad type!', 'x')).rejects.toMatchObject({ code: 'ERR_INVALID_CLAIM' })
    await expect(app.auth.grantTo(user.id, 'role', 'x'.repeat(5000))).rejects.toMatchObject({ code: 'ERR_INVALID_CLAIM' })
    const { ANONYMOUS } = await import('../src/index.js')
    await expect(app.auth.grant(ANONYMOUS, null, 'role', 'x')).rejects.toMatchObject({ code: 'ERR_UNAUTHENTICATED' })
    await expect(app.auth.grantTo('no-such-user', 'role', 'x')).rejects.toMatchObject({ code: 'ERR_USER_NOT_FOUND' })
    await app.close()
  })

  it('50 concurrent grants and revokes on one user end with exactly the expected claims', async () => {
    const app = await buildApp({ sqlitePath: sqlite() })
    app.get('/claims', { config: { wireAuth: 'public' } }, async (request) => request.user.claims.map((c) => c.value).sort())
    const { user, cookie } = await signedInUser(app)
    const operations: Promise<unknown>[] = []
    for (let i = 0; i < 50; i++) {
      operations.push(app.auth.grantTo(user.id, 'perm', `p${i}`))
      if (i % 2 === 1) operations.push(app.auth.revokeFrom(user.id, 'perm', `p${i}`).catch(() => undefined))
    }
    await Promise.all(operations)
    // Revokes may run before their grant; settle them in a defined order now.
    for (let i = 1; i < 50; i += 2) await app.auth.revokeFrom(user.id, 'perm', `p${i}`)
    const expected = Array.from({ length: 25 }, (_, k) => `p${k * 2}`).sort()
    const row = await app.authStore.getUser(user.id)
    expect(row!.claims.map((c) => c.value).sort()).toEqual(expected)
    expect((await app.inject({ url: '/claims', headers: { cookie } })).json()).toEqual(expected)
    await app.close()
  })

  it('revokeAllSessions and setDisabled sign the user out everywhere and publish sessions-revoked', async () => {
    const app = await buildApp({ sqlitePath: sqlite() }, { codedErrors: true })
    const events: AuthEvent[] = []
    app.authChannel.subscribe((event) => events.push(event))
    const { user, cookie } = await signedInUser(app)
    const second = sessionCookie(await app.inject({ method: 'POST', url: `/test/sign-in/${user.id}` }))!
    expect(await app.auth.revokeAllSessions(user.id)).toBe(2)
    for (const c of [cookie, second]) expect((await app.inject({ url: '/auth/me', headers: { cookie: c } })).json().authenticated).toBe(false)
    expect(events.at(-1)).toMatchObject({ type: 'sessions-revoked', userId: user.id, all: true })

    const third = sessionCookie(await app.inject({ method: 'POST', url: `/test/sign-in/${user.id}` }))!
    await app.auth.setDisabled(user.id, true)
    expect((await app.inject({ url: '/auth/me', headers: { cookie: third } })).json().authenticated).toBe(false)
    const refused = await app.inject({ method: 'POST', url: `/test/sign-in/${user.id}` })
    expect(refused.statusCode).toBe(403)
    expect(refused.json().error.code).toBe('ERR_USER_DISABLED')
    const audit = await app.authStore.listAudit({ userId: user.id })
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['session.revoke', 'user.disable']))
    await app.close()
  })

  it('one user cannot revoke another user’s session by id', async () => {
    const app = await buildApp({ sqlitePath: sqlite() })
    const alice = await signedInUser(app)
    const bob = await signedInUser(app)
    const [bobSession] = await app.auth.listSessions(bob.user.id)
    expect(await app.auth.revokeSessionById(alice.user.id, bobSession!.id)).toBe(false)
    expect((await app.inject({ url: '/auth/me', headers: { cookie: bob.cookie } })).json().authenticated).toBe(true)
    await app.close()
  })
})

describe('CORS and CSRF', () => {
  it('only allowed origins get credentialed CORS, with Vary: Origin', async () => {
    const app = await buildApp({ sqlitePath: sqlite(), allowedOrigins: ['https://www.example.com'] })
    const allowed = await app.inject({ url: '/auth/me', headers: { origin: 'https://www.example.com' } })
    expect(allowed.headers['access-control-allow-origin']).toBe('https://www.example.com')
    expect(allowed.headers['access-control-allow-credentials']).toBe('true')
    expect(String(allowed.headers.vary)).toMatch(/Origin/i)
    for (const origin of ['https://evil.example', 'null', 'https://www.example.com.evil.example', 'http://www.example.com']) {
      const refused = await app.inject({ url: '/auth/me', headers: { origin } })
      expect(refused.headers['access-control-allow-origin']).toBeUndefined()
    }
    await app.close()
  })

  it('state-changing requests from foreign origins are refused with ERR_ORIGIN_NOT_ALLOWED', async () => {
    const app = await buildApp({ sqlitePath: sqlite(), allowedOrigins: ['https://www.example.com'] })
    const { cookie } = await signedInUser(app)
    const foreign = await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie, origin: 'https://evil.example' } })
    expect(foreign.statusCode).toBe(403)
    expect(foreign.json().error.code).toBe('ERR_ORIGIN_NOT_ALLOWED')
    const crossSite = await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie, 'sec-fetch-site': 'cross-site' } })
    expect(crossSite.statusCode).toBe(403)
    expect((await app.inject({ url: '/auth/me', headers: { cookie } })).json().authenticated).toBe(true)
    const allowed = await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie, origin: 'https://www.example.com' } })
    expect(allowed.statusCode).toBe(204)
    await app.close()
  })
})

describe('errors', () => {
  it('malformed JSON, wrong media types and unexpected throws answer coded JSON without internals (host opted in)', async () => {
    const app = await buildApp({ sqlitePath: sqlite() }, { codedErrors: true })
    app.post('/echo', { config: { wireAuth: 'public' }, schema: { body: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] } } }, async (request) => request.body)
    app.get('/boom', { config: { wireAuth: 'public' } }, async () => {
      throw new Error('SELECT secret FROM users')
    })
    const badJson = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"a":' })
    expect(badJson.statusCode).toBe(400)
    expect(badJson.json().error.code).toBe('ERR_VALIDATION')
    const invalid = await app.inject({ method: 'POST', url: '/echo', payload: { b: 2 } })
    expect(invalid.statusCode).toBe(400)
    const media = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/x-evil' }, payload: 'a=1' })
    expect(media.statusCode).toBe(415)
    expect(media.json().error.code).toBe('ERR_UNSUPPORTED_MEDIA_TYPE')
    const boom = await app.inject({ url: '/boom' })
    expect(boom.statusCode).toBe(500)
    expect(boom.json()).toEqual({ error: { code: 'ERR_INTERNAL', message: 'internal error' } })
    await app.close()
  })

  it('a store that is down answers 503 ERR_STORE_UNAVAILABLE for a session request, never allow', async () => {
    const app = await buildApp({ sqlitePath: sqlite() }, { codedErrors: true })
    app.get('/private', { preHandler: app.requirePolicy(), config: { wireAuth: 'guarded' } }, async () => 'private')
    const { cookie } = await signedInUser(app)
    await app.authStore.close()
    const response = await app.inject({ url: '/private', headers: { cookie } })
    expect(response.statusCode).toBe(503)
    expect(response.json().error.code).toBe('ERR_STORE_UNAVAILABLE')
    expect(response.body).not.toMatch(/at .*\.ts|stack/)
    await app.close().catch(() => undefined)
  })
})
