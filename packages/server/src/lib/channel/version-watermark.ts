import type { AuthEvent } from './auth-channel.js'

/**
 * Remembers, per user, the highest `claims-changed` version delivered, so a
 * late or duplicated event is dropped instead of re-rendering every socket.
 *
 * What a version means differs per event type:
 * - `claims-changed` carries the user row's version *after* the change. The
 *   store bumps it on every change, and a listener re-reads the store rather
 *   than applying the event, so once version N was handled every change up
 *   to N is visible: an event with a version ≤ N is stale or a duplicate.
 * - `sessions-revoked` is never dropped and never moves the mark. Deleting a
 *   session does not bump the user version (the event carries whatever the
 *   row holds), so its version cannot order it; and revocation is idempotent
 *   — applying it twice or late is harmless, dropping it would leave a
 *   revoked socket signed in. Letting it move the mark would wrongly drop a
 *   concurrent `claims-changed` that carries the same number.
 *
 * Bounded: beyond `maxUsers` the least recently updated user is forgotten,
 * which at worst lets one stale event through (harmless, see above).
 * @internal
 */
export class VersionWatermark {
  readonly #seen = new Map<string, number>()
  readonly #maxUsers: number

  constructor(maxUsers: number) {
    this.#maxUsers = maxUsers
  }

  /** True when `event` should be delivered; records its version if so. */
  accept(event: AuthEvent): boolean {
    if (event.type !== 'claims-changed') return true
    const last = this.#seen.get(event.userId)
    if (last !== undefined && event.version <= last) return false
    // Re-insert so Map order is "least recently updated first".
    this.#seen.delete(event.userId)
    this.#seen.set(event.userId, event.version)
    if (this.#seen.size > this.#maxUsers) {
      const oldest = this.#seen.keys().next().value
      if (oldest !== undefined) this.#seen.delete(oldest)
    }
    return true
  }

  /** Number of users currently tracked. */
  get size(): number {
    return this.#seen.size
  }
}
