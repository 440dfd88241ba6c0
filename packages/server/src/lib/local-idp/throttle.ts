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
  /**
   * `account`: this client (address, or device cookie) failed too often on
   * this account; `client`: this address failed too often across accounts;
   * `delay`: the account as a whole is under attack and attempts from
   * clients without its device cookie are spaced out.
   */
  scope: 'account' | 'client' | 'delay'
  /** Seconds until the attempt may succeed at the latest (an upper bound). */
  retryAfterSeconds: number
}

/** The units an attempt holds while its password is verified; see {@link LoginThrottle.reserve}. */
export interface ThrottleReservation {
  readonly at: number
  /** Canonical e-mail, or null for a malformed identifier. */
  readonly account: string | null
  /** The per-(account, client) key, when the identifier was an e-mail. */
  readonly pairKey: string | null
  /** The per-address key (not held by a client with the account's device cookie). */
  readonly clientKey: string | null
  /** The account-wide spacing key, when the account is under attack. */
  readonly gateKey: string | null
}

/** First spacing between attempts on an account under attack, ms (doubles with each further failure). */
export const ACCOUNT_DELAY_BASE_MS = 1000
/** Longest spacing between attempts on an account under attack, ms. */
export const ACCOUNT_DELAY_MAX_MS = 60_000

/**
 * Groups client addresses so that one attacker cannot rotate through a
 * whole IPv6 allocation: IPv4-mapped IPv6 becomes IPv4, IPv6 is cut to /64.
 */
export function clientBucket(ip: string): string {
  // Every request of a keep-alive connection asks for the same address, twice (the route's
  // rate limit and the render budget): remember the last answer.
  if (ip === lastIp) return lastBucket
  const bucket = bucketOf(ip)
  lastIp = ip
  lastBucket = bucket
  return bucket
}

let lastIp: string | undefined
let lastBucket = ''

