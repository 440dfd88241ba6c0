/**
 * How many region evaluations each client address may ask for per second
 * (checklist 28), shared by `POST /auth/fragments`, `GET /auth/fragments/:name`
 * and the socket's `mount`: whatever transport a client picks, its renders
 * come out of one budget. Fixed one-second windows per client bucket (IPv4,
 * IPv6 /64), in memory, per worker — like `@fastify/rate-limit`.
 *
 * Re-renders the server starts itself (a claim changed, a resync) are not
 * charged: the client did not ask for them.
 *
 * Bounded: at most `maxClients` windows are kept; past that, expired windows
 * are dropped first, then the oldest (which at worst gives that client a fresh
 * second).
 * @internal
 */
export class RenderBudget {
  readonly #perSecond: number
  readonly #now: () => number
  readonly #maxClients: number
  readonly #windows = new Map<string, { start: number; used: number }>()

  constructor(perSecond: number, now: () => number = Date.now, maxClients = 100_000) {
    this.#perSecond = perSecond
    this.#now = now
    this.#maxClients = maxClients
  }

  /** Renders per client per second. */
  get perSecond(): number {
    return this.#perSecond
  }

  /**
   * Takes up to `wanted` renders for `client`.
   * @returns How many were granted (0..wanted); the rest must be refused.
   */
  take(client: string, wanted: number): number {
    if (wanted <= 0) return 0
    const now = this.#now()
    let window = this.#windows.get(client)
    if (window === undefined || now - window.start >= 1000) {
      if (window !== undefined) this.#windows.delete(client)
      window = { start: now, used: 0 }
      this.#windows.set(client, window)
      if (this.#windows.size > this.#maxClients) this.#prune(now)
    }
    const granted = Math.min(wanted, this.#perSecond - window.used)
    if (granted <= 0) return 0
    window.used += granted
    return granted
  }

  /** Milliseconds until `client` gets a fresh window (for `Retry-After`). */
  retryAfterMs(client: string): number {
    const window = this.#windows.get(client)
    return window === undefined ? 0 : Math.max(0, 1000 - (this.#now() - window.start))
  }

  #prune(now: number): void {
    for (const [client, window] of this.#windows) {
      if (now - window.start >= 1000) this.#windows.delete(client)
    }
    // Map order is insertion order: the first entries are the oldest windows.
    for (const client of this.#windows.keys()) {
      if (this.#windows.size <= this.#maxClients) break
      this.#windows.delete(client)
    }
  }
}
