import { createPrincipal } from '@wire-auth/core'
import { describe, expect, it, vi } from 'vitest'
import { hashSessionId } from '../src/lib/sessions.js'
import { MOUNT, ResyncChannel, liveHarness } from './live-harness.js'
import { signedInUser } from './support/app.js'

const live = liveHarness()

describe('the upgrade checks the Origin before 101', () => {
  it('refuses a foreign, a look-alike, a null and a missing Origin with 403', async () => {
    await live.start()
    for (const origin of ['https://evil.example', 'https://www.example.com.evil.example', 'null', 'http://www.example.com', null]) {
      await expect(live.connect(undefined, {}, origin)).rejects.toMatchObject({ statusCode: 403 })
    }
    expect(live.opened).toBe(0)
  })

  it('accepts an allowed origin and the backend origin', async () => {
    await live.start()
    const site = await live.connect()
    expect(await site.next('principal')).toEqual({ t: 'principal', user: { authenticated: false, id: null, name: null } })
    const own = await live.connect(undefined, {}, 'http://localhost:3000')
    expect((await own.next('principal')).t).toBe('principal')
  })
})

describe('principal and mount', () => {
  it('an anonymous socket gets denied regions, the public one rendered', async () => {
    await live.start()
    const client = await live.connect()
    await client.next('principal')
    client.send(MOUNT)
    expect(await client.render()).toEqual([
      { id: 'beta', status: 'denied', html: '', code: 'ERR_UNAUTHENTICATED' },
      { id: 'news', status: 'allowed', html: '<p>news</p>' },
      { id: 'acct', status: 'denied', html: '', code: 'ERR_UNAUTHENTICATED' },
    ])
    expect(live.renders).toBe(0)
  })

  it('a cookie socket carries the session principal', async () => {
    const server = await live.start()
    const { user, cookie } = await signedInUser(server, 'ada@example.com', 'Ada')
    const client = await live.connect(cookie)
    expect(await client.next('principal')).toEqual({ t: 'principal', user: { authenticated: true, id: user.id, name: 'Ada' } })
    client.send(MOUNT)
    const regions = await client.render()
    expect(regions.find((r) => r.id === 'acct')).toEqual({ id: 'acct', status: 'allowed', html: '<p>Ada</p>' })
    expect(regions.find((r) => r.id === 'beta')).toMatchObject({ status: 'denied', code: 'ERR_DENIED' })
  })

  it('a guard region redirects when denied', async () => {
    await live.start()
    const client = await live.connect()
    client.send({ t: 'mount', regions: [{ id: 'g', kind: 'guard', policy: 'BetaOnly', returnTo: '/beta' }] })
    expect(await client.render()).toEqual([{ id: 'g', status: 'redirect', location: '/login?returnTo=%2Fbeta', code: 'ERR_UNAUTHENTICATED' }])
  })

  it('unmount forgets regions: a later change does not render them', async () => {
    const server = await live.start()
    const { user, cookie } = await signedInUser(server, 'u@example.com', 'U')
    const client = await live.connect(cookie)
    client.send(MOUNT)
    await client.render()
    client.send({ t: 'unmount', ids: ['beta'] })
    client.send({ t: 'mount', regions: [{ id: 'probe', fragment: 'news' }] })
    await client.render()
    await server.auth.grant(createPrincipal({ userId: user.id }), null, 'role', 'beta')
    client.send({ t: 'mount', regions: [{ id: 'probe2', fragment: 'news' }] })
    expect((await client.render()).map((r) => r.id)).toEqual(['probe2'])
    expect(live.renders).toBe(0)
  })
})

