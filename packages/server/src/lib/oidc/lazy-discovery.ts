/** Options of {@link createLazyDiscovery}. @internal */
export interface LazyDiscoveryOptions {
  /** A successful result is reused for this long, ms. */
  ttlMs: number
  /** After a failure, callers get the same failure for this long, ms, before a retry. */
  retryAfterMs: number
  /** Clock, epoch ms. */
  now?: () => number
}

/** A value loaded on first use, cached, with failures cached briefly. @internal */
export interface LazyDiscovery<T> {
  /** The cached value, or the result of one shared load. */
  get(): Promise<T>
  /** Forgets the cached value or failure. */
  reset(): void
}

/**
 * Caches the result of `load` (OpenID discovery): loaded on first use,
 * concurrent callers share one request, a success is kept for `ttlMs`, a
 * failure is replayed for `retryAfterMs` so a dead provider is not hammered
 * and does not slow every login page down. Pure: no Fastify, no I/O of its own.
 * @internal
 */
export function createLazyDiscovery<T>(load: () => Promise<T>, options: LazyDiscoveryOptions): LazyDiscovery<T> {
  const now = options.now ?? Date.now
  let value: { at: number; value: T } | null = null
  let failure: { at: number; error: unknown } | null = null
  let pending: Promise<T> | null = null

  return {
    get(): Promise<T> {
      const t = now()
      if (value !== null && t - value.at < options.ttlMs) return Promise.resolve(value.value)
      if (failure !== null && t - failure.at < options.retryAfterMs) return Promise.reject(failure.error)
      if (pending !== null) return pending
      const started = load().then(
        (result) => {
          value = { at: now(), value: result }
          failure = null
          return result
        },
        (error: unknown) => {
          // A stale value stays usable when a refresh fails: the provider's
          // metadata rarely changes, and losing logins over a refresh hiccup is worse.
          if (value !== null) {
            // Retry the refresh after retryAfterMs, not on every call.
            value = { at: now() - options.ttlMs + options.retryAfterMs, value: value.value }
            return value.value
          }
          failure = { at: now(), error }
          throw error
        },
      )
      const tracked = started.finally(() => {
        if (pending === tracked) pending = null
      })
      pending = tracked
      return tracked
    },
    reset(): void {
      value = null
      failure = null
      pending = null
    },
  }
}
