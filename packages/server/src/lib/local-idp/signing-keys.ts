import { createPublicKey, randomBytes, type JsonWebKeyInput } from 'node:crypto'
import { exportJWK, generateKeyPair, importJWK, type JSONWebKeySet, type JWK } from 'jose'
import type { AuthStore, SigningKeyRecord } from '../store/auth-store.js'
import { codedError } from '../errors.js'

/** JWS algorithms the local IdP can sign with. */
export type SigningAlg = 'EdDSA' | 'ES256'

/** The key new tokens are signed with. */
export interface ActiveSigningKey {
  kid: string
  alg: SigningAlg
  privateKey: CryptoKey
}

/** How long an unknown `kid` waits before it may trigger another store read. */
const RELOAD_INTERVAL_MS = 5_000

/** Every worker re-reads the key set at least this often, so a rotation reaches all of them. */
export const KEY_REFRESH_MS = 60_000

/**
 * Default delay between `rotate()` and the new key signing: longer than
 * {@link KEY_REFRESH_MS}, so every worker (and every verifier that re-reads
 * the JWKS on an unknown kid) knows the key before the first token it signs.
 */
export const KEY_ACTIVATION_DELAY_MS = 2 * KEY_REFRESH_MS

/** A signing key as `wire-auth keys list` shows it. */
export interface SigningKeyInfo {
  kid: string
  alg: string
  /** Epoch ms when it signs (or signed) first. */
  activatesAt: number
  /** `signing`: signs new tokens; `next`: published, signs from `activatesAt`; `verifying`: superseded, verifies tokens it signed until they expire; `retired`: out of the JWKS. */
  state: 'signing' | 'next' | 'verifying' | 'retired'
}

/** Public JWK members that may appear in the published set. */
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y'] as const

function publicOnly(jwk: Record<string, unknown>, kid: string, alg: string): JWK {
  const out: Record<string, unknown> = {}
  for (const member of PUBLIC_MEMBERS) if (typeof jwk[member] === 'string') out[member] = jwk[member]
  return { ...out, kid, alg, use: 'sig' } as JWK
}

/** SPKI PEM of a stored public JWK, the form fast-jwt verifies with. */
function publicPem(record: SigningKeyRecord): string {
  try {
    return createPublicKey({ key: record.publicJwk, format: 'jwk' } as JsonWebKeyInput).export({ type: 'spki', format: 'pem' }) as string
  } catch (err) {
    throw codedError('ERR_INTERNAL', `the stored public key ${record.kid} cannot be imported`, { cause: err })
  }
}

/**
 * The local IdP's signing keys, kept in the store so that tokens survive
 * restarts and every worker signs and verifies with the same set. Workers
 * racing at first start converge: each offers the first key under the same
 * kid (insert-if-absent) and re-reads.
 *
 * Rotation ({@link rotate}) adds a key whose `createdAt` is its activation
 * time, in the future: it is published in the JWKS at once and signs from
 * then on (the newest key whose time has come signs; ties by kid). A key
 * superseded by one active for longer than `retireAfterMs` (the access-token
 * lifetime plus tolerance) has no valid token left: it leaves the JWKS and
 * verifies nothing more. Workers re-read the set every {@link KEY_REFRESH_MS}
 * and on an unknown kid, so nobody is signed out by a rotation.
 * @internal
 */
export class SigningKeys {
  readonly alg: SigningAlg
  readonly #store: AuthStore
  readonly #now: () => number
  #active: ActiveSigningKey | null = null
  #jwks: JSONWebKeySet = { keys: [] }
  /** kid → SPKI PEM of that public key, for every key of {@link alg}. */
  #publicPems = new Map<string, string>()
  #loading: Promise<void> | null = null
  #lastReload = Number.NEGATIVE_INFINITY

  readonly #retireAfterMs: number
  #records: SigningKeyRecord[] = []

  /** @param retireAfterMs how long a superseded key keeps verifying (≥ the access-token lifetime). */
  constructor(store: AuthStore, alg: SigningAlg, now: () => number = () => Date.now(), retireAfterMs = 3_600_000) {
    this.#store = store
    this.alg = alg
    this.#now = now
    this.#retireAfterMs = retireAfterMs
  }

