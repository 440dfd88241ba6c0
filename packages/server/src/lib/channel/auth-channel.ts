/**
 * One change that every worker must apply to the open sockets of a user.
 * An event is a hint, never an authority: it says whose sockets to re-check,
 * and every listener re-reads the store for what those sockets may see.
 *
 * - `claims-changed`: the user's claims / name / disabled flag changed;
 *   sockets re-read their session snapshot and re-render.
 * - `data-changed` (`app.auth.refresh`): data a policy, `load` or `render`
 *   reads changed; the sockets of `userId` (or every socket for `"*"`)
 *   re-evaluate the mounted regions that match `fragment` / `policy` /
 *   `params` (all given filters must match) and get what changed. The
 *   principal is not re-read; `version` is 0 and orders nothing.
 * - `sessions-revoked`: the listed sessions (hashes) are gone; their sockets
 *   turn anonymous at once. `sessionIds` empty with `all: true` means every
 *   session of the user. Token-authenticated sockets of the user re-check
 *   their token on every `sessions-revoked` (an access token revoked through
 *   `/auth/local/revoke` publishes one with `sessionIds: []`, `all: false`).
 */
export interface AuthEvent {
  type: 'claims-changed' | 'sessions-revoked' | 'data-changed'
  /** For `data-changed`, {@link ALL_USERS} (`"*"`) means every socket, anonymous ones included. */
  userId: string
  /**
   * The user row version after the change, for diagnostics only: channel
   * messages are not authenticated, so no listener orders, skips or trusts
   * anything by it — listeners re-read the store (checklist 29).
   */
  version: number
  sessionIds?: string[]
  all?: boolean
  /** Id of the worker that published (for diagnostics). */
  origin?: string
  /** `data-changed` only: re-evaluate the mounted regions of this fragment. */
  fragment?: string
  /** `data-changed` only: … whose fragment's guard or element names this policy. */
  policy?: string
  /** `data-changed` only: … whose params hold these values (each key compared as JSON). */
  params?: Readonly<Record<string, unknown>>
}

/** `userId` of a `data-changed` event that concerns every socket. */
export const ALL_USERS = '*'


/** Called for every event, local or remote. */
export type AuthEventListener = (event: AuthEvent) => void

/**
 * Fans out {@link AuthEvent}s to every worker. `LocalAuthChannel` is the
 * in-process default; `RedisAuthChannel` (`@wire-auth/server/redis`) spans
 * processes and machines.
 */
export interface AuthChannel {
  /** Delivers locally at once and remotely when possible; never blocks on a dead backend. */
  publish(event: AuthEvent): Promise<void>
  /** Returns an unsubscribe function. */
  subscribe(listener: AuthEventListener): () => void
  /**
   * Called after the channel lost messages (e.g. a Redis outage ended):
   * every worker must re-validate all its sockets. Returns an unsubscribe.
   */
  onResync(listener: () => void): () => void
  /**
   * Optional interest routing. The live hub calls `watchUser` when the first
   * socket of a user opens on this worker and `unwatchUser` when the last one
   * closes; a channel that routes per user (`RedisAuthChannel`, the default
   * `routing: 'user'`) then receives only the events of users this worker
   * holds sockets of, so its cost does not grow with the number of workers.
   * A channel without these methods delivers every event to every worker.
   */
  watchUser?(userId: string): void
  unwatchUser?(userId: string): void
  close(): Promise<void>
}

/**
 * Whether an event concerns the sockets of one user only (and may be routed
 * to the workers that hold that user's sockets). Event types added later
 * that are not tied to one user go to every worker.
 */
export function isUserScoped(event: AuthEvent): boolean {
  return event.type === 'claims-changed' || event.type === 'sessions-revoked'
}
