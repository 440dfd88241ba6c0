import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { LiveConnection } from '../src/lib/live/live-connection.js'
import { liveHarness } from './live-harness.js'

const live = liveHarness()

describe('limits and malformed input', () => {
  it('a message over live.maxMessageBytes gets ERR_SOCKET_MESSAGE_TOO_LARGE and close 1009; other sockets carry on', async () => {
    await live.start({ live: { maxMessageBytes: 1024 } })
    const victim = await live.connect()
    const bystander = await live.connect()
    await victim.next('principal')
    victim.send({ t: 'mount', regions: [{ id: 'r', fragment: 'news', params: { pad: 'x'.repeat(1500) } }] })
    expect(await victim.next('error')).toMatchObject({ code: 'ERR_SOCKET_MESSAGE_TOO_LARGE' })
    expect(await victim.closed).toEqual({ code: 1009, reason: 'ERR_SOCKET_MESSAGE_TOO_LARGE' })
    bystander.send({ t: 'mount', regions: [{ id: 'n', fragment: 'news' }] })
    expect(await bystander.render()).toEqual([{ id: 'n', status: 'allowed', html: '<p>news</p>' }])
  })

  it('a frame far over the limit is cut off by ws itself with 1009', async () => {
    await live.start({ live: { maxMessageBytes: 1024 } })
    const client = await live.connect()
    client.send('x'.repeat(64 * 1024))
    expect((await client.closed).code).toBe(1009)
  })

  it('regions beyond live.maxRegionsPerSocket are not mounted: ERR_SOCKET_TOO_MANY_REGIONS, the rest rendered', async () => {
    await live.start({ live: { maxRegionsPerSocket: 3 } })
    const client = await live.connect()
    client.send({ t: 'mount', regions: [{ id: 'a', fragment: 'news' }, { id: 'b', fragment: 'news' }] })
    await client.render()
    client.send({ t: 'mount', regions: [{ id: 'a', fragment: 'news' }, { id: 'c', fragment: 'news' }, { id: 'd', fragment: 'news' }, { id: 'e', fragment: 'news' }] })
    expect(await client.next('error')).toMatchObject({ code: 'ERR_SOCKET_TOO_MANY_REGIONS', id: 'd' })
    expect(await client.next('error')).toMatchObject({ code: 'ERR_SOCKET_TOO_MANY_REGIONS', id: 'e' })
    expect((await client.render()).map((r) => r.id)).toEqual(['a', 'c'])
    // Unmounting frees room.
    client.send({ t: 'unmount', ids: ['a', 'b'] })
    client.send({ t: 'mount', regions: [{ id: 'd', fragment: 'news' }, { id: 'e', fragment: 'news' }] })
    expect((await client.render()).map((r) => r.id)).toEqual(['d', 'e'])
  })

  it('more than live.messagesPerSecond gets ERR_SOCKET_RATE_LIMITED; repeat offenders are closed with 1008', async () => {
    await live.start({ live: { messagesPerSecond: 5 } })
    const flooder = await live.connect()
    const bystander = await live.connect()
    await flooder.next('principal')
    for (let i = 0; i < 20; i++) flooder.send({ t: 'unmount', ids: [] })
    expect(await flooder.next('error')).toMatchObject({ code: 'ERR_SOCKET_RATE_LIMITED' })
    // One error per second, not one per dropped message.
    const errorsSoFar = () => flooder.messages.filter((m) => m.t === 'error').length
    let closed: { code: number; reason: string } | null = null
    void flooder.closed.then((value) => (closed = value))
    for (let round = 0; round < 6 && closed === null; round++) {
      await new Promise((resolve) => setTimeout(resolve, 1050))
      for (let i = 0; i < 20 && flooder.ws.readyState === WebSocket.OPEN; i++) flooder.send({ t: 'unmount', ids: [] })
    }
    expect(await flooder.closed).toEqual({ code: 1008, reason: 'ERR_SOCKET_RATE_LIMITED' })
    expect(errorsSoFar()).toBeLessThanOrEqual(4)
    bystander.send({ t: 'mount', regions: [{ id: 'n', fragment: 'news' }] })
    expect(await bystander.render()).toEqual([{ id: 'n', status: 'allowed', html: '<p>news</p>' }])
  })

  it('malformed JSON, unknown messages and binary frames get ERR_SOCKET_MESSAGE_INVALID and the socket stays open', async () => {
    await live.start()
    const client = await live.connect()
    const bystander = await live.connect()
    await client.next('principal')
    const bad = ['{not json', '[]', '"mount"', 'null', '{"t":"mount"}', '{"t":"mount","regions":[]}', '{"t":"explode"}', '{"t":"unmount","ids":["a b"]}', '{"t":"auth"}', '{"t":"mount","regions":[1],"extra":1}']
    for (const text of bad) client.send(text)
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true })
    for (let i = 0; i < bad.length + 1; i++) expect(await client.next('error')).toMatchObject({ code: 'ERR_SOCKET_MESSAGE_INVALID' })
    client.send({ t: 'mount', regions: [{ id: 'ok', fragment: 'news' }] })
    expect(await client.render()).toEqual([{ id: 'ok', status: 'allowed', html: '<p>news</p>' }])
    bystander.send({ t: 'mount', regions: [{ id: 'n', fragment: 'news' }] })
    expect(await bystander.render()).toEqual([{ id: 'n', status: 'allowed', html: '<p>news</p>' }])
  })

  it('one malformed region in a mount is refused with its id; the others are mounted', async () => {
    await live.start()
    const client = await live.connect()
    client.send({ t: 'mount', regions: [{ id: 'good', fragment: 'news' }, { id: 'bad', fragment: 'news', params: [1] }, { id: 'unknown', fragment: 'nope' }] })
    expect(await client.next('error')).toMatchObject({ code: 'ERR_PARAMS_INVALID', id: 'bad' })
    expect(await client.render()).toEqual([
      { id: 'good', status: 'allowed', html: '<p>news</p>' },
      { id: 'unknown', status: 'denied', html: '', code: 'ERR_FRAGMENT_NOT_FOUND' },
    ])
  })

  it('every refused region gets an error with its own id (regression: only the first id was answered, the rest stayed pending)', async () => {
    await live.start()
    const client = await live.connect()
    client.send({ t: 'mount', regions: [{ id: 'bad1', fragment: 'news', params: [1] }, { id: 'good', fragment: 'news' }, { id: 'bad2', fragment: 'news', claims: 'x' }] })
    const ids = [(await client.next('error')).id, (await client.next('error')).id]
    expect(ids).toEqual(['bad1', 'bad2'])
    expect((await client.render()).map((r) => r.id)).toEqual(['good'])
  })

  it('a token on an app without the local IdP answers ERR_INVALID_TOKEN and the socket stays anonymous', async () => {
    await live.start()
    const client = await live.connect()
    await client.next('principal')
    client.send({ t: 'auth', token: 'eyJhbGciOiJub25lIn0.e30.' })
    expect(await client.next('error')).toMatchObject({ code: 'ERR_INVALID_TOKEN' })
    client.send({ t: 'mount', regions: [{ id: 'a', fragment: 'account' }] })
    expect(await client.render()).toEqual([{ id: 'a', status: 'denied', html: '', code: 'ERR_UNAUTHENTICATED' }])
  })
})

