import { html } from '@wire-auth/core'
import type { FastifyInstance } from 'fastify'
import { afterEach } from 'vitest'
import WebSocket from 'ws'
import { LocalAuthChannel, type WireAuthOptions } from '../src/index.js'
import { buildApp, tempDir } from './support/app.js'

/** The page origin the live tests connect from (in `allowedOrigins`). */
export const SITE = 'https://www.example.com'

export interface Message {
  t: string
  [key: string]: unknown
}
export interface RenderedRegion {
  id: string
  status: string
  html?: string
  code?: string
  location?: string
}

/** A real `ws` client that records every message and lets a test wait for the next matching one. */
export class LiveClient {
  readonly messages: Message[] = []
  #cursor = 0
  #wake: (() => void) | null = null
  readonly closed: Promise<{ code: number; reason: string }>

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      // Browsers hand binary frames to the SDK as Blobs, which it ignores: every frame must be text.
      this.messages.push(isBinary ? { t: 'BINARY FRAME' } : (JSON.parse(String(data)) as Message))
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
export class ResyncChannel extends LocalAuthChannel {
  readonly #listeners = new Set<() => void>()
  override onResync(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
  resync(): void {
    for (const listener of this.#listeners) listener()
  }
}

/** Mounts the three fragments every live test uses. */
export const MOUNT = {
  t: 'mount',
  regions: [
    { id: 'beta', kind: 'region', fragment: 'beta-panel' },
    { id: 'news', kind: 'region', fragment: 'news' },
    { id: 'acct', kind: 'region', fragment: 'account' },
  ],
}

/**
 * A wire-auth app on a real SQLite file listening on a free port, with the
 * fragments `beta-panel` (policy BetaOnly, counts renders), `news` (public)
 * and `account` (signed in); sockets and app are closed after each test.
 */
export function liveHarness() {
  let dir: { dir: string; cleanup: () => void } | undefined
  let app: FastifyInstance | undefined
  const clients: LiveClient[] = []
  const state = {
    url: '',
    renders: 0,

    async start(options: Partial<WireAuthOptions> = {}): Promise<FastifyInstance> {
      dir = tempDir()
      app = await buildApp({ sqlitePath: `${dir.dir}/auth.sqlite`, allowedOrigins: [SITE], ...options })
      state.renders = 0
      app.authEngine.addPolicy('BetaOnly', { requiresClaim: ['role', 'beta'] })
      app.fragment('beta-panel', { policy: 'BetaOnly' }, ({ user }) => {
        state.renders++
        return html`<p>beta for ${user.name}</p>`
      })
      app.fragment('news', { public: true }, () => html`<p>news</p>`)
      app.fragment('account', { authenticated: true }, ({ user }) => html`<p>${user.name}</p>`)
      await app.listen({ port: 0, host: '127.0.0.1' })
      const address = app.server.address()
      if (address === null || typeof address === 'string') throw new Error('no port')
      state.url = `ws://127.0.0.1:${address.port}/auth/live`
      return app
    },

    /** Opens a socket (Origin SITE unless told; `null` sends none) and tracks it for cleanup. */
    async connect(cookie?: string, options: WebSocket.ClientOptions = {}, origin: string | null = SITE, extraHeaders: Record<string, string> = {}): Promise<LiveClient> {
      const headers: Record<string, string> = { ...extraHeaders }
      if (origin !== null) headers.origin = origin
      if (cookie !== undefined) headers.cookie = cookie
      const client = await LiveClient.connect(state.url, headers, options)
      clients.push(client)
      return client
    },

    /** Sockets opened so far in this test. */
    get opened(): number {
      return clients.length
    },
  }

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await app?.close()
    app = undefined
    dir?.cleanup()
    dir = undefined
  })

  return state
}
