import { html } from '@wire-auth/core'
import type { FastifyInstance } from 'fastify'
import { afterEach } from 'vitest'
import type WebSocket from 'ws'
import { SocketClient } from '../../../test/support/socket-client.js'
import { LocalAuthChannel, type WireAuthOptions } from '../src/index.js'
import { buildApp, tempDir } from './support/app.js'

/** The page origin the live tests connect from (in `allowedOrigins`). */
export const SITE = 'https://www.example.com'

export type { Message, RenderedRegion } from '../../../test/support/socket-client.js'
/** The live tests' name for the shared test socket client. */
export { SocketClient as LiveClient }

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
  const clients: SocketClient[] = []
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
    async connect(cookie?: string, options: WebSocket.ClientOptions = {}, origin: string | null = SITE, extraHeaders: Record<string, string> = {}): Promise<SocketClient> {
      const headers: Record<string, string> = { ...extraHeaders }
      if (origin !== null) headers.origin = origin
      if (cookie !== undefined) headers.cookie = cookie
      const client = await SocketClient.connect(state.url, headers, options)
      clients.push(client)
      return client
    },

    /** Opens a socket with `cookie` (see {@link connect}), sends `mount` and waits for its first render. */
    async mounted(cookie: string | undefined, mount: unknown = MOUNT): Promise<SocketClient> {
      const client = await this.connect(cookie)
      client.send(mount)
      await client.render()
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
