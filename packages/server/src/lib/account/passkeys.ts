import { createHash, randomBytes } from 'node:crypto'
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server'
import type { FastifyRequest } from 'fastify'
import type { AuditWriter } from '../audit.js'
import type { CookieSigner } from '../signer.js'
import type { AuthStore, PasskeyRecord, UserRecord } from '../store/auth-store.js'
import { codedError } from '../errors.js'

/** How long a WebAuthn ceremony may take, from its options to its answer: 5 minutes. */
export const PASSKEY_CHALLENGE_TTL_MS = 5 * 60_000

/** What a ceremony's challenge is for. */
type Ceremony = 'register' | 'login'

/** A passkey as the routes show it (never the public key). */
export interface PasskeyView {
  id: string
  name: string
  transports: string[]
  createdAt: number
  lastUsedAt: number | null
}

/** `options.passkeys` after checks. @internal */
export interface ResolvedPasskeyOptions {
  rpName: string
  rpID: string
}

/** A ceremony's challenge, bound to the browser by a signed cookie. */
export interface PendingChallenge {
  ceremony: Ceremony
  userId: string | null
  expiresAt: number
  challenge: string
}

function invalid(message = 'the passkey could not be verified'): Error {
  return codedError('ERR_PASSKEY_INVALID', message)
}

/** The view of a stored passkey. */
export function passkeyView(p: PasskeyRecord): PasskeyView {
  return { id: p.id, name: p.name, transports: [...p.transports], createdAt: p.createdAt, lastUsedAt: p.lastUsedAt }
}

/**
 * Passkeys with SimpleWebAuthn: registration while signed in, sign-in with a
 * discoverable credential (no e-mail typed), list, rename, remove. Each
 * ceremony's challenge is 32 random bytes, held by the browser in a signed,
 * HttpOnly cookie with its purpose, user and expiry, and usable once (a
 * store counter marks it used atomically). Fastify-free.
 * @internal
 */
export class Passkeys {
  readonly #store: AuthStore
  readonly #signer: CookieSigner
  readonly #options: ResolvedPasskeyOptions
  readonly #origins: string[]
  readonly #audit: AuditWriter
  readonly #now: () => number

  constructor(deps: { store: AuthStore; signer: CookieSigner; options: ResolvedPasskeyOptions; origins: string[]; audit: AuditWriter; now?: () => number }) {
    this.#store = deps.store
    this.#signer = deps.signer
    this.#options = deps.options
    this.#origins = deps.origins
    this.#audit = deps.audit
    this.#now = deps.now ?? (() => Date.now())
  }

