import WebSocket from 'ws'

// The one test client of the live socket `GET /auth/live` (docs/protocol.md),
// shared by the server's live tests (packages/server/test/live-harness.ts),
// the security tests (the socket fuzzer too) and the multi-process tests
// (worker-processes.ts); `upgradeOutcome` is the start-up tests' probe.

/** A server message: `t` is its type; the other members depend on it. */
export interface Message {
  t: string
  // Tests read the members of each message type directly.
  [key: string]: any
}

/** One region of a `render` message. */
export interface RenderedRegion {
  id: string
  status: string
  html?: string
  code?: string
  location?: string
}

/** How long {@link SocketClient.next} waits by default. */
const NEXT_TIMEOUT_MS = 5000

/**
 * A real `ws` client (one browser tab) that records every message and lets a
 * test wait for the next matching one. Binary frames are recorded as
 * `{ t: 'BINARY FRAME' }`: browsers hand them to the SDK as Blobs, which it
 * ignores, so every frame the server sends must be text.
 */
export class SocketClient {
  readonly messages: Message[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  #cursor = 0
  #wake: (() => void) | null = null

  /** `label` names the client in timeout messages (a multi-process test has several). */
  constructor(readonly ws: WebSocket, readonly label = 'socket') {
    ws.on('message', (data, isBinary) => {
      this.messages.push(isBinary ? { t: 'BINARY FRAME' } : (JSON.parse(String(data)) as Message))
      this.#wake?.()
    })
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        resolve({ code, reason: String(reason) })
        this.#wake?.()
      }),
    )
  }

  /**
   * Opens `url` with these request headers (`origin`, `cookie`, …). A refused
   * upgrade rejects with an error carrying the answer's `statusCode`.
   */
  static connect(url: string, headers: Record<string, string> = {}, options: WebSocket.ClientOptions = {}, label?: string): Promise<SocketClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { ...options, headers })
      const client = new SocketClient(ws, label)
      ws.once('open', () => resolve(client))
      ws.once('unexpected-response', (_req, res) => {
        ws.terminate()
        reject(Object.assign(new Error(`upgrade refused ${res.statusCode}`), { statusCode: res.statusCode }))
      })
      ws.once('error', reject)
    })
  }

  /** Sends a message (an object is sent as JSON, a string as it is). */
  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message))
  }

  /** The next unread message (of type `t`, if given; earlier ones are skipped), waiting up to `timeoutMs`. */
  async next(t?: string, timeoutMs = NEXT_TIMEOUT_MS): Promise<Message> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      while (this.#cursor < this.messages.length) {
        const message = this.messages[this.#cursor++]!
        if (t === undefined || message.t === t) return message
      }
      const waited = t ?? 'a message'
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`${this.label}: socket closed while waiting for ${waited}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`${this.label}: no ${waited} within ${timeoutMs} ms; last messages ${JSON.stringify(this.messages.slice(-5)).slice(0, 2000)}`)
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

  /** The regions of the next `render`, in order. */
  async render(timeoutMs?: number): Promise<RenderedRegion[]> {
    return (await this.next('render', timeoutMs)).regions as RenderedRegion[]
  }

  /** The regions of the next `render`, by id. */
  async regions(timeoutMs?: number): Promise<Record<string, RenderedRegion>> {
    return byId(await this.render(timeoutMs))
  }

  /** Messages received and not read yet. */
  unread(): Message[] {
    return this.messages.slice(this.#cursor)
  }

  close(): void {
    this.ws.terminate()
  }
}

/** Regions by id. */
export function byId(regions: readonly RenderedRegion[]): Record<string, RenderedRegion> {
  return Object.fromEntries(regions.map((region) => [region.id, region]))
}

/**
 * One upgrade attempt at `url`: `'open'` (the socket is closed at once), the
 * status of a refused upgrade (`'403'`, `'503'`…), or `'error'`.
 */
export function upgradeOutcome(url: string, options: WebSocket.ClientOptions = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, options)
    socket.on('open', () => {
      socket.terminate()
      resolve('open')
    })
    socket.on('unexpected-response', (_req, res) => {
      res.resume()
      resolve(String(res.statusCode))
      socket.terminate()
    })
    socket.on('error', () => resolve('error'))
  })
}
