// Cookie sessions: sign-in, the cookie, expiry, rolling renewal and sign-out.
import { describe, expect, it, vi } from 'vitest'
import { buildApp, sessionCookie, signedInUser, sqliteFilePerTest } from './support/app.js'

const sqlite = sqliteFilePerTest()

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
