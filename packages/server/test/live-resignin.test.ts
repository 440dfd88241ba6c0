// Issue 13 F7: signing in again in the same browser replaces the session the
// browser presented. The old session's row was deleted without an event, so
// sockets opened with it kept rendering protected fragments. The revocation
// is now published: those sockets go anonymous at once, on every worker.
import { describe, expect, it } from 'vitest'
import { MOUNT, liveHarness } from './live-harness.js'
import { sessionCookie, signedInUser } from './support/app.js'

const live = liveHarness()
const PASSWORD = 'correct horse battery staple 42'

describe('signing in again revokes the replaced session with an event', () => {
  it('a local-IdP login over an existing session turns the old session\'s sockets anonymous (regression: they kept rendering)', async () => {
    const server = await live.start({ localIdp: true })
    const registered = await server.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'ada@example.com', password: PASSWORD, name: 'Ada' } })
    expect(registered.statusCode).toBe(201)
    const oldCookie = sessionCookie(registered)!
    const tab = await live.connect(oldCookie)
    await tab.next('principal')
    tab.send(MOUNT)
    expect((await tab.render()).find((r) => r.id === 'acct')).toMatchObject({ status: 'allowed' })

    // Same browser (it sends the old cookie), signs in again.
    const login = await server.inject({ method: 'POST', url: '/auth/local/login', headers: { cookie: oldCookie }, payload: { email: 'ada@example.com', password: PASSWORD } })
    expect(login.statusCode).toBe(200)
    const newCookie = sessionCookie(login)!
    expect(newCookie).not.toBe(oldCookie)

    expect(await tab.next()).toEqual({ t: 'signed-out' })
    expect((await tab.next('principal')).user).toEqual({ authenticated: false, id: null, name: null })
    expect((await tab.render()).find((r) => r.id === 'acct')).toMatchObject({ status: 'denied', code: 'ERR_UNAUTHENTICATED' })

    // The new session works, live.
    const fresh = await live.connect(newCookie)
    expect((await fresh.next('principal')).user).toMatchObject({ authenticated: true, name: 'Ada' })
  })

  it('app.auth.signIn as another user over a session: the previous user\'s socket of that session goes anonymous, their other sessions stay', async () => {
    const server = await live.start()
    const ada = await signedInUser(server, 'ada@example.com', 'Ada')
    const adaPhone = await signedInUser(server, 'ada2@example.com', 'Ada2')
    const bob = await server.authStore.createUser({ email: 'bob@example.com', name: 'Bob', passwordHash: null })
    const tab = await live.connect(ada.cookie)
    await tab.next('principal')
    const bystander = await live.connect(adaPhone.cookie)
    await bystander.next('principal')

    const switched = await server.inject({ method: 'POST', url: `/test/sign-in/${bob.id}`, headers: { cookie: ada.cookie } })
    expect(switched.statusCode).toBe(200)
    expect(await tab.next()).toEqual({ t: 'signed-out' })
    bystander.send({ t: 'mount', regions: [{ id: 'a', fragment: 'account' }] })
    expect(await bystander.render()).toEqual([{ id: 'a', status: 'allowed', html: '<p>Ada2</p>' }])
    expect(bystander.messages.some((m) => m.t === 'signed-out')).toBe(false)
  })
})
