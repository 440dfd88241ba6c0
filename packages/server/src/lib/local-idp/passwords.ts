import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import argon2 from 'argon2'
import { InvalidOption, WireAuthError } from '@wire-auth/core'
import { isWellFormed } from '../well-formed.js'
import { codedError } from '../errors.js'

/** argon2id cost parameters (memory in KiB). */
export interface Argon2Params {
  memoryCost: number
  timeCost: number
  parallelism: number
}

/** OWASP's recommended minimum for argon2id: m=19 MiB, t=2, p=1. */
export const OWASP_ARGON2: Readonly<Argon2Params> = Object.freeze({ memoryCost: 19456, timeCost: 2, parallelism: 1 })

/** Upper bounds that keep one hash from exhausting a worker (4 GiB, 64 passes, 16 lanes). */
const ARGON2_MAX: Readonly<Argon2Params> = Object.freeze({ memoryCost: 4 * 1024 * 1024, timeCost: 64, parallelism: 16 })

/** Length rules for new passwords. */
export interface PasswordPolicy {
  /** Minimum length in Unicode code points. */
  minLength: number
  /** Maximum length in Unicode code points; the UTF-8 byte cap is four times this. */
  maxLength: number
}

/**
 * Checks argon2id parameters against OWASP's minimum and sane maxima.
 * @throws InvalidOption `ERR_INVALID_OPTION`, quoting the option.
 */
export function assertArgon2Params(params: Argon2Params, name = 'options.localIdp.argon2'): void {
  for (const key of ['memoryCost', 'timeCost', 'parallelism'] as const) {
    const value = params[key]
    if (!Number.isInteger(value) || value < OWASP_ARGON2[key] || value > ARGON2_MAX[key]) {
      throw new InvalidOption(`"${name}.${key}" must be an integer between ${OWASP_ARGON2[key]} and ${ARGON2_MAX[key]} (OWASP minimum for argon2id)`)
    }
  }
}

const COMMON_PASSWORDS_URL = new URL('../../../data/common-passwords.txt', import.meta.url)
let commonPasswords: Promise<ReadonlySet<string>> | null = null

/**
 * The 10,000 most common passwords (packages/server/data/common-passwords.txt),
 * loaded once on first use.
 */
export function loadCommonPasswords(): Promise<ReadonlySet<string>> {
  commonPasswords ??= readFile(COMMON_PASSWORDS_URL, 'utf8').then(
    (text) => {
      const set = new Set<string>()
      for (const line of text.split('\n')) {
        const entry = line.replace(/\r$/, '')
        if (entry.length > 0 && !entry.startsWith('#')) set.add(entry.normalize('NFKC').toLowerCase())
      }
      return set
    },
    (err: unknown) => {
      // Fail closed at the next attempt rather than caching a broken load.
      commonPasswords = null
      throw codedError('ERR_INTERNAL', 'the common-password list could not be read', { cause: err })
    },
  )
  return commonPasswords
}

/**
 * argon2 runs on libuv's thread pool, which jose (token checks), DNS and
 * file I/O share. Leaving one thread free keeps token checks fast during a
 * burst of logins (docs/benchmarks.md, scenario 7).
 */
const ARGON2_SLOTS = Math.max(1, (Number(process.env.UV_THREADPOOL_SIZE) || 4) - 1)
let argon2Busy = 0
const argon2Queue: Array<() => void> = []

async function withArgon2Slot<T>(work: () => Promise<T>): Promise<T> {
  if (argon2Busy >= ARGON2_SLOTS) await new Promise<void>((resolve) => argon2Queue.push(resolve))
  else argon2Busy++
  try {
    return await work()
  } finally {
    // Hand the slot straight to the next waiter, or free it.
    const next = argon2Queue.shift()
    if (next !== undefined) next()
    else argon2Busy--
  }
}

/** NIST SP 800-63B asks for one Unicode normalisation before hashing. */
function normalise(password: string): string {
  return password.normalize('NFKC')
}

function codePoints(value: string): number {
  let count = 0
  for (const _ of value) count++
  return count
}

/**
 * Hashes and verifies passwords with argon2id. Passwords are NFKC-normalised
 * and never truncated; an upper cap bounds the work per attempt.
 * @internal
 */
export class PasswordHasher {
  readonly params: Readonly<Argon2Params>
  readonly policy: Readonly<PasswordPolicy>
  #dummy: Promise<string> | null = null

