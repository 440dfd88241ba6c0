import { ANONYMOUS, type ClaimsPrincipal, type ServerMessage, type WireAuthErrorCode } from '@wire-auth/core'
import type { WebSocket } from 'ws'
import type { MountedRegion } from './cache-keys.js'
import type { RenderBatch } from './render-batch.js'

/** A socket whose send buffer grows past this is a slow reader: closed rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024
const TEXT_FRAME = Object.freeze({ binary: false })
/** The queue of a socket with nothing to do (shared: one promise less per socket). */
const IDLE: Promise<void> = Promise.resolve()
/** Consecutive rate-limited one-second windows after which a socket is closed (1008). */
export const MAX_STRIKES = 3

/**
 * The state of one live socket, kept small on purpose (tens of thousands
 * per worker): no closures per socket or per region, regions only once
 * mounted, and strings shared between sockets where a batch allows.
 * @internal
 */
export class LiveConnection {
  readonly ws: WebSocket
  /** The upgrade request, handed to policies, `load` and `render` as `request`. */
  readonly request: unknown
  user: ClaimsPrincipal = ANONYMOUS
  /** Hash of the session the socket was opened with, while it is valid. */
  sessionHash: string | null = null
  /** The access token of a token-authenticated socket (never logged). */
  token: string | null = null
  /** When the principal must be re-checked (session or token expiry); 0 = at the next sweep. */
  checkAt = Number.POSITIVE_INFINITY
  regions: Map<string, MountedRegion> | null = null
  /** Sum of `paramsBytes` of the mounted regions (`live.maxParamsBytesPerSocket`). */
  paramsBytes = 0
  /** Serialises the socket's work so results are sent in the order they were asked. */
  queue: Promise<void> = IDLE
  /** The batch of a queued re-validation not yet started (later events replace it). */
  pending: RenderBatch | null = null
  alive = true
  closed = false
  /**
   * Set (to the fault's code) when the store failed while re-reading the
   * principal: every region is shown withdrawn (denied) until a re-check
   * succeeds (fail closed). Null otherwise.
   */
  faulted: WireAuthErrorCode | null = null
  windowStart = 0
  windowCount = 0
  /** Consecutive one-second windows in which the rate was exceeded. */
  strikes = 0

  /** The client's address bucket (IPv4, IPv6 /64): socket caps and the render budget count per bucket. */
  readonly address: string

  constructor(ws: WebSocket, request: unknown, address = '') {
    this.ws = ws
    this.request = request
    this.address = address
  }

  /**
   * Sends a pre-serialised message as a text frame (a Buffer is sent as is,
   * so one encoded message can go to many sockets); closes a socket that
   * stopped reading.
   */
  send(message: string | Buffer): void {
    const ws = this.ws
    if (this.closed || ws.readyState !== 1) return
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      ws.terminate()
      return
    }
    ws.send(message, TEXT_FRAME)
  }

  /**
   * Counts one incoming message against `perSecond` (fixed one-second
   * windows). `ok`: handle it; `drop`: ignore it silently; `warn`: ignore it
   * and tell the client (once per window); `close`: the rate was exceeded in
   * {@link MAX_STRIKES} consecutive windows.
   */
  admit(perSecond: number, now: number): 'ok' | 'drop' | 'warn' | 'close' {
    const elapsed = now - this.windowStart
    if (elapsed >= 1000) {
      // A window within the limit, or a gap of a whole window, ends a streak.
      if (this.windowCount <= perSecond || elapsed >= 2000) this.strikes = 0
      this.windowStart = now
      this.windowCount = 0
    }
    this.windowCount++
    if (this.windowCount <= perSecond) return 'ok'
    if (this.windowCount > perSecond + 1) return 'drop'
    this.strikes++
    return this.strikes >= MAX_STRIKES ? 'close' : 'warn'
  }

  /** Sends `{ t: "error", code, message, id? }` (core's `ServerMessage`). */
  error(code: WireAuthErrorCode, message: string, id?: string): void {
    this.send(JSON.stringify((id === undefined ? { t: 'error', code, message } : { t: 'error', code, message, id }) satisfies ServerMessage))
  }

  /** Sends the error, then closes with `closeCode` and the code as reason. */
  fail(code: WireAuthErrorCode, message: string, closeCode: number): void {
    this.error(code, message)
    if (!this.closed && this.ws.readyState === 1) this.ws.close(closeCode, code)
  }
}
