import WebSocket from 'ws'
import { SITE } from './security-app.js'

/** A `ws` client that records messages and waits for the next one of a type. */
export class Client {
  readonly messages: Array<Record<string, unknown>> = []
  #cursor = 0
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.messages.push(JSON.parse(String(data))))
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: { origin: SITE, ...headers } })
      const client = new Client(ws)
      ws.once('open', () => resolve(client))
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`refused ${res.statusCode}`), { statusCode: res.statusCode })))
      ws.once('error', reject)
    })
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message))
  }

  /** The next unread message of type `t` (earlier ones are skipped), within 5 s. */
  async next(t: string): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 5000
    for (;;) {
      while (this.#cursor < this.messages.length) {
        const message = this.messages[this.#cursor++]!
        if (message.t === t) return message
      }
      if (Date.now() > deadline) throw new Error(`no ${t}; got ${JSON.stringify(this.messages.slice(-4)).slice(0, 600)}`)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  /** Regions of the next render, by id. */
  async render(): Promise<Record<string, { status: string; html?: string; code?: string }>> {
    const message = await this.next('render')
    return Object.fromEntries((message.regions as Array<{ id: string; status: string }>).map((r) => [r.id, r]))
  }

  close(): void {
    this.ws.terminate()
  }
}
