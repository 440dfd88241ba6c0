import { describeError, type ChannelLogger } from './redis-support.js'

/**
 * Calls the `onResync` listeners of `RedisAuthChannel`. A resync makes the
 * live socket re-read every open socket's principal, so requests closer
 * together than `minIntervalMs` are merged: the first runs at once, the
 * rest become one trailing run at the end of the interval.
 * @internal
 */
export class ResyncScheduler {
  readonly #listeners = new Set<() => void>()
  readonly #minIntervalMs: number
  readonly #log: ChannelLogger
  readonly #secret: string | null
  readonly #workerId: string
  readonly #counters: { resyncs: number }
  #lastAt = Number.NEGATIVE_INFINITY
  #timer: NodeJS.Timeout | null = null
  #closed = false

  constructor(options: { minIntervalMs: number; log: ChannelLogger; secret: string | null; workerId: string; counters: { resyncs: number } }) {
    this.#minIntervalMs = options.minIntervalMs
    this.#log = options.log
    this.#secret = options.secret
    this.#workerId = options.workerId
    this.#counters = options.counters
  }

  /** Adds a listener; returns its removal. */
  add(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Runs the listeners now, or once at the end of the current interval. */
  request(reason: string): void {
    if (this.#closed || this.#timer) return
    const wait = this.#lastAt + this.#minIntervalMs - performance.now()
    if (wait <= 0) {
      this.#run(reason)
      return
    }
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#run(reason)
    }, wait)
    this.#timer.unref()
  }

  /** Drops the listeners and any pending run. */
  close(): void {
    this.#closed = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    this.#listeners.clear()
  }

  #run(reason: string): void {
    if (this.#closed) return
    this.#lastAt = performance.now()
    this.#counters.resyncs++
    this.#log.info({ reason, workerId: this.#workerId }, 'wire-auth: resyncing every socket')
    for (const listener of [...this.#listeners]) {
      try {
        listener()
      } catch (err) {
        this.#log.error({ code: 'ERR_INTERNAL', err: describeError(err, this.#secret) }, 'wire-auth: resync listener threw')
      }
    }
  }
}