describe('live re-evaluation', () => {
  it('a grant through app.auth.grant flips the region on both sockets of the user, sending only what changed', async () => {
    const server = await live.start()
    const { user, cookie } = await signedInUser(server, 'ada@example.com', 'Ada')
    const other = await signedInUser(server, 'bob@example.com', 'Bob')
    const tab1 = await live.connect(cookie)
    const tab2 = await live.connect(cookie)
    const bob = await live.connect(other.cookie)
    for (const client of [tab1, tab2, bob]) {
      client.send(MOUNT)
      await client.render()
    }

    await server.auth.grant(createPrincipal({ userId: user.id, name: 'Ada' }), null, 'role', 'beta')
    for (const tab of [tab1, tab2]) {
      expect(await tab.render()).toEqual([{ id: 'beta', status: 'allowed', html: '<p>beta for Ada</p>' }])
    }
    // Rendered once for both sockets of the same principal.
    expect(live.renders).toBe(1)

    // Bob's socket got nothing: the next message it sees is the answer to its own probe.
    bob.send({ t: 'mount', regions: [{ id: 'probe', fragment: 'news' }] })
    expect((await bob.render()).map((r) => r.id)).toEqual(['probe'])
    expect(bob.unread()).toEqual([])

    // Revoking flips it back, again only that region.
    await server.auth.revokeFrom(user.id, 'role', 'beta')
    for (const tab of [tab1, tab2]) {
      expect(await tab.render()).toEqual([{ id: 'beta', status: 'denied', html: '', code: 'ERR_DENIED' }])
    }
  })

  it('a change that alters no region output sends no render', async () => {
    const server = await live.start()
    const { user, cookie } = await signedInUser(server)
    const client = await live.connect(cookie)
    await client.next('principal')
    client.send(MOUNT)
    await client.render()
    await server.auth.grantTo(user.id, 'unrelated', 'x')
    client.send({ t: 'mount', regions: [{ id: 'probe', fragment: 'news' }] })
    expect((await client.render()).map((r) => r.id)).toEqual(['probe'])
    expect(client.messages.filter((m) => m.t === 'render')).toHaveLength(2)
  })

  it('revoking the session turns its sockets anonymous: signed-out, principal, regions denied', async () => {
    const server = await live.start()
    const { user, cookie } = await signedInUser(server, 'ada@example.com', 'Ada')
    await server.auth.grantTo(user.id, 'role', 'beta')
    const tab1 = await live.connect(cookie)
    const tab2 = await live.connect(cookie)
    for (const tab of [tab1, tab2]) {
      await tab.next('principal')
      tab.send(MOUNT)
      expect((await tab.render()).find((r) => r.id === 'beta')?.status).toBe('allowed')
    }

    await server.auth.revokeAllSessions(user.id)
    for (const tab of [tab1, tab2]) {
      expect(await tab.next()).toEqual({ t: 'signed-out' })
      expect(await tab.next()).toEqual({ t: 'principal', user: { authenticated: false, id: null, name: null } })
      expect(await tab.render()).toEqual([
        { id: 'beta', status: 'denied', html: '', code: 'ERR_UNAUTHENTICATED' },
        { id: 'acct', status: 'denied', html: '', code: 'ERR_UNAUTHENTICATED' },
      ])
    }
    // Still anonymous afterwards: a later grant does not bring the socket back.
    await server.auth.grantTo(user.id, 'role', 'admin')
    tab1.send({ t: 'mount', regions: [{ id: 'again', fragment: 'account' }] })
    expect(await tab1.render()).toEqual([{ id: 'again', status: 'denied', html: '', code: 'ERR_UNAUTHENTICATED' }])
  })

  it('revoking one session leaves the sockets of the user’s other session signed in', async () => {
    const server = await live.start()
    const { user, cookie } = await signedInUser(server, 'ada@example.com', 'Ada')
    const second = await server.inject({ method: 'POST', url: `/test/sign-in/${user.id}` })
    const laptopCookie = String(second.headers['set-cookie']).split(';')[0]
    const phone = await live.connect(cookie)
    const laptop = await live.connect(laptopCookie)
    for (const tab of [phone, laptop]) {
      await tab.next('principal')
      tab.send(MOUNT)
      await tab.render()
    }
    const phoneSession = hashSessionId(cookie.slice(cookie.indexOf('=') + 1))
    expect(await server.auth.revokeSessionById(user.id, phoneSession)).toBe(true)
    expect(await phone.next()).toEqual({ t: 'signed-out' })
    const survivor = laptop
    survivor.send({ t: 'mount', regions: [{ id: 'probe', fragment: 'account' }] })
    expect(await survivor.render()).toEqual([{ id: 'probe', status: 'allowed', html: '<p>Ada</p>' }])
    expect(survivor.messages.some((m) => m.t === 'signed-out')).toBe(false)
  })

  it('a resync re-validates every socket (a change whose event was lost still arrives)', async () => {
    const channel = new ResyncChannel()
    const server = await live.start({ channel })
    const { user, cookie } = await signedInUser(server, 'ada@example.com', 'Ada')
    const client = await live.connect(cookie)
    client.send(MOUNT)
    await client.render()
    // Written behind the channel's back, as during a Redis outage: no event.
    await server.authStore.addClaim(user.id, { type: 'role', value: 'beta' })
    channel.resync()
    expect(await client.render()).toEqual([{ id: 'beta', status: 'allowed', html: '<p>beta for Ada</p>' }])
  })
})

