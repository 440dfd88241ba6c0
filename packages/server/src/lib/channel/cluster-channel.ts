import cluster, { type Worker } from 'node:cluster'
import type { AuthChannel, AuthEvent, AuthEventListener } from './auth-channel.js'
import { deliver } from './local-channel.js'

/** IPC message between a worker and the primary of `wire-auth serve --workers`. */
interface EventMessage {
  wireAuth: 'event'
  event: AuthEvent
}

function isEventMessage(message: unknown): message is EventMessage {
  if (message === null || typeof message !== 'object') return false
  const { wireAuth, event } = message as Partial<EventMessage>
  return wireAuth === 'event' && event !== null && typeof event === 'object' && typeof event.userId === 'string' && typeof event.type === 'string'
}

/**
 * The channel of a `wire-auth serve --workers N` worker when no Redis is
 * configured: events are delivered to this worker at once and sent to the
 * primary, which relays them to every other worker over the cluster's IPC
 * channel. It spans one machine only; processes outside the cluster (the
 * `wire-auth user` CLI, other machines) need `redisUrl`.
 *
 * IPC between a live primary and worker does not lose messages, and a
 * worker forked later starts with no sockets, so there is nothing to resync.
 * @internal
 */
export class ClusterAuthChannel implements AuthChannel {
  readonly #listeners = new Set<AuthEventListener>()
  readonly #onMessage = (message: unknown): void => {
    if (!this.#closed && isEventMessage(message)) deliver(this.#listeners, message.event)
  }
  #closed = false

  constructor() {
    process.on('message', this.#onMessage)
  }

  publish(event: AuthEvent): Promise<void> {
    if (this.#closed) return Promise.resolve()
    deliver(this.#listeners, event)
    // A primary that is gone takes this worker down with it: nothing to retry.
    if (process.connected) process.send?.({ wireAuth: 'event', event } satisfies EventMessage, undefined, undefined, () => undefined)
    return Promise.resolve()
  }

  subscribe(listener: AuthEventListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  onResync(_listener: () => void): () => void {
    return () => undefined
  }

  close(): Promise<void> {
    this.#closed = true
    this.#listeners.clear()
    process.off('message', this.#onMessage)
    return Promise.resolve()
  }
}

/**
 * Primary side: relays an event message from `from` to every other connected
 * worker. Returns false for any other message.
 * @internal
 */
export function relayClusterEvent(from: Worker, message: unknown): boolean {
  if (!isEventMessage(message)) return false
  for (const worker of Object.values(cluster.workers ?? {})) {
    if (worker !== undefined && worker !== from && worker.isConnected()) worker.send(message, undefined, () => undefined)
  }
  return true
}
