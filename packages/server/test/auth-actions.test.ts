// app.auth: grants, revocations and session control, and the events they publish.
import { describe, expect, it } from 'vitest'
import { type AuthEvent } from '../src/index.js'
import { buildApp, sessionCookie, signedInUser, sqliteFilePerTest } from './support/app.js'

const sqlite = sqliteFilePerTest()

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