describe('isolation between users', () => {
  it('a resync spanning several users never hands one user another user’s render', async () => {
    const channel = new ResyncChannel()
    const server = await live.start({ channel })
    const ada = await signedInUser(server, 'ada@example.com', 'Ada')
    const bob = await signedInUser(server, 'bob@example.com', 'Bob')
    const adaTab = await live.mounted(ada.cookie)
    const bobTab = await live.mounted(bob.cookie)
    await server.authStore.addClaim(ada.user.id, { type: 'role', value: 'beta' })
    await server.authStore.addClaim(bob.user.id, { type: 'role', value: 'beta' })
    channel.resync()
    expect(await adaTab.render()).toEqual([{ id: 'beta', status: 'allowed', html: '<p>beta for Ada</p>' }])
    expect(await bobTab.render()).toEqual([{ id: 'beta', status: 'allowed', html: '<p>beta for Bob</p>' }])
    expect(live.renders).toBe(2)
  })
})

describe('expiry', () => {
  it('a socket whose session reaches its expiry turns anonymous at the next sweep', async () => {
    const server = await live.start({ live: { pingIntervalMs: 100 }, session: { idleTimeoutMs: 1200, absoluteTimeoutMs: 60_000 } })
    const { cookie } = await signedInUser(server, 'ada@example.com', 'Ada')
    const client = await live.connect(cookie)
    expect((await client.next('principal')).user).toMatchObject({ authenticated: true })
    client.send({ t: 'mount', regions: [{ id: 'a', fragment: 'account' }] })
    expect(await client.render()).toEqual([{ id: 'a', status: 'allowed', html: '<p>Ada</p>' }])
    expect(await client.next()).toEqual({ t: 'signed-out' })
    expect(await client.next()).toEqual({ t: 'principal', user: { authenticated: false, id: null, name: null } })
    expect(await client.render()).toEqual([{ id: 'a', status: 'denied', html: '', code: 'ERR_UNAUTHENTICATED' }])
  })
})

describe('ping sweep', () => {
  it('pings every socket across several event-loop turns and terminates only those that stopped answering', async () => {
    // More sockets than one sweep chunk (256), so the sweep must carry on across turns.
    // All from one address: raise its socket cap above the default 128.
    await live.start({ live: { pingIntervalMs: 150, maxSocketsPerAddress: 1000 } })
    const clients = await Promise.all(Array.from({ length: 600 }, () => live.connect()))
    const pings = clients.map(() => 0)
    clients.forEach((client, i) => client.ws.on('ping', () => pings[i]++))
    // The last socket stops answering pings: it must be the only one terminated.
    const silent = await live.connect(undefined, { autoPong: false })
    // Two sweeps reached every socket (waited for, not timed: a loaded machine only makes it later).
    await vi.waitFor(() => expect(Math.min(...pings)).toBeGreaterThanOrEqual(2), { timeout: 30_000, interval: 50 })
    await silent.closed
    expect(clients.every((client) => client.ws.readyState === client.ws.OPEN)).toBe(true)
  })
})