  /** @throws InvalidOption `ERR_INVALID_OPTION` for parameters below OWASP's minimum. */
  constructor(params: Argon2Params, policy: PasswordPolicy) {
    assertArgon2Params(params)
    if (!Number.isInteger(policy.minLength) || policy.minLength < 8) throw new InvalidOption('"options.localIdp.passwordMinLength" must be an integer of at least 8')
    if (!Number.isInteger(policy.maxLength) || policy.maxLength < 64 || policy.maxLength > 4096 || policy.maxLength < policy.minLength) {
      throw new InvalidOption('"options.localIdp.passwordMaxLength" must be an integer between 64 and 4096, not below the minimum')
    }
    this.params = Object.freeze({ ...params })
    this.policy = Object.freeze({ ...policy })
  }

  /** Largest accepted password in UTF-8 bytes. */
  get maxBytes(): number {
    return this.policy.maxLength * 4
  }

  /** True when `password` is a string within the length caps (no policy check). */
  withinCaps(password: unknown): password is string {
    return typeof password === 'string' && password.length <= this.policy.maxLength * 2 && Buffer.byteLength(password, 'utf8') <= this.maxBytes && codePoints(password) <= this.policy.maxLength
  }

  /**
   * Checks a new password: length and the common-password list.
   * @throws WireAuthError `ERR_PASSWORD_TOO_LONG` (400) over the cap,
   *   `ERR_WEAK_PASSWORD` (400) when too short or too common.
   */
  async assertAcceptable(password: unknown): Promise<void> {
    if (typeof password !== 'string') throw codedError('ERR_WEAK_PASSWORD', 'a password is required')
    if (!this.withinCaps(password)) {
      throw codedError('ERR_PASSWORD_TOO_LONG', `passwords are limited to ${this.policy.maxLength} characters`)
    }
    // UTF-8 would turn each lone surrogate into U+FFFD: two different passwords, one hash.
    if (!isWellFormed(password)) throw codedError('ERR_WEAK_PASSWORD', 'a password must be valid Unicode text')
    const normalised = normalise(password)
    if (codePoints(normalised) < this.policy.minLength) {
      throw codedError('ERR_WEAK_PASSWORD', `passwords need at least ${this.policy.minLength} characters`)
    }
    const common = await loadCommonPasswords()
    if (common.has(normalised.toLowerCase())) throw codedError('ERR_WEAK_PASSWORD', 'this password is too common')
  }

  /**
   * Checks `password` with {@link assertAcceptable} and hashes it.
   * @returns a `$argon2id$v=19$m=…,t=…,p=…$…` string
   */
  async hash(password: unknown): Promise<string> {
    await this.assertAcceptable(password)
    return this.#hash(password as string)
  }

  /**
   * Hashes an already accepted password with the current parameters, without
   * the policy check (used to upgrade old hashes at sign-in).
   */
  rehash(password: string): Promise<string> {
    return this.#hash(password)
  }

  async #hash(password: string): Promise<string> {
    return withArgon2Slot(() => argon2.hash(normalise(password), { type: argon2.argon2id, ...this.params }))
  }

  /**
   * Verifies `password` against `hash`. With a null hash (unknown account,
   * provider-only user) a dummy hash of the same cost is verified so that
   * both paths take similar time; the answer is then always false.
   * Never throws for bad input.
   */
  async verify(hash: string | null, password: unknown): Promise<boolean> {
    const acceptable = this.withinCaps(password) && isWellFormed(password)
    const candidate = acceptable ? normalise(password) : ''
    const target = hash !== null && hash.startsWith('$argon2') ? hash : await this.dummyHash()
    let ok: boolean
    try {
      ok = await withArgon2Slot(() => argon2.verify(target, candidate))
    } catch {
      ok = false
    }
    return ok && target === hash && acceptable
  }

  /** True when `hash` was made with other parameters (or not with argon2id). */
  needsRehash(hash: string): boolean {
    if (!hash.startsWith('$argon2id$')) return true
    try {
      return argon2.needsRehash(hash, { ...this.params })
    } catch {
      return true
    }
  }

  /** The dummy hash, computed once with the configured parameters. */
  dummyHash(): Promise<string> {
    this.#dummy ??= this.#hash(randomBytes(32).toString('base64url'))
    return this.#dummy
  }
}