describe('ping / pong', () => {
  it('a socket that stops answering pings is terminated; a live one stays', async () => {
    await live.start({ live: { pingIntervalMs: 100 } })
    const dead = await live.connect(undefined, { autoPong: false })
    const alive = await live.connect()
    expect((await dead.closed).code).toBe(1006)
    alive.send({ t: 'mount', regions: [{ id: 'n', fragment: 'news' }] })
    expect(await alive.render()).toEqual([{ id: 'n', status: 'allowed', html: '<p>news</p>' }])
    expect(alive.ws.readyState).toBe(WebSocket.OPEN)
  })
})

describe('rate windows (deterministic clock)', () => {
  const fakeSocket = {} as unknown as WebSocket
  const admitMany = (conn: LiveConnection, count: number, at: number) => Array.from({ length: count }, () => conn.admit(3, at))

  it('allows the limit per window, warns once, then drops silently', () => {
    const conn = new LiveConnection(fakeSocket, null)
    expect(admitMany(conn, 6, 10_000)).toEqual(['ok', 'ok', 'ok', 'warn', 'drop', 'drop'])
    expect(admitMany(conn, 1, 11_000)).toEqual(['ok'])
  })

  it('closes after three consecutive flooded windows', () => {
    const conn = new LiveConnection(fakeSocket, null)
    expect(admitMany(conn, 4, 10_000).at(-1)).toBe('warn')
    expect(admitMany(conn, 4, 11_000).at(-1)).toBe('warn')
    expect(admitMany(conn, 4, 12_000).at(-1)).toBe('close')
  })

  it('a calm window or an idle gap ends the streak', () => {
    const conn = new LiveConnection(fakeSocket, null)
    admitMany(conn, 4, 10_000)
    admitMany(conn, 4, 11_000)
    admitMany(conn, 1, 12_000)
    expect(admitMany(conn, 4, 13_000).at(-1)).toBe('warn')
    expect(admitMany(conn, 4, 14_000).at(-1)).toBe('warn')
    // A whole window without any message in between.
    expect(admitMany(conn, 4, 20_000).at(-1)).toBe('warn')
    expect(admitMany(conn, 4, 21_000).at(-1)).toBe('warn')
    expect(admitMany(conn, 4, 22_000).at(-1)).toBe('close')
  })
})
