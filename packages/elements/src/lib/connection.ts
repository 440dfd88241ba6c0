import { SOCKET_CLIENT_FRAME_CHARS, readServerMessage, type PrincipalSummary, type RegionRequest, type RegionResult, type WireAuthErrorCode } from '@wire-auth/core'
import { emit } from './events.js'
import { BACKEND_UNREACHABLE, fetchRegions } from './http-fallback.js'

/** Refusals after which the server holds nothing for the region (docs/protocol.md "Limits and errors"). */
const NOT_MOUNTED: ReadonlySet<string> = new Set(['ERR_SOCKET_TOO_MANY_REGIONS', 'ERR_PARAMS_TOO_LARGE', 'ERR_RATE_LIMITED', 'ERR_SOCKET_MESSAGE_INVALID'])

/** What a mounted element hears back from its connection. */
export interface RegionClient {
  /** A verdict for this region (first answer or a live re-render). */
  apply(result: RegionResult): void
  /** A coded error about this region. */
  fail(code: WireAuthErrorCode, message?: string): void
}

/** A region request before the connection assigned its id. */
export type RegionSpec = Omit<RegionRequest, 'id'>

type State = 'idle' | 'connecting' | 'open' | 'waiting' | 'closed'

const BACKOFF_BASE_MS = 500
const BACKOFF_MAX_MS = 30_000
const CONNECT_TIMEOUT_MS = 10_000

function sameSummary(a: PrincipalSummary | undefined, b: PrincipalSummary): boolean {
  return a !== undefined && a.authenticated === b.authenticated && a.id === b.id && a.name === b.name
}

/** Splits regions into `mount` messages that stay under the frame limit. */
function* chunks(regions: RegionRequest[]): Generator<RegionRequest[]> {
  let batch: RegionRequest[] = []
  let size = 0
  for (const region of regions) {
    const length = JSON.stringify(region).length + 1
    if (batch.length > 0 && size + length > SOCKET_CLIENT_FRAME_CHARS) {
      yield batch
      batch = []
      size = 0
    }
    batch.push(region)
    size += length
  }
  if (batch.length > 0) yield batch
}

/**
 * One live connection to one backend: a single `WebSocket` shared by every
 * element of the document that talks to that backend.
 *
 * - Mounts, re-mounts and unmounts are queued and flushed once per
 *   microtask, so a page that connects 100 regions sends one `mount`.
 * - On close it reconnects with exponential backoff and jitter, and
 *   re-mounts every region on the new socket.
 * - Regions waiting for a first verdict while the socket is down are asked
 *   for over `POST /auth/fragments` instead.
 * - In token mode the token is the first message of every socket.
 *
 * Get one from the document's hub (`WireAuth.connection(backend)`), not `new`.
 */
export class WireAuthConnection {
  /** The backend origin, e.g. `https://auth.example.com`. */
  readonly origin: string
  /** The principal summary, once the server told it. */
  principal: PrincipalSummary | undefined

  #events: EventTarget
  #regions = new Map<string, { spec: RegionSpec; client: RegionClient }>()
  /** Mounted but without a verdict since the last (re)mount. */
  #awaiting = new Set<string>()
  /** Known to the server on the current socket. */
  #sent = new Set<string>()
  #toMount = new Set<string>()
  #toUnmount = new Set<string>()
  #flushQueued = false
  #nextId = 0
  #socket: WebSocket | null = null
  #state: State = 'idle'
  #attempt = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #token: string | null = null
  #listeners = new Set<(principal: PrincipalSummary) => void>()
  /** The other tabs of this browser (same origin): they follow a sign-in or sign-out here. */
  #tabs = typeof BroadcastChannel === 'function' ? new BroadcastChannel('wire-auth') : null

