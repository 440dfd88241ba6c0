import type { AuthStore, AccountTokenRecord } from '../store/auth-store.js'
import { hashSecret, looksLikeSecret, newSecret } from '../one-time-secret.js'

/** Lifetime of an e-mail verification link: 24 hours. */
export const VERIFY_EMAIL_TTL_MS = 24 * 60 * 60 * 1000
/** Lifetime of a password-reset link: 1 hour (OWASP: short-lived). */
export const RESET_PASSWORD_TTL_MS = 60 * 60 * 1000

/** What an account link may do. */
export type LinkPurpose = 'verify-email' | 'change-email' | 'reset-password'

/** Outcome of presenting a link token. */
export type LinkOutcome =
  | { ok: true; record: AccountTokenRecord }
  /** Unknown, malformed, replaced by a later link, already used, or of another purpose. */
  | { ok: false; reason: 'invalid' }
  /** A real, unused link of this purpose, past its expiry (burnt all the same). */
  | { ok: false; reason: 'expired' }

/**
 * Single-use links of the account flows. The token is 32 random bytes shown
 * once (in the mail or the CLI's output); the store keeps its SHA-256 with
 * the purpose, the account and the address it was sent to. Issuing a link
 * replaces the account's earlier links of the same purpose; using one burns
 * it whatever the outcome.
 * @internal
 */
export class AccountLinks {
  readonly #store: AuthStore
  readonly #now: () => number

  constructor(store: AuthStore, now: () => number = () => Date.now()) {
    this.#store = store
    this.#now = now
  }

  /** Stores a new link of `purpose` for `userId` (sent to `email`) and returns its token. */
  async issue(userId: string, purpose: LinkPurpose, email: string | null, ttlMs: number): Promise<string> {
    const token = newSecret()
    const createdAt = this.#now()
    await this.#store.createAccountToken({ id: hashSecret(token), userId, purpose, email, createdAt, expiresAt: createdAt + ttlMs, usedAt: null })
    return token
  }

  /**
   * The work of {@link issue} without its effect, for a request about an
   * account that does not exist: a secret is drawn and hashed and the store
   * is asked once (a lookup that finds nothing), so both answers cost alike.
   */
  async issueNothing(): Promise<void> {
    await this.#store.consumeAccountToken(hashSecret(newSecret()), this.#now())
  }

  /** Consumes `raw` (atomically: one use wins) and checks its purpose (one of `purposes`) and expiry. */
  async use(raw: unknown, ...purposes: LinkPurpose[]): Promise<LinkOutcome> {
    if (!looksLikeSecret(raw)) return { ok: false, reason: 'invalid' }
    const now = this.#now()
    const consumed = await this.#store.consumeAccountToken(hashSecret(raw), now)
    if (consumed === null || !consumed.firstUse || !(purposes as string[]).includes(consumed.record.purpose)) return { ok: false, reason: 'invalid' }
    if (consumed.record.expiresAt <= now) return { ok: false, reason: 'expired' }
    return { ok: true, record: consumed.record }
  }
}

/** `base#token=…`: the fragment never reaches a server log or a `Referer` header. */
export function linkFor(base: string, token: string): string {
  return `${base}#token=${token}`
}