function bucketOf(ip: string): string {
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
 * Credential-stuffing defence over the store's failure counters, shared by
 * every worker. Three counters, all in a sliding window:
 *
 * - **per (account, client)** — the hard limit (`maxFailuresPerAccount`). The
 *   client is the address (IPv6 /64), or the device id of the account's
 *   device cookie. Failures of other clients never count here, so someone
 *   who knows only the e-mail cannot lock its owner out.
 * - **per client address** across accounts (`maxFailuresPerClient`), not
 *   applied to a client that presents the account's device cookie.
 * - **per account** — a soft signal: past `maxFailuresPerAccount` failures
 *   from all clients, attempts from clients without the device cookie are
 *   spaced out, 1 s doubling per failure up to 60 s, atomically (one at a
 *   time), never refused for longer.
 *
 * Atomic: an attempt reserves its units (`recordFailure`: insert, then
 * count, in one store operation) *before* the password is verified, so N
 * concurrent attempts cannot all pass a check made before any of them
 * failed. A refused attempt hands its units back (it is not counted, so
 * throttling always ends); a success hands back the address unit and
 * clears the account's counters. Keys hold a SHA-256 of the e-mail, never
 * the address itself; unknown accounts count exactly like existing ones.
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

  /** Account-wide failure-counter key of a canonical e-mail (the soft signal). */
  accountKey(canonicalEmail: string): string {
    return `login:acct:${accountHash(canonicalEmail)}`
  }

  /** Failure-counter key of a client address. */
  clientKey(ip: string): string {
    return `login:ip:${clientBucket(ip)}`
  }

  /** Failure-counter key of one client (address bucket or device id) on one account. */
  pairKey(canonicalEmail: string, client: { ip: string; deviceId?: string | null }): string {
    const who = typeof client.deviceId === 'string' ? `dev:${client.deviceId}` : `ip:${clientBucket(client.ip)}`
    return `login:pair:${createHash('sha256').update(`${accountHash(canonicalEmail)}\n${who}`).digest('hex')}`
  }

  /** The account tag a device cookie carries (a prefix of the e-mail's hash). */
  deviceTag(canonicalEmail: string): string {
    return accountHash(canonicalEmail).slice(0, 32)
  }

  /**
   * Reserves an attempt before its password is verified. Resolves with the
   * reservation to settle with {@link fail} or {@link succeed}, or with the
   * verdict to answer (429 `ERR_RATE_LIMITED` with `Retry-After`).
   * @param account canonical e-mail, or null when the identifier was malformed
   * @param deviceId the device id of a valid device cookie of this account, else null
   */
  async reserve(account: string | null, ip: string, deviceId: string | null = null): Promise<{ ok: true; reservation: ThrottleReservation } | { ok: false; verdict: ThrottleVerdict }> {
    const at = this.#now()
    const { windowMs, maxFailuresPerAccount, maxFailuresPerClient } = this.#options
    // A failure at `t` counts until `t + windowMs` inclusive: the first free moment is 1 ms later.
    const windowSeconds = Math.floor(windowMs / 1000) + 1
    const trusted = account !== null && deviceId !== null
    const held: string[] = []
    const refuse = async (verdict: ThrottleVerdict) => {
      await this.#release(held, at)
      return { ok: false as const, verdict }
    }
    const take = async (key: string, limit: number, window: number): Promise<boolean> => {
      held.push(key)
      return (await this.#store.recordFailure(key, at, window)) <= limit
    }

    const clientKey = trusted ? null : this.clientKey(ip)
    if (clientKey !== null && !(await take(clientKey, maxFailuresPerClient, windowMs))) return refuse({ scope: 'client', retryAfterSeconds: windowSeconds })
    const pairKey = account === null ? null : this.pairKey(account, { ip, deviceId: trusted ? deviceId : null })
    if (pairKey !== null && !(await take(pairKey, maxFailuresPerAccount, windowMs))) return refuse({ scope: 'account', retryAfterSeconds: windowSeconds })

    let gateKey: string | null = null
    if (account !== null && !trusted) {
      const failures = await this.#store.countFailures(this.accountKey(account), at - windowMs)
      const delay = accountDelayMs(failures, maxFailuresPerAccount)
      if (delay > 0) {
        gateKey = `login:gate:${accountHash(account)}`
        // One attempt per `delay` on the account from clients without its device cookie. The window
        // counts `at >= now - window`: `delay - 1` lets the next attempt in exactly `delay` later.
        if (!(await take(gateKey, 1, Math.max(1, delay - 1)))) return refuse({ scope: 'delay', retryAfterSeconds: Math.max(1, Math.ceil(delay / 1000)) })
      }
    }
    return { ok: true, reservation: { at, account, pairKey, clientKey, gateKey } }
  }

  /** The verified attempt failed: its units stay counted, and the account's soft signal grows. */
  async fail(reservation: ThrottleReservation): Promise<void> {
    if (reservation.account === null) return
    await this.#store.recordFailure(this.accountKey(reservation.account), reservation.at, this.#options.windowMs)
  }

  /**
   * The verified attempt succeeded: the account's counters are cleared
   * (for this client and account-wide) and the address unit is handed back —
   * one good password neither costs nor resets a client's budget for every
   * other account.
   */
  async succeed(reservation: ThrottleReservation): Promise<void> {
    const tasks: Promise<void>[] = []
    if (reservation.account !== null) tasks.push(this.#store.clearFailures(this.accountKey(reservation.account)))
    if (reservation.pairKey !== null) tasks.push(this.#store.clearFailures(reservation.pairKey))
    if (reservation.gateKey !== null) tasks.push(this.#store.clearFailures(reservation.gateKey))
    if (reservation.clientKey !== null) tasks.push(this.#store.releaseFailure(reservation.clientKey, reservation.at))
    await Promise.all(tasks)
  }

  /** Hands every unit of the reservation back (the attempt was neither a success nor a failure). */
  async cancel(reservation: ThrottleReservation): Promise<void> {
    await this.#release([reservation.clientKey, reservation.pairKey, reservation.gateKey].filter((k): k is string => k !== null), reservation.at)
  }

  async #release(keys: string[], at: number): Promise<void> {
    await Promise.all(keys.map((key) => this.#store.releaseFailure(key, at)))
  }
}

function accountHash(canonicalEmail: string): string {
  return createHash('sha256').update(canonicalEmail).digest('hex')
}

/**
 * Spacing between attempts on an account with `failures` failures from all
 * clients in the window: none up to `threshold`, then 1 s doubling per
 * failure, at most {@link ACCOUNT_DELAY_MAX_MS}.
 * @internal
 */
export function accountDelayMs(failures: number, threshold: number): number {
  if (failures < threshold) return 0
  return Math.min(ACCOUNT_DELAY_MAX_MS, ACCOUNT_DELAY_BASE_MS * 2 ** Math.min(16, failures - threshold))
}
