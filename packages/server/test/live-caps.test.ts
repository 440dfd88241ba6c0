// Checklist 28 on the live socket (issue 13 F4): sockets per client address
// and per user, mounted params bytes and regions per socket, regions naming
// unknown fragments refused rather than stored, and renders per client per
// second. Every refusal is coded; a worker's memory per client stays bounded.
import { request as httpRequest } from 'node:http'
import { describe, expect, it } from 'vitest'
import { RenderBudget } from '../src/lib/fragments/render-budget.js'
import { mountRegion } from '../src/lib/live/cache-keys.js'
import { MOUNT, SITE, liveHarness } from './live-harness.js'
import { signedInUser } from './support/app.js'

const live = liveHarness()

/** The status and error code of a refused upgrade (the body `ws` does not expose). */
function upgradeRefusal(url: string, cookie?: string): Promise<{ status: number; code: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { origin: SITE, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }
    if (cookie !== undefined) headers.cookie = cookie
    const request = httpRequest(url.replace('ws:', 'http:'), { headers })
    request.on('upgrade', (_res, socket) => {
      socket.destroy()
      reject(new Error('upgraded'))
    })
    request.on('response', (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: JSON.parse(body).error.code }))
    })
    request.on('error', reject)
    request.end()
  })
}

async function refusedWith(promise: Promise<unknown>): Promise<number> {
  const err = (await promise.then(() => null, (e: unknown) => e)) as { statusCode?: number } | null
  return err?.statusCode ?? 0
}

describe('sockets per client address and per user', () => {
  it('the socket over live.maxSocketsPerAddress is refused with 429 before 101; closing one frees a slot', async () => {
    await live.start({ live: { maxSocketsPerAddress: 3 } })
    const open = [await live.connect(), await live.connect(), await live.connect()]
    expect(await upgradeRefusal(live.url)).toEqual({ status: 429, code: 'ERR_SOCKET_TOO_MANY_PER_ADDRESS' })
    open[0].close()
    await open[0].closed
    // The hub forgets the socket on its close event, which may trail the client's by a tick.
    await expect.poll(async () => {
      try {
        const again = await live.connect()
        return (await again.next('principal')).t
      } catch {
        return 'refused'
      }
    }).toBe('principal')
  })

  it('with the defaults, 200 sockets from one address are not all accepted (regression: every one was)', async () => {
    await live.start()
    let accepted = 0
    let refused = 0
    for (let i = 0; i < 200; i++) {
      try {
        await live.connect()
        accepted++
      } catch (err) {
        expect((err as { statusCode?: number }).statusCode).toBe(429)
        refused++
      }
    }
    expect(accepted).toBe(128)
    expect(refused).toBe(72)
  })

  it('the socket over live.maxSocketsPerUser is refused with ERR_SOCKET_TOO_MANY_PER_USER; other users are unaffected', async () => {
    const server = await live.start({ live: { maxSocketsPerUser: 2 } })
    const ada = await signedInUser(server, 'ada@example.com', 'Ada')
    const bob = await signedInUser(server, 'bob@example.com', 'Bob')
    await live.connect(ada.cookie)
    await live.connect(ada.cookie)
    expect(await refusedWith(live.connect(ada.cookie))).toBe(429)
    expect(await upgradeRefusal(live.url, ada.cookie)).toEqual({ status: 429, code: 'ERR_SOCKET_TOO_MANY_PER_USER' })
    const bobSocket = await live.connect(bob.cookie)
    expect((await bobSocket.next('principal')).user).toMatchObject({ id: bob.user.id })
    // Anonymous sockets from the same address are not the user's.
    expect((await (await live.connect()).next('principal')).t).toBe('principal')
  })

  it('a token socket that would be the user\'s one too many is closed with ERR_SOCKET_TOO_MANY_PER_USER (1008)', async () => {
    const server = await live.start({ localIdp: { grants: ['authorization_code', 'refresh_token', 'password'] }, live: { maxSocketsPerUser: 1 } })
    const password = 'correct horse battery staple 42'
    const registered = await server.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'tok@example.com', password, name: 'Tok' } })
    const cookie = registered.headers['set-cookie']
    const pair = (Array.isArray(cookie) ? cookie[0] : String(cookie)).split(';')[0]
    await live.connect(pair)
    const issued = await server.inject({ method: 'POST', url: '/auth/local/token', payload: { grant_type: 'password', username: 'tok@example.com', password } })
    expect(issued.statusCode).toBe(200)
    const tokenSocket = await live.connect()
    await tokenSocket.next('principal')
    tokenSocket.send({ t: 'auth', token: issued.json().access_token })
    expect(await tokenSocket.next('error')).toMatchObject({ code: 'ERR_SOCKET_TOO_MANY_PER_USER' })
    expect(await tokenSocket.closed).toEqual({ code: 1008, reason: 'ERR_SOCKET_TOO_MANY_PER_USER' })
  })
})

