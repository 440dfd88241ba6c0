import { createHash } from 'node:crypto'
import { isIPv4, isIPv6 } from 'node:net'
import type { AuthStore } from '../store/auth-store.js'

/** Limits of {@link LoginThrottle}. */
export interface ThrottleOptions {
  /** Failures per account inside the window before that account is throttled. */
  maxFailuresPerAccount: number
  /** Failures per client (IP, IPv6 /64) inside the window before that client is throttled. */
  maxFailuresPerClient: number
  /** Sliding window, ms. Throttling ends by itself once old failures leave it. */
  windowMs: number
}

/** Why and for how long a login attempt is refused. */
export interface ThrottleVerdict {
  scope: 'account' | 'client'
  /** Seconds until the attempt may succeed at the latest (an upper bound). */
  retryAfterSeconds: number
}

/**
 * Groups client addresses so that one attacker cannot rotate through a
 * whole IPv6 allocation: IPv4-mapped IPv6 becomes IPv4, IPv6 is cut to /64.
 */
export function clientBucket(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip)
  if (mapped && isIPv4(mapped[1])) return mapped[1]
  if (isIPv4(ip)) return ip
  if (!isIPv6(ip)) return ip.slice(0, 64)
  const [head, tail = ''] = ip.split('::')
  const left = head.split(':').filter(Boolean)
  const right = ip.includes('::') ? tail.split(':').filter(Boolean) : []
  const groups = [...left, ...new Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`
}

/**
 * Credential-stuffing defence over the store's failure counters, so every
 * worker shares them. Failures count per canonical account (hashed, so the
 * table holds no e-mail address) and per client; unknown accounts count
 * exactly like existing ones. Throttling is a sliding window: it always ends,
 * so an attacker can slow a victim's sign-in down but never lock it forever.
 * Attempts refused while throttled are not counted.
 * @internal
 */
export class LoginThrottle {
  readonly #store: AuthStore
  readonly #options: ThrottleOptions
  readonly #now: () => number

  constructor(store: AuthStore, options: ThrottleOptions, now: () => number = () => Date.now()) {
    this.#store = store
    this.#options = { ...options }
    this.#now = now
  }

  /** Failure-counter key of a canonical e-mail. */
  accountKey(canonicalEmail: string): string {
    return `login:acct:${createHash('sha256').update(canonicalEmail).digest('hex')}`
  }

  /** Failure-counter key of a client address. */
  clientKey(ip: string): string {
    return `login:ip:${clientBucket(ip)}`
  }

  /**
   * Null when an attempt may go ahead, else the verdict to answer with
   * (429 `ERR_RATE_LIMITED` and `Retry-After`).
   * @param account canonical e-mail, or null when the identifier was malformed
   */
  async check(account: string | null, ip: string): Promise<ThrottleVerdict | null> {
    const since = this.#now() - this.#options.windowMs
    const retryAfterSeconds = Math.max(1, Math.ceil(this.#options.windowMs / 1000))
    const [clientFailures, accountFailures] = await Promise.all([
      this.#store.countFailures(this.clientKey(ip), since),
      account === null ? Promise.resolve(0) : this.#store.countFailures(this.accountKey(account), since),
    ])
    if (clientFailures >= this.#options.maxFailuresPerClient) return { scope: 'client', retryAfterSeconds }
    if (accountFailures >= this.#options.maxFailuresPerAccount) return { scope: 'account', retryAfterSeconds }
    return null
  }

  /** Counts one failed attempt for the account (when known) and the client. */
  async recordFailure(account: string | null, ip: string): Promise<void> {
    const at = this.#now()
    await Promise.all([
      this.#store.recordFailure(this.clientKey(ip), at, this.#options.windowMs),
      account === null ? Promise.resolve(0) : this.#store.recordFailure(this.accountKey(account), at, this.#options.windowMs),
    ])
  }

  /**
   * A successful sign-in clears the account's counter. The client counter
   * stays: one good password must not reset an attacker's budget for
   * every other account.
   */
  async recordSuccess(account: string): Promise<void> {
    await this.#store.clearFailures(this.accountKey(account))
  }
}