  /** Loads the keys, generating and storing the first one if none exists. Idempotent. */
  init(): Promise<void> {
    this.#loading ??= this.#init().catch((err: unknown) => {
      this.#loading = null
      throw err
    })
    return this.#loading
  }

  async #init(): Promise<void> {
    let records = await this.#store.listSigningKeys()
    if (!records.some((r) => r.alg === this.alg)) {
      await this.#store.putSigningKey(await this.#generate())
      records = await this.#store.listSigningKeys()
    }
    await this.#adopt(records)
  }

  async #generate(kid = `wa-${this.alg.toLowerCase()}-1`, activatesAt = this.#now()): Promise<SigningKeyRecord> {
    const { privateKey, publicKey } = await generateKeyPair(this.alg, { extractable: true })
    const publicJwk = await exportJWK(publicKey)
    const privateJwk = await exportJWK(privateKey)
    // The first key has a fixed kid per algorithm: racing workers all insert
    // under the same kid, exactly one insert wins, and the re-read gives
    // every worker that one key. Rotated keys get a fresh kid.
    return { kid, alg: this.alg, privateJwk: { ...privateJwk }, publicJwk: { ...publicJwk }, createdAt: activatesAt }
  }

  /**
   * Adds a new key that signs from `now + delayMs` on; the current key keeps
   * signing until then and verifying until its tokens have expired.
   */
  async rotate(delayMs: number = KEY_ACTIVATION_DELAY_MS): Promise<SigningKeyInfo> {
    await this.init()
    const activatesAt = this.#now() + Math.max(0, delayMs)
    const kid = `wa-${this.alg.toLowerCase()}-${activatesAt.toString(36)}-${randomBytes(3).toString('hex')}`
    await this.#store.putSigningKey(await this.#generate(kid, activatesAt))
    await this.reload()
    return { kid, alg: this.alg, activatesAt, state: activatesAt <= this.#now() ? 'signing' : 'next' }
  }

  /** Re-reads the key set from the store (rotations by another worker or the CLI). */
  async reload(): Promise<void> {
    this.#lastReload = this.#now()
    await this.#adopt(await this.#store.listSigningKeys())
  }

  /** Every key of the algorithm with its state, oldest first. */
  async list(): Promise<SigningKeyInfo[]> {
    await this.init()
    await this.reload()
    return this.#records.map((r) => ({ kid: r.kid, alg: r.alg, activatesAt: r.createdAt, state: this.#stateOf(r) }))
  }

  #stateOf(record: SigningKeyRecord): SigningKeyInfo['state'] {
    const now = this.#now()
    if (record.createdAt > now) return 'next'
    if (record.kid === this.#active?.kid) return 'signing'
    // Newer = later in the (createdAt, kid) order every worker sorts by.
    const newer = this.#records.slice(this.#records.indexOf(record) + 1)
    return newer.some((r) => r.createdAt <= now - this.#retireAfterMs) ? 'retired' : 'verifying'
  }

  async #adopt(records: SigningKeyRecord[]): Promise<void> {
    const now = this.#now()
    const mine = records.filter((r) => r.alg === this.alg).sort((a, b) => a.createdAt - b.createdAt || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0))
    // The newest key whose time has come signs; before any has (cannot happen
    // with the first key, made "now"), the oldest.
    const due = mine.filter((r) => r.createdAt <= now)
    const signer = due[due.length - 1] ?? mine[0]
    if (signer === undefined) throw codedError('ERR_INTERNAL', `no ${this.alg} signing key in the store`)
    this.#records = mine
    let privateKey: CryptoKey
    try {
      privateKey = (await importJWK(signer.privateJwk as JWK, this.alg)) as CryptoKey
    } catch (err) {
      throw codedError('ERR_INTERNAL', `the stored signing key ${signer.kid} cannot be imported`, { cause: err })
    }
    // A kid names one key for good (keys are inserted once, never replaced), so a
    // reload converts only the kids it has not seen.
    this.#active = { kid: signer.kid, alg: this.alg, privateKey }
    // Retired keys (superseded long enough ago that no token of theirs is valid) are neither published nor trusted.
    const live = mine.filter((r) => this.#stateOf(r) !== 'retired')
    const pems = new Map<string, string>()
    for (const r of live) pems.set(r.kid, this.#publicPems.get(r.kid) ?? publicPem(r))
    this.#jwks = { keys: live.map((r) => publicOnly(r.publicJwk, r.kid, r.alg)) }
    this.#publicPems = pems
    this.#lastReload = now
    this.#refreshedAt = now
  }

  #refreshedAt = Number.NEGATIVE_INFINITY

  /** Re-reads the set when it is older than {@link KEY_REFRESH_MS} (or a scheduled key came due). */
  async #fresh(): Promise<void> {
    await this.init()
    const now = this.#now()
    const due = this.#records.some((r) => r.createdAt > this.#refreshedAt && r.createdAt <= now)
    if (now - this.#refreshedAt >= KEY_REFRESH_MS || due) {
      // One store read for every caller that finds the set stale at once.
      this.#reloading ??= this.reload().finally(() => (this.#reloading = null))
      await this.#reloading
    }
  }

  #reloading: Promise<void> | null = null

  /** The key to sign with: re-read at most every minute, so rotations reach every worker. */
  async active(): Promise<ActiveSigningKey> {
    await this.#fresh()
    return this.#active as ActiveSigningKey
  }

  /** The published JWK set (public members only): the signing key, the next one, and superseded keys still verifying. */
  async jwks(): Promise<JSONWebKeySet> {
    await this.#fresh()
    return this.#jwks
  }

  /**
   * The public key `kid` as SPKI PEM, after making sure `kid` is known: an
   * unknown kid re-reads the store (at most once per 5 s, so garbage kids
   * cannot hammer it) to pick up a key another worker created. The PEM of a
   * kid is made once and the same string returned on every call. Null when
   * the kid is still unknown.
   */
  async publicKeyPem(kid: string): Promise<string | null> {
    await this.#fresh()
    if (!this.#publicPems.has(kid) && this.#now() - this.#lastReload >= RELOAD_INTERVAL_MS) {
      this.#lastReload = this.#now()
      await this.#adopt(await this.#store.listSigningKeys())
    }
    return this.#publicPems.get(kid) ?? null
  }
}