  #pending(ceremony: Ceremony, userId: string | null): { challenge: Uint8Array<ArrayBuffer>; cookie: string } {
    const challenge = new Uint8Array(32)
    randomBytes(32).copy(challenge)
    const value = ['c1', ceremony, userId ?? '-', String(this.#now() + PASSKEY_CHALLENGE_TTL_MS), Buffer.from(challenge).toString('base64url')].join('.')
    return { challenge, cookie: this.#signer.sign(value) }
  }

  /** Reads and burns the challenge a cookie holds for `ceremony` (and `userId`); throws `ERR_PASSKEY_INVALID`. */
  async #take(cookie: unknown, ceremony: Ceremony, userId: string | null): Promise<string> {
    const value = typeof cookie === 'string' && cookie.length < 512 ? this.#signer.unsign(cookie) : null
    const [version, kind, owner, expires, challenge, ...rest] = value?.split('.') ?? []
    const now = this.#now()
    if (version !== 'c1' || rest.length > 0 || kind !== ceremony || owner !== (userId ?? '-') || !(Number(expires) > now) || challenge === undefined || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
      throw invalid('no passkey ceremony is pending in this browser (or it expired): start again')
    }
    const key = `passkey:challenge:${createHash('sha256').update(challenge).digest('hex')}`
    if ((await this.#store.recordFailure(key, now, PASSKEY_CHALLENGE_TTL_MS)) > 1) throw invalid('this passkey ceremony was used already: start again')
    return challenge
  }

  /** Options for `navigator.credentials.create()` (a discoverable credential), and the challenge cookie. */
  async registrationOptions(user: UserRecord): Promise<{ options: PublicKeyCredentialCreationOptionsJSON; cookie: string }> {
    const existing = await this.#store.listPasskeys(user.id)
    const { challenge, cookie } = this.#pending('register', user.id)
    const options = await generateRegistrationOptions({
      rpName: this.#options.rpName,
      rpID: this.#options.rpID,
      userName: user.email ?? user.id,
      userDisplayName: user.name ?? user.email ?? '',
      userID: new TextEncoder().encode(user.id) as Uint8Array<ArrayBuffer>,
      challenge,
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports as never })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      timeout: PASSKEY_CHALLENGE_TTL_MS,
    })
    return { options, cookie }
  }

  /** Verifies the authenticator's answer and stores the passkey. @throws `ERR_PASSKEY_INVALID`, `ERR_STORE_CONFLICT` */
  async register(user: UserRecord, cookie: unknown, response: unknown, name: string | undefined, request: FastifyRequest | null): Promise<PasskeyRecord> {
    const expectedChallenge = await this.#take(cookie, 'register', user.id)
    let verified
    try {
      verified = await verifyRegistrationResponse({ response: response as RegistrationResponseJSON, expectedChallenge, expectedOrigin: this.#origins, expectedRPID: this.#options.rpID, requireUserVerification: false })
    } catch (err) {
      throw codedError('ERR_PASSKEY_INVALID', 'the passkey could not be verified', { cause: err })
    }
    if (!verified.verified) throw invalid()
    const { credential } = verified.registrationInfo
    const at = this.#now()
    const record: PasskeyRecord = {
      id: credential.id,
      userId: user.id,
      publicKey: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      transports: (credential.transports ?? []).slice(0, 16),
      name: name ?? `Passkey ${new Date(at).toISOString().slice(0, 10)}`,
      createdAt: at,
      lastUsedAt: null,
    }
    await this.#store.createPasskey(record)
    await this.#audit(request, { action: 'passkey.register', actorId: user.id, targetId: user.id, detail: { passkey: record.id.slice(0, 16) } })
    return record
  }

  /** Options for `navigator.credentials.get()` with no allow-list (the authenticator offers its discoverable credentials). */
  async authenticationOptions(): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; cookie: string }> {
    const { challenge, cookie } = this.#pending('login', null)
    const options = await generateAuthenticationOptions({ rpID: this.#options.rpID, challenge, userVerification: 'required', timeout: PASSKEY_CHALLENGE_TTL_MS })
    return { options, cookie }
  }

  /**
   * Verifies a sign-in answer: the challenge of this browser, a stored
   * passkey whose user handle matches, the signature, user verification
   * and a counter that moved forward. Returns the passkey's user id.
   * @throws `ERR_PASSKEY_INVALID` (every failure alike)
   */
  async authenticate(cookie: unknown, response: unknown, request: FastifyRequest | null): Promise<string> {
    const expectedChallenge = await this.#take(cookie, 'login', null)
    const answer = response as AuthenticationResponseJSON
    const id = typeof answer?.id === 'string' && answer.id.length <= 1024 ? answer.id : null
    const passkey = id === null ? null : await this.#store.getPasskey(id)
    const fail = async (reason: string): Promise<never> => {
      await this.#audit(request, { action: 'login.failure', actorId: null, targetId: passkey?.userId ?? null, detail: { via: 'passkey', reason } })
      throw invalid()
    }
    if (passkey === null) return fail('unknown')
    const handle = answer.response?.userHandle
    if (handle !== undefined && handle !== Buffer.from(passkey.userId, 'utf8').toString('base64url')) return fail('user-handle')
    let verified
    try {
      verified = await verifyAuthenticationResponse({
        response: answer,
        expectedChallenge,
        expectedOrigin: this.#origins,
        expectedRPID: this.#options.rpID,
        credential: { id: passkey.id, publicKey: Uint8Array.from(Buffer.from(passkey.publicKey, 'base64url')), counter: passkey.counter, transports: passkey.transports as never },
        requireUserVerification: true,
      })
    } catch {
      return fail('signature')
    }
    if (!verified.verified) return fail('signature')
    if (!(await this.#store.usePasskey(passkey.id, verified.authenticationInfo.newCounter, this.#now()))) return fail('counter')
    return passkey.userId
  }
}
