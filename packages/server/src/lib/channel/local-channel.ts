import type { AuthChannel, AuthEvent, AuthEventListener } from './auth-channel.js'

/**
 * The in-process channel: events reach the listeners of this process only.
 * The default for a single worker; use `RedisAuthChannel` to span workers.
 *
 * @example
 * ```ts
 * await connectAuth(app, { channel: new LocalAuthChannel() })
 * ```
 */
export class LocalAuthChannel implements AuthChannel {
  readonly #listeners = new Set<AuthEventListener>()
  readonly #resync = new Set<() => void>()
  #closed = false

  publish(event: AuthEvent): Promise<void> {
    if (this.#closed) return Promise.resolve()
    deliver(this.#listeners, event)
    return Promise.resolve()
  }

  subscribe(listener: AuthEventListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  onResync(listener: () => void): () => void {
    this.#resync.add(listener)
    return () => this.#resync.delete(listener)
  }

  close(): Promise<void> {
    this.#closed = true
    this.#listeners.clear()
    this.#resync.clear()
    return Promise.resolve()
  }
}

/**
 * Calls every listener; one throwing listener never stops the others.
 * @internal
 */
export function deliver(listeners: Iterable<AuthEventListener>, event: AuthEvent, onError?: (err: unknown) => void): void {
  for (const listener of listeners) {
    try {
      listener(event)
    } catch (err) {
      onError?.(err)
    }
  }
}
