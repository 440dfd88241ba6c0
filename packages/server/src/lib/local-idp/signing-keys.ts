import { createPublicKey, type JsonWebKeyInput } from 'node:crypto'
import { exportJWK, generateKeyPair, importJWK, type JSONWebKeySet, type JWK } from 'jose'
import { httpError } from '../errors.js'
import type { AuthStore, SigningKeyRecord } from '../store/auth-store.js'

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
    throw httpError('ERR_INTERNAL', 500, `the stored public key ${record.kid} cannot be imported`, err)
  }
}

/**
 * The local IdP's signing keys, generated once and kept in the store so that
 * tokens survive restarts and every worker signs and verifies with the same
 * set. Workers racing at first start converge: each offers a key under the
 * same kid (insert-if-absent), re-reads, and signs with the oldest key of
 * the algorithm (ties broken by kid), which every worker picks alike.
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

  constructor(store: AuthStore, alg: SigningAlg, now: () => number = () => Date.now()) {
    this.#store = store
    this.alg = alg
    this.#now = now
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

  async #generate(): Promise<SigningKeyRecord> {
    const { privateKey, publicKey } = await generateKeyPair(this.alg, { extractable: true })
    const publicJwk = await exportJWK(publicKey)
    const privateJwk = await exportJWK(privateKey)
    // A fixed kid per algorithm and generation: racing workers all insert
    // under the same kid, exactly one insert wins, and the re-read gives
    // every worker that one key.
    const kid = `wa-${this.alg.toLowerCase()}-1`
    return { kid, alg: this.alg, privateJwk: { ...privateJwk }, publicJwk: { ...publicJwk }, createdAt: this.#now() }
  }

  async #adopt(records: SigningKeyRecord[]): Promise<void> {
    const mine = records.filter((r) => r.alg === this.alg).sort((a, b) => a.createdAt - b.createdAt || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0))
    const signer = mine[0]
    if (signer === undefined) throw httpError('ERR_INTERNAL', 500, `no ${this.alg} signing key in the store`)
    let privateKey: CryptoKey
    try {
      privateKey = (await importJWK(signer.privateJwk as JWK, this.alg)) as CryptoKey
    } catch (err) {
      throw httpError('ERR_INTERNAL', 500, `the stored signing key ${signer.kid} cannot be imported`, err)
    }
    // A kid names one key for good (keys are inserted once, never replaced), so a
    // reload converts only the kids it has not seen.
    const pems = new Map<string, string>()
    for (const r of mine) pems.set(r.kid, this.#publicPems.get(r.kid) ?? publicPem(r))
    this.#jwks = { keys: mine.map((r) => publicOnly(r.publicJwk, r.kid, r.alg)) }
    this.#publicPems = pems
    this.#active = { kid: signer.kid, alg: this.alg, privateKey }
    this.#lastReload = this.#now()
  }

  /** The key to sign with. Call {@link init} first. */
  async active(): Promise<ActiveSigningKey> {
    await this.init()
    return this.#active as ActiveSigningKey
  }

  /** The published JWK set (public members only). */
  async jwks(): Promise<JSONWebKeySet> {
    await this.init()
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
    await this.init()
    if (!this.#publicPems.has(kid) && this.#now() - this.#lastReload >= RELOAD_INTERVAL_MS) {
      this.#lastReload = this.#now()
      await this.#adopt(await this.#store.listSigningKeys())
    }
    return this.#publicPems.get(kid) ?? null
  }
}
