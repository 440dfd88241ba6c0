type Timer = ReturnType<typeof setTimeout>

/**
 * One piece of user code under the time-out of a {@link DeadlineList}: a
 * policy evaluation, a fragment's `load` or `render`. The list links its
 * entries through `prev` / `next`; `done` is set once the entry is settled
 * or expired.
 * @internal
 */
export interface Deadline {
  /** `now()` at the start plus the time-out (see {@link DeadlineList.start}). */
  at: number
  prev: Deadline | null
  next: Deadline | null
  done: boolean
}

/**
 * A monotonic clock in ms. Read through the global at each call, so fake
 * timers in tests (which replace `performance`) apply.
 */
function now(): number {
  return performance.now()
}

/** Lets a Node timer keep the process alive or not (browsers' numeric ids have no such notion). */
function ref(timer: Timer, keepAlive: boolean): void {
  const handle = timer as { ref?: () => unknown; unref?: () => unknown }
  // Stryker disable next-line OptionalChaining: equivalent (docs/testing.md): Node timers always have ref/unref; `?.` is for browsers' numeric ids
  if (keepAlive) handle.ref?.()
  // Stryker disable next-line OptionalChaining: equivalent (docs/testing.md): as above
  else handle.unref?.()
}

/**
 * The one mechanism for "user code under a time-out" (the policy engine's
 * evaluations, a fragment's `load` / `render` / `else`): pending entries in
 * deadline order (a doubly linked list: settling one is O(1)) and one timer
 * per list, armed for the earliest deadline, instead of one per entry —
 * arming and clearing a timer plus a `Promise.race` per call were most of an
 * async evaluation's cost. The timer keeps the process alive only while
 * something is pending.
 * @internal
 */
export class DeadlineList<E extends Deadline> {
  readonly #timeoutMs: number
  readonly #onExpire: (entry: E) => void
  #head: E | null = null
  #tail: E | null = null
  #timer: Timer | null = null
  /** The deadline `#timer` was armed for. */
  #timerAt = 0

  /**
   * @param timeoutMs The time-out of every entry, ms (1 to 2^31-1: the caller checks its option).
   * @param onExpire Called once for an entry whose deadline passed before it was settled
   *   (it is already unlinked and `done`).
   */
  constructor(timeoutMs: number, onExpire: (entry: E) => void) {
    this.#timeoutMs = timeoutMs
    this.#onExpire = onExpire
  }

  /** The `at` of an entry starting now. */
  deadline(): number {
    return now() + this.#timeoutMs
  }

  /**
   * Adds an entry (kept in deadline order; with a constant time-out and a
   * monotonic clock that is always the tail) and makes sure the one timer
   * will fire by its deadline.
   */
  start(entry: E): void {
    let after = this.#tail
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent (docs/testing.md): deadlines are now() plus one constant time-out on a monotonic clock, so a new one is never earlier than those queued
    while (after !== null && after.at > entry.at) after = after.prev as E | null
    entry.prev = after
    entry.next = after === null ? this.#head : after.next
    if (entry.next === null) this.#tail = entry
    else entry.next.prev = entry
    if (after === null) this.#head = entry
    else after.next = entry
    const timer = this.#timer
    if (timer === null) this.#arm(entry.at)
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent (docs/testing.md): deadlines are now() plus one constant time-out on a monotonic clock, so a new one is never earlier than those queued
    else if (this.#timerAt > entry.at) this.#arm(entry.at)
    else if (this.#head === entry && this.#tail === entry) ref(timer, true)
  }

  /**
   * Settles an entry once: unlinks it and marks it `done`.
   * @returns false when it was already settled or expired (a late or second answer is ignored).
   */
  settle(entry: E): boolean {
    if (entry.done) return false
    entry.done = true
    const { prev, next } = entry
    if (prev === null) this.#head = next as E | null
    else prev.next = next
    if (next === null) this.#tail = prev as E | null
    else next.prev = prev
    entry.prev = entry.next = null
    // Nothing pending: the timer may fire (and find nothing) but must not keep the process alive.
    if (this.#head === null && this.#timer !== null) ref(this.#timer, false)
    return true
  }

  /** Arms the timer for `at` (an earlier armed timer is superseded and does nothing). */
  #arm(at: number): void {
    // Stryker disable next-line ConditionalExpression,BooleanLiteral: equivalent (docs/testing.md): a live timer is superseded only by an earlier deadline, which a monotonic clock never gives
    if (this.#timer !== null) ref(this.#timer, false)
    const timer: Timer = setTimeout(() => this.#expire(timer), Math.max(1, Math.ceil(at - now())))
    this.#timer = timer
    this.#timerAt = at
  }

  /** The timer fired: every entry whose deadline has passed expires. */
  #expire(timer: Timer): void {
    // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): only a superseded timer is not #timer (see #arm)
    if (timer !== this.#timer) return
    this.#timer = null
    const at = now()
    while (this.#head !== null && this.#head.at <= at) {
      const entry = this.#head
      this.settle(entry)
      this.#onExpire(entry)
    }
    if (this.#head !== null) this.#arm(this.#head.at)
  }
}
