import { createPrincipal, html } from '@wire-auth/core'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { LocalAuthChannel, type WireAuthOptions } from '../src/index.js'
import { hashSessionId } from '../src/lib/sessions.js'
import { buildApp, signedInUser, tempDir } from './support/app.js'

const SITE = 'https://www.example.com'

interface Message {
  t: string
  [key: string]: unknown
}
interface RenderedRegion {
  id: string
  status: string
  html?: string
  code?: string
  location?: string
}

/** A real `ws` client that records every message and lets a test wait for the next matching one. */
class LiveClient {
  readonly messages: Message[] = []
  #cursor = 0
  #wake: (() => void) | null = null
  readonly closed: Promise<{ code: number; reason: string }>

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as Message)
      this.#wake?.()
    })
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => {
      resolve({ code, reason: String(reason) })
      this.#wake?.()
    }))
  }

  static connect(url: string, headers: Record<string, string>, options: WebSocket.ClientOptions = {}): Promise<LiveClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers, ...options })
      const client = new LiveClient(ws)
      ws.once('open', () => resolve(client))
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`refused ${res.statusCode}`), { statusCode: res.statusCode })))
      ws.once('error', reject)
    })
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message))
  }

  /** The next unread message (optionally of type `t`), waiting up to 5 s. Messages before it are skipped. */
  async next(t?: string): Promise<Message> {
    const deadline = Date.now() + 5000
    for (;;) {
      while (this.#cursor < this.messages.length) {
        const message = this.messages[this.#cursor++]
        if (t === undefined || message.t === t) return message
      }
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting for ${t ?? 'a message'}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${t ?? 'a message'}; got ${JSON.stringify(this.messages.slice(-5))}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.#wake = null
    }
  }

  async render(): Promise<RenderedRegion[]> {
    return (await this.next('render')).regions as RenderedRegion[]
  }

  /** Messages received but not read yet. */
  unread(): Message[] {
    return this.messages.slice(this.#cursor)
  }

  close(): void {
    this.ws.terminate()
  }
}

/** The in-process channel plus a way to fire its resync, as a Redis channel does after an outage. */
class ResyncChannel extends LocalAuthChannel {
  readonly #listeners = new Set<() => void>()
  override onResync(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
  resync(): void {
    for (const listener of this.#listeners) listener()
  }
}

let dir: { dir: string; cleanup: () => void } | undefined
let app: FastifyInstance | undefined
const clients: LiveClient[] = []
let url = ''
let renders = 0

async function start(options: Partial<WireAuthOptions> = {}): Promise<FastifyInstance> {
  dir = tempDir()
  app = await buildApp({ sqlitePath: `${dir.dir}/auth.sqlite`, allowedOrigins: [SITE], ...options })
  renders = 0
  app.authEngine.addPolicy('BetaOnly', { requiresClaim: ['role', 'beta'] })
  app.fragment('beta-panel', { policy: 'BetaOnly' }, ({ user }) => {
    renders++
    return html`<p>beta for ${user.name}</p>`
  })
  app.fragment('news', { public: true }, () => html`<p>news</p>`)
  app.fragment('account', { authenticated: true }, ({ user }) => html`<p>${user.name}</p>`)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  url = `ws://127.0.0.1:${address.port}/auth/live`
  return app
}

async function connect(cookie?: string, options: WebSocket.ClientOptions = {}, origin: string | null = SITE): Promise<LiveClient> {
  const headers: Record<string, string> = {}
  if (origin !== null) headers.origin = origin
  if (cookie !== undefined) headers.cookie = cookie
  const client = await LiveClient.connect(url, headers, options)
  clients.push(client)
  return client
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close()
  await app?.close()
  app = undefined
  dir?.cleanup()
  dir = undefined
})

const MOUNT = {
  t: 'mount',
  regions: [
    { id: 'beta', kind: 'region', fragment: 'beta-panel' },
    { id: 'news', kind: 'region', fragment: 'news' },
    { id: 'acct', kind: 'region', fragment: 'account' },
  ],
}

describe('the upgrade checks the Origin before 101', () => {
  it('refuses a foreign, a look-alike, a null and a missing Origin with 403', async () => {
    await start()
    for (const origin of ['https://evil.example', 'https://www.example.com.evil.example', 'null', 'http://www.example.com', null]) {
      await expect(connect(undefined, {}, origin)).rejects.toMatchObject({ statusCode: 403 })
    }
    expect(clients).toHaveLength(0)
  })

  it('accepts an allowed origin and the backend origin', async () => {
    await start()
    const site = await connect()
    expect(await site.next('principal')).toEqual({ t: 'principal', user: { authenticated: false, id: null, name: null } })
    const own = await connect(undefined, {}, 'http://localhost:3000')
    expect((await own.next('principal')).t).toBe('principal')
  })
})

describe('principal and mount', () => {
  it('an anonymous socket gets denied regions, the public one rendered', async () => {
    await start()
    const client = await connect()
    await client.next('principal')
    client.send(MOUNT)
    expect(await client.render()).toEqual([
      { id: 'beta', status: 'denied', html: '', code: 'ERR_UNAUTHENTICATED' },
      { id: 'news', status: 'allowed', html: '<p>news</p>' },
      { id: 'acct', status: 'denied', html: '', code: 'ERR_UNAUTHENTICATED' },
    ])
    expect(renders).toBe(0)
  })

  it('a cookie socket carries the session principal', async () => {
    const server = await start()
    const { user, cookie } = await signedInUser(server, 'ada@example.com', 'Ada')
    const client = await connect(cookie)
    expect(await client.next('principal')).toEqual({ t: 'principal', user: { authenticated: true, id: user.id, name: 'Ada' } })
    client.send(MOUNT)
    const regions = await client.render()
    expect(regions.find((r) => r.id === 'acct')).toEqual({ id: 'acct', status: 'allowed', html: '<p>Ada</p>' })
    expect(regions.find((r) => r.id === 'beta')).toMatchObject({ status: 'denied', code: 'ERR_DENIED' })
  })

  it('a guard region redirects when denied', async () => {
    await start()
    const client = await connect()
    client.send({ t: 'mount', regions: [{ id: 'g', kind: 'guard', policy: 'BetaOnly', returnTo: '/beta' }] })
    expect(await client.render()).toEqual([{ id: 'g', status: 'redirect', location: '/login?returnTo=%2Fbeta', code: 'ERR_UNAUTHENTICATED' }])
  })

  it('unmount forgets regions: a later change does not render them', async () => {
    const server = await start()
    const { user, cookie } = await signedInUser(server, 'u@example.com', 'U')
    const client = await connect(cookie)
    client.send(MOUNT)
    await client.render()
    client.send({ t: 'unmount', ids: ['beta'] })
    client.send({ t: 'mount', regions: [{ id: 'probe', fragment: 'news' }] })
    await client.render()
    await server.auth.grant(createPrincipal({ userId: user.id }), null, 'role', 'beta')
    client.send({ t: 'mount', regions: [{ id: 'probe2', fragment: 'news' }] })
    expect((await client.render()).map((r) => r.id)).toEqual(['probe2'])
    expect(renders).toBe(0)
  })
})

describe('live re-evaluation', () => {
  it('a grant through app.auth.grant flips the region on both sockets of the user, sending only what changed', async () => {
    const server = await start()
    const { user, cookie } = await signedInUser(server, 'ada@example.com', 'Ada')
    const other = await signedInUser(server, 'bob@example.com', 'Bob')
    const tab1 = await connect(cookie)
    const tab2 = await connect(cookie)
    const bob = await connect(other.cookie)
    for (const client of [tab1, tab2, bob]) {
      client.send(MOUNT)
      await client.render()
    }

    await server.auth.grant(createPrincipal({ userId: user.id, name: 'Ada' }), null, 'role', 'beta')
    for (const tab of [tab1, tab2]) {
      expect(await tab.render()).toEqual([{ id: 'beta', status: 'allowed', html: '<p>beta for Ada</p>' }])
    }
    // Rendered once for both sockets of the same principal.
    expect(renders).toBe(1)

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
    const server = await start()
    const { user, cookie } = await signedInUser(server)
    const client = await connect(cookie)
    await client.next('principal')
    client.send(MOUNT)
    await client.render()
    await server.auth.grantTo(user.id, 'unrelated', 'x')
    client.send({ t: 'mount', regions: [{ id: 'probe', fragment: 'news' }] })
    expect((await client.render()).map((r) => r.id)).toEqual(['probe'])
    expect(client.messages.filter((m) => m.t === 'render')).toHaveLength(2)
  })

  it('revoking the session turns its sockets anonymous: signed-out, principal, regions denied', async () => {
    const server = await start()
    const { user, cookie } = await signedInUser(server, 'ada@example.com', 'Ada')
    await server.auth.grantTo(user.id, 'role', 'beta')
    const tab1 = await connect(cookie)
    const tab2 = await connect(cookie)
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
    const server = await start()
    const { user, cookie } = await signedInUser(server, 'ada@example.com', 'Ada')
    const second = await server.inject({ method: 'POST', url: `/test/sign-in/${user.id}` })
    const laptopCookie = String(second.headers['set-cookie']).split(';')[0]
    const phone = await connect(cookie)
    const laptop = await connect(laptopCookie)
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
    const server = await start({ channel })
    const { user, cookie } = await signedInUser(server, 'ada@example.com', 'Ada')
    const client = await connect(cookie)
    client.send(MOUNT)
    await client.render()
    // Written behind the channel's back, as during a Redis outage: no event.
    await server.authStore.addClaim(user.id, { type: 'role', value: 'beta' })
    channel.resync()
    expect(await client.render()).toEqual([{ id: 'beta', status: 'allowed', html: '<p>beta for Ada</p>' }])
  })
})

describe('limits and malformed input', () => {
  it('a message over live.maxMessageBytes gets ERR_SOCKET_MESSAGE_TOO_LARGE and close 1009; other sockets carry on', async () => {
    await start({ live: { maxMessageBytes: 1024 } })
    const victim = await connect()
    const bystander = await connect()
    await victim.next('principal')
    victim.send({ t: 'mount', regions: [{ id: 'r', fragment: 'news', params: { pad: 'x'.repeat(1500) } }] })
    expect(await victim.next('error')).toMatchObject({ code: 'ERR_SOCKET_MESSAGE_TOO_LARGE' })
    expect(await victim.closed).toEqual({ code: 1009, reason: 'ERR_SOCKET_MESSAGE_TOO_LARGE' })
    bystander.send({ t: 'mount', regions: [{ id: 'n', fragment: 'news' }] })
    expect(await bystander.render()).toEqual([{ id: 'n', status: 'allowed', html: '<p>news</p>' }])
  })

  it('a frame far over the limit is cut off by ws itself with 1009', async () => {
    await start({ live: { maxMessageBytes: 1024 } })
    const client = await connect()
    client.send('x'.repeat(64 * 1024))
    expect((await client.closed).code).toBe(1009)
  })

  it('regions beyond live.maxRegionsPerSocket are not mounted: ERR_SOCKET_TOO_MANY_REGIONS, the rest rendered', async () => {
    await start({ live: { maxRegionsPerSocket: 3 } })
    const client = await connect()
    client.send({ t: 'mount', regions: [{ id: 'a', fragment: 'news' }, { id: 'b', fragment: 'news' }] })
    await client.render()
    client.send({ t: 'mount', regions: [{ id: 'a', fragment: 'news' }, { id: 'c', fragment: 'news' }, { id: 'd', fragment: 'news' }, { id: 'e', fragment: 'news' }] })
    expect(await client.next('error')).toMatchObject({ code: 'ERR_SOCKET_TOO_MANY_REGIONS', id: 'd' })
    expect((await client.render()).map((r) => r.id)).toEqual(['a', 'c'])
    // Unmounting frees room.
    client.send({ t: 'unmount', ids: ['a', 'b'] })
    client.send({ t: 'mount', regions: [{ id: 'd', fragment: 'news' }, { id: 'e', fragment: 'news' }] })
    expect((await client.render()).map((r) => r.id)).toEqual(['d', 'e'])
  })

  it('more than live.messagesPerSecond gets ERR_SOCKET_RATE_LIMITED; repeat offenders are closed with 1008', async () => {
    await start({ live: { messagesPerSecond: 5 } })
    const flooder = await connect()
    const bystander = await connect()
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
    await start()
    const client = await connect()
    const bystander = await connect()
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
    await start()
    const client = await connect()
    client.send({ t: 'mount', regions: [{ id: 'good', fragment: 'news' }, { id: 'bad', fragment: 'news', params: [1] }, { id: 'unknown', fragment: 'nope' }] })
    expect(await client.next('error')).toMatchObject({ code: 'ERR_SOCKET_MESSAGE_INVALID', id: 'bad' })
    expect(await client.render()).toEqual([
      { id: 'good', status: 'allowed', html: '<p>news</p>' },
      { id: 'unknown', status: 'denied', html: '', code: 'ERR_FRAGMENT_NOT_FOUND' },
    ])
  })

  it('a token on an app without the local IdP answers ERR_INVALID_TOKEN and the socket stays anonymous', async () => {
    await start()
    const client = await connect()
    await client.next('principal')
    client.send({ t: 'auth', token: 'eyJhbGciOiJub25lIn0.e30.' })
    expect(await client.next('error')).toMatchObject({ code: 'ERR_INVALID_TOKEN' })
    client.send({ t: 'mount', regions: [{ id: 'a', fragment: 'account' }] })
    expect(await client.render()).toEqual([{ id: 'a', status: 'denied', html: '', code: 'ERR_UNAUTHENTICATED' }])
  })
})

describe('ping / pong', () => {
  it('a socket that stops answering pings is terminated; a live one stays', async () => {
    await start({ live: { pingIntervalMs: 100 } })
    const dead = await connect(undefined, { autoPong: false })
    const alive = await connect()
    expect((await dead.closed).code).toBe(1006)
    alive.send({ t: 'mount', regions: [{ id: 'n', fragment: 'news' }] })
    expect(await alive.render()).toEqual([{ id: 'n', status: 'allowed', html: '<p>news</p>' }])
    expect(alive.ws.readyState).toBe(WebSocket.OPEN)
  })
})

describe('expiry', () => {
  it('a socket whose session reaches its expiry turns anonymous at the next sweep', async () => {
    const server = await start({ live: { pingIntervalMs: 100 }, session: { idleTimeoutMs: 1200, absoluteTimeoutMs: 60_000 } })
    const { cookie } = await signedInUser(server, 'ada@example.com', 'Ada')
    const client = await connect(cookie)
    expect((await client.next('principal')).user).toMatchObject({ authenticated: true })
    client.send({ t: 'mount', regions: [{ id: 'a', fragment: 'account' }] })
    expect(await client.render()).toEqual([{ id: 'a', status: 'allowed', html: '<p>Ada</p>' }])
    expect(await client.next()).toEqual({ t: 'signed-out' })
    expect(await client.next()).toEqual({ t: 'principal', user: { authenticated: false, id: null, name: null } })
    expect(await client.render()).toEqual([{ id: 'a', status: 'denied', html: '', code: 'ERR_UNAUTHENTICATED' }])
  })
})