describe('what one socket may hold', () => {
  it('params over live.maxParamsBytesPerSocket are refused by id with ERR_PARAMS_TOO_LARGE; unmounting frees them', async () => {
    await live.start({ live: { maxParamsBytesPerSocket: 10_000 } })
    const client = await live.connect()
    await client.next('principal')
    const region = (id: string) => ({ id, fragment: 'news', params: { pad: 'x'.repeat(3000) } })
    client.send({ t: 'mount', regions: [region('a'), region('b'), region('c'), region('d'), region('e')] })
    expect(await client.next('error')).toMatchObject({ code: 'ERR_PARAMS_TOO_LARGE', id: 'd' })
    expect(await client.next('error')).toMatchObject({ code: 'ERR_PARAMS_TOO_LARGE', id: 'e' })
    expect((await client.render()).map((r) => r.id)).toEqual(['a', 'b', 'c'])
    // Re-mounting a mounted id replaces it: its bytes are not counted twice.
    client.send({ t: 'mount', regions: [region('a')] })
    expect((await client.render()).map((r) => r.id)).toEqual(['a'])
    client.send({ t: 'unmount', ids: ['b'] })
    client.send({ t: 'mount', regions: [region('d')] })
    expect((await client.render()).map((r) => r.id)).toEqual(['d'])
  })

  it('the issue\'s attack (500 regions × 4 KiB params) mounts at most 64 KiB of params per socket by default', async () => {
    await live.start({ live: { maxMessageBytes: 4 * 1024 * 1024 } })
    const client = await live.connect()
    await client.next('principal')
    const regions = Array.from({ length: 500 }, (_, i) => ({ id: `r${i}`, fragment: 'news', params: { pad: 'x'.repeat(4000) } }))
    client.send({ t: 'mount', regions })
    const rendered = await client.render()
    expect(rendered.length).toBe(16)
    const errors = client.messages.filter((m) => m.t === 'error')
    expect(errors.length).toBe(484)
    expect(new Set(errors.map((m) => m.code))).toEqual(new Set(['ERR_PARAMS_TOO_LARGE']))
  })

  it('regions naming an unknown fragment are answered ERR_FRAGMENT_NOT_FOUND but never stored (regression: they took slots)', async () => {
    const server = await live.start({ live: { maxRegionsPerSocket: 2 } })
    const { cookie, user } = await signedInUser(server, 'ada@example.com', 'Ada')
    const client = await live.connect(cookie)
    await client.next('principal')
    // Two per message at most (the cap bounds one message too); unknown fragments first.
    client.send({ t: 'mount', regions: [{ id: 'x1', fragment: 'no-such-fragment' }, { id: 'x2', fragment: 'no-such-fragment', params: { pad: 'y'.repeat(3000) } }] })
    expect(await client.render()).toEqual([
      { id: 'x1', status: 'denied', html: '', code: 'ERR_FRAGMENT_NOT_FOUND' },
      { id: 'x2', status: 'denied', html: '', code: 'ERR_FRAGMENT_NOT_FOUND' },
    ])
    client.send({ t: 'mount', regions: [{ id: 'x3', kind: 'guard', fragment: 'nope' }, { id: 'beta', fragment: 'beta-panel' }] })
    expect(await client.render()).toEqual([
      { id: 'beta', status: 'denied', html: '', code: 'ERR_DENIED' },
      { id: 'x3', status: 'redirect', location: '/login', code: 'ERR_FRAGMENT_NOT_FOUND' },
    ])
    client.send({ t: 'mount', regions: [{ id: 'news', fragment: 'news' }] })
    expect(await client.render()).toEqual([{ id: 'news', status: 'allowed', html: '<p>news</p>' }])
    expect(client.unread().filter((m) => m.t === 'error')).toEqual([])
    // Not stored: a later change re-renders only the known region.
    await server.auth.grantTo(user.id, 'role', 'beta')
    expect(await client.render()).toEqual([{ id: 'beta', status: 'allowed', html: '<p>beta for Ada</p>' }])
  })

  it('a mounted region holds its params once: its cache key is a digest, not a second serialised copy', () => {
    const params = Object.freeze({ pad: 'z'.repeat(4000) })
    const state = mountRegion({ id: 'a', kind: 'region', fragment: 'news', params })
    expect(state.key.length).toBeLessThan(64)
    expect(state.key).not.toContain('zzz')
    expect(state.paramsBytes).toBe(JSON.stringify(params).length)
    expect(mountRegion({ id: 'b', kind: 'region', fragment: 'news', params: { pad: 'z'.repeat(4000) } }).key).toBe(state.key)
    expect(mountRegion({ id: 'c', kind: 'region', fragment: 'news', params: { pad: 'z'.repeat(3999) } }).key).not.toBe(state.key)
  })
})

describe('renders per client per second', () => {
  it('regions of a mount beyond live.rendersPerSecond are refused by id with ERR_RATE_LIMITED and not stored', async () => {
    await live.start({ live: { rendersPerSecond: 5 } })
    const client = await live.connect()
    await client.next('principal')
    const regions = Array.from({ length: 8 }, (_, i) => ({ id: `r${i}`, fragment: 'news' }))
    client.send({ t: 'mount', regions })
    for (const id of ['r5', 'r6', 'r7']) expect(await client.next('error')).toMatchObject({ code: 'ERR_RATE_LIMITED', id })
    expect((await client.render()).map((r) => r.id)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4'])
  })

  it('RenderBudget: one window per client and second, shared by every caller, bounded in clients', () => {
    let now = 10_000
    const budget = new RenderBudget(5, () => now, 2)
    expect(budget.take('a', 3)).toBe(3)
    expect(budget.take('a', 3)).toBe(2) // the second caller (another socket, or HTTP) shares the window
    expect(budget.take('a', 1)).toBe(0)
    expect(budget.retryAfterMs('a')).toBe(1000)
    expect(budget.take('b', 5)).toBe(5) // per client
    now += 999
    expect(budget.take('a', 1)).toBe(0)
    now += 1
    expect(budget.take('a', 9)).toBe(5)
    expect(budget.take('c', 1)).toBe(1) // a third client: the expired window of 'b' is dropped
    expect(budget.take('b', 5)).toBe(5)
  })
})