  /**
   * @param origin Backend origin.
   * @param events Where connection-level events (`wire-auth-principal`,
   *   `wire-auth-error` without a region) are dispatched.
   */
  constructor(origin: string, events: EventTarget) {
    this.origin = origin
    this.#events = events
    globalThis.addEventListener?.('online', () => {
      if (this.#state === 'waiting') this.#connect()
    })
    // Another tab's user for this backend changed (signed in, out, or someone else): the
    // session cookie is shared, so reconnect and let the server say who this tab is now.
    // Only a different user triggers it, so the tabs settle after one round.
    this.#tabs?.addEventListener('message', (event: MessageEvent<{ o?: unknown; id?: unknown }>) => {
      if (event.data?.o === origin && this.principal !== undefined && event.data.id !== this.principal.id) this.reconnect()
    })
  }

  /** Mounts a region; returns its id. Opens the socket on first use. */
  mount(client: RegionClient, spec: RegionSpec): string {
    const id = `r${++this.#nextId}`
    this.#regions.set(id, { spec, client })
    this.#queueMount(id)
    return id
  }

  /** Re-mounts a region with a changed request (same id, new verdict). */
  update(id: string, spec: RegionSpec): void {
    const entry = this.#regions.get(id)
    if (entry === undefined) return
    entry.spec = spec
    this.#queueMount(id)
  }

  /** Forgets a region; the server stops re-evaluating it. */
  unmount(id: string): void {
    this.#regions.delete(id)
    this.#awaiting.delete(id)
    this.#toMount.delete(id)
    if (this.#sent.delete(id)) {
      this.#toUnmount.add(id)
      this.#queueFlush()
    }
  }

  /** Calls `listener` with every new principal summary; returns an unsubscribe function. */
  subscribe(listener: (principal: PrincipalSummary) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Token mode (cross-site pages without cookies): `token` is sent as the
   * first socket message and as a bearer token on the HTTP fallback. A
   * changed token reconnects at once and re-mounts everything.
   */
  setToken(token: string | null): void {
    if (token === this.#token) return
    this.#token = token
    this.reconnect()
  }

  /**
   * Opens a new socket now and re-mounts every region, e.g. after the page
   * signed in or out with `fetch` (the socket reads the session cookie when
   * it opens). Does nothing before the connection was first used.
   */
  reconnect(): void {
    if (this.#state === 'idle' || this.#state === 'closed') return
    this.#drop()
    this.#connect()
  }

  /** Opens the socket if it is not open or opening yet. */
  open(): void {
    if (this.#state === 'idle') this.#connect()
  }

  /** Closes the socket for good (tests, teardown). Mounted regions keep their content. */
  close(): void {
    this.#state = 'closed'
    clearTimeout(this.#timer)
    this.#drop()
  }

  #queueMount(id: string): void {
    this.#awaiting.add(id)
    this.#toMount.add(id)
    this.#queueFlush()
  }

  #queueFlush(): void {
    if (this.#flushQueued) return
    this.#flushQueued = true
    queueMicrotask(() => this.#flush())
  }

  #flush(): void {
    this.#flushQueued = false
    const ids = [...this.#toMount].filter((id) => this.#regions.has(id))
    this.#toMount.clear()
    if (this.#state === 'open') {
      if (this.#toUnmount.size > 0) this.#send({ t: 'unmount', ids: [...this.#toUnmount] })
      this.#toUnmount.clear()
      this.#sendMounts(ids)
      return
    }
    this.#toUnmount.clear()
    if (this.#state === 'idle') this.#connect()
    // While connecting, the socket mounts everything when it opens; while
    // waiting to reconnect, HTTP answers now.
    else if (this.#state === 'waiting' && ids.length > 0) void this.#fallback(ids)
  }

  #requests(ids: Iterable<string>): RegionRequest[] {
    const out: RegionRequest[] = []
    for (const id of ids) {
      const entry = this.#regions.get(id)
      if (entry !== undefined) out.push({ ...entry.spec, id })
    }
    return out
  }

  #sendMounts(ids: Iterable<string>): void {
    for (const regions of chunks(this.#requests(ids))) {
      for (const region of regions) this.#sent.add(region.id)
      this.#send({ t: 'mount', regions })
    }
  }

  #send(message: unknown): void {
    this.#socket?.send(JSON.stringify(message))
  }

  #connect(): void {
    clearTimeout(this.#timer)
    this.#state = 'connecting'
    const socket = new WebSocket(`${this.origin.replace(/^http/, 'ws')}/auth/live`)
    this.#socket = socket
    this.#timer = setTimeout(() => socket.close(), CONNECT_TIMEOUT_MS)
    socket.onopen = () => {
      clearTimeout(this.#timer)
      this.#state = 'open'
      if (this.#token !== null) this.#send({ t: 'auth', token: this.#token })
      this.#toMount.clear()
      this.#toUnmount.clear()
      for (const id of this.#regions.keys()) this.#awaiting.add(id)
      this.#sendMounts(this.#regions.keys())
    }
    socket.onmessage = (event) => this.#receive(event.data)
    socket.onclose = () => this.#closed()
  }

  /** Detaches and closes the current socket without triggering a reconnect. */
  #drop(): void {
    const socket = this.#socket
    this.#socket = null
    this.#sent.clear()
    if (socket === null) return
    socket.onopen = socket.onmessage = socket.onclose = null
    socket.close()
  }

  #closed(): void {
    this.#socket = null
    this.#sent.clear()
    clearTimeout(this.#timer)
    if (this.#state === 'closed') return
    this.#state = 'waiting'
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.#attempt++)
    this.#timer = setTimeout(() => this.#connect(), ceiling / 2 + Math.random() * (ceiling / 2))
    if (this.#awaiting.size > 0) void this.#fallback([...this.#awaiting])
  }

  #receive(data: unknown): void {
    const message = readServerMessage(data)
    if (message === null) return
    this.#attempt = 0
    switch (message.t) {
      case 'principal':
        this.#setPrincipal(message.user)
        break
      case 'render':
        this.#applyAll(message.regions, false)
        break
      case 'error': {
        const entry = message.id === undefined ? undefined : this.#regions.get(message.id)
        if (entry === undefined) {
          emit(this.#events, 'wire-auth-error', { code: message.code, message: message.message })
        } else {
          if (NOT_MOUNTED.has(message.code)) this.#sent.delete(message.id as string)
          this.#awaiting.delete(message.id as string)
          entry.client.fail(message.code, message.message)
        }
        break
      }
      // 'signed-out' is followed by 'principal' and 'render', which carry the change.
    }
  }

  #applyAll(results: RegionResult[], onlyAwaiting: boolean): void {
    for (const result of results) {
      const entry = this.#regions.get(result.id)
      if (entry === undefined || (onlyAwaiting && !this.#awaiting.has(result.id))) continue
      this.#awaiting.delete(result.id)
      entry.client.apply(result)
    }
  }

  #setPrincipal(principal: PrincipalSummary): void {
    if (sameSummary(this.principal, principal)) return
    this.principal = principal
    this.#tabs?.postMessage({ o: this.origin, id: principal.id })
    for (const listener of this.#listeners) listener(principal)
    emit(this.#events, 'wire-auth-principal', principal)
  }

  async #fallback(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 200) {
      const requests = this.#requests(ids.slice(i, i + 200))
      if (requests.length === 0) continue
      const outcome = await fetchRegions(this.origin, this.#token, requests)
      if (outcome.ok) {
        this.#setPrincipal(outcome.principal)
        // A socket verdict that arrived meanwhile is newer: keep it.
        this.#applyAll(outcome.regions, true)
      } else if (outcome.code === BACKEND_UNREACHABLE) {
        // The regions stay pending; the reconnecting socket re-mounts them.
        emit(this.#events, 'wire-auth-error', { code: outcome.code })
        return
      } else {
        for (const request of requests) {
          if (this.#awaiting.delete(request.id)) this.#regions.get(request.id)?.client.fail(outcome.code)
        }
      }
    }
  }
}
