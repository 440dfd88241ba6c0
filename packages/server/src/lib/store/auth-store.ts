import type { Claim } from '@wire-auth/core'
import type { LoosePermission } from './sqlite-files.js'

export type { LoosePermission }

/**
 * A user row. `version` increases by one on every change of claims, name,
 * password or disabled flag; sessions and live events carry it so stale
 * snapshots and stale events can be told apart.
 */
export interface UserRecord {
  id: string
  /** Canonical (trimmed, lower-cased) e-mail, unique; null for provider-only users. */
  email: string | null
  name: string | null
  /** `$argon2id$…` or null when the user signs in only through a provider. */
  passwordHash: string | null
  claims: Claim[]
  disabled: boolean
  /**
   * Access tokens issued while the user row had a lower `version` are
   * refused ("sign out everywhere" raises it). 0 when never set.
   */
  tokensMinVersion: number
  version: number
  createdAt: number
  updatedAt: number
}

/** What {@link AuthStore.updateUser} changes; absent fields stay. */
export interface UserPatch {
  name?: string | null
  passwordHash?: string | null
  disabled?: boolean
  /** Refuse every access token issued so far: sets `tokensMinVersion` to the new `version`, atomically. */
  revokeAccessTokens?: true
}

/** What {@link AuthStore.createUser} takes. */
export interface NewUser {
  email: string | null
  name: string | null
  passwordHash: string | null
  claims?: Claim[]
}

/**
 * A session row. The store never sees the cookie value: `id` is the
 * SHA-256 (hex) of the opaque id the browser holds.
 */
export interface SessionRecord {
  id: string
  userId: string
  /** Claims and name at `userVersion`, so a request needs one read. */
  name: string | null
  claims: Claim[]
  userVersion: number
  createdAt: number
  lastSeenAt: number
  idleExpiresAt: number
  absoluteExpiresAt: number
  ip: string | null
  userAgent: string | null
  /**
   * The OpenID provider's payload of the sign-in that started this session
   * (ID-token claims completed by userinfo, secrets removed), exposed to
   * policies and fragments as `principal.raw.provider`, never to the browser.
   * Absent for other sign-ins.
   */
  provider?: SessionProvider | null
}

/** What a session keeps of the OpenID provider sign-in that started it. */
export interface SessionProvider {
  /** The provider's configured `name`. */
  name: string
  issuer: string
  subject: string
  /** ID-token and userinfo claims, without nonce, hashes or anything named like a token or secret. */
  claims: Record<string, unknown>
}

/** A refresh token row, keyed by the SHA-256 (hex) of the token. */
export interface RefreshTokenRecord {
  id: string
  /** Every token rotated from one login shares a family; reuse revokes it. */
  familyId: string
  userId: string
  createdAt: number
  expiresAt: number
  /** Set when rotated; a second use of a used token is reuse. */
  usedAt: number | null
  revokedAt: number | null
  /**
   * End of the family's absolute lifetime (epoch ms): no successor outlives
   * it, however often the family rotates. Null or absent on rows written
   * before families had one (they end at their own `expiresAt`).
   */
  familyExpiresAt?: number | null
}

/**
 * An authorization code of the local IdP (RFC 6749 §4.1 with PKCE), keyed by
 * the SHA-256 (hex) of the code: the store never sees the code itself.
 */
export interface AuthorizationCodeRecord {
  id: string
  clientId: string
  /** The exact `redirect_uri` of the authorization request. */
  redirectUri: string
  /** PKCE S256 challenge (base64url). */
  codeChallenge: string
  userId: string
  scope: string
  /** OpenID `nonce` of the request, echoed in no token today but kept for the record. */
  nonce: string | null
  createdAt: number
  expiresAt: number
  /** Set by the one exchange that may use it. */
  usedAt: number | null
}

/**
 * A single-use token of an account flow (e-mail verification, password
 * reset, e-mail change), keyed by the SHA-256 (hex) of the token: the store
 * never sees the token itself. Bound to its purpose and account; a later
 * token of the same purpose for the same account replaces it.
 */
export interface AccountTokenRecord {
  id: string
  userId: string
  /** What the token may do: `verify-email`, `reset-password`, `change-email`. */
  purpose: string
  /** The address the link was sent to (the address to verify / to change to); null when none applies. */
  email: string | null
  createdAt: number
  expiresAt: number
  /** Set by the one use that may consume it. */
  usedAt: number | null
}

/** An external identity (an OpenID provider's issuer and subject) linked to a user. */
export interface IdentityRecord {
  /** The provider's issuer identifier (`iss` of its ID token). */
  issuer: string
  /** The user's subject at that issuer (`sub`). */
  subject: string
  userId: string
  /** When it was linked (epoch ms). */
  createdAt: number
}

/** A passkey (WebAuthn credential) of a user, as SimpleWebAuthn verified it. */
export interface PasskeyRecord {
  /** The credential id (base64url), unique across users. */
  id: string
  userId: string
  /** COSE public key, base64url. */
  publicKey: string
  /** Signature counter (0 for authenticators that do not count, as synced passkeys). */
  counter: number
  /** Transports the authenticator reported (`internal`, `hybrid`, `usb`…). */
  transports: string[]
  /** A label the user chose. */
  name: string
  createdAt: number
  lastUsedAt: number | null
}

/** A signing key of the local IdP, kept so tokens survive restarts. */
export interface SigningKeyRecord {
  kid: string
  alg: string
  privateJwk: Record<string, unknown>
  publicJwk: Record<string, unknown>
  createdAt: number
}

/** One line of the audit trail. Never holds a secret. */
export interface AuditRecord {
  id?: string
  at: number
  /** e.g. `claim.grant`, `claim.revoke`, `session.revoke`, `login.success`, `login.failure`, `user.disable`. */
  action: string
  /** The user who acted (null for anonymous / system). */
  actorId: string | null
  /** The user acted upon. */
  targetId: string | null
  detail: Record<string, unknown>
  ip: string | null
}

/** The result of a claim change: the new user row and the sessions it touched. */
export interface ClaimChange {
  user: UserRecord
  /** Ids (hashes) of the sessions whose snapshot now matches `user`. */
  sessionIds: string[]
  /**
   * Set when an audit record was asked for, the change is committed, but the
   * record could not be written (a store that cannot write both atomically).
   */
  auditError?: unknown
}

/**
 * Persistence behind wire-auth. Implementations: `SqliteAuthStore`
 * (embedded default) and `MongoAuthStore` (`@wire-auth/server/mongodb`).
 * Every implementation passes `test/store-conformance`.
 *
 * Errors: an unreachable or failing backend throws `WireAuthError` with code
 * `ERR_STORE_UNAVAILABLE` (503) and the driver error as `cause`; a unique
 * e-mail clash throws `ERR_ACCOUNT_EXISTS` (409). Timestamps are epoch ms.
 */
export interface AuthStore {
  /** Opens the database and creates tables / indexes. Idempotent. */
  init(): Promise<void>
  close(): Promise<void>

  createUser(user: NewUser): Promise<UserRecord>
  getUser(id: string): Promise<UserRecord | null>
  /** Looks up by canonical e-mail (the caller canonicalises). */
  getUserByEmail(email: string): Promise<UserRecord | null>
  listUsers(options?: { limit?: number; offset?: number }): Promise<UserRecord[]>
  /** Changes name / password / disabled / tokensMinVersion, bumps `version`, refreshes session snapshots. */
  updateUser(id: string, patch: UserPatch): Promise<UserRecord>

  /**
   * Sets the canonical e-mail of a user (the caller canonicalises and has
   * verified the new address). The user's `version` does not change (no
   * session snapshot holds the address). Throws `ERR_USER_NOT_FOUND`, and
   * `ERR_ACCOUNT_EXISTS` when another user has the address.
   */
  setUserEmail(id: string, email: string): Promise<UserRecord>

  /**
   * Adds a claim (no-op if present) atomically, bumps `version` when it
   * changed, and rewrites the snapshot of every session of the user (only
   * where the session's `userVersion` is older). Throws `ERR_USER_NOT_FOUND`.
   */
  addClaim(userId: string, claim: Claim, audit?: AuditRecord): Promise<ClaimChange>
  /**
   * Removes the claims of `type` (only `value` when given); same atomicity as addClaim.
   *
   * `audit` (here and in addClaim), when given, is recorded with the change:
   * `SqliteAuthStore` writes it in the same transaction (one commit; the
   * change is never without its record); `MongoAuthStore` writes it right
   * after the update and reports a failure of that write as `auditError`.
   * Nothing is recorded when the user does not exist.
   */
  removeClaim(userId: string, type: string, value?: string, audit?: AuditRecord): Promise<ClaimChange>
  /**
   * Replaces every claim whose type is in `types` by `claims` (the provider
   * mapping at an OIDC login) and leaves the other claims alone.
   */
  replaceClaimTypes(userId: string, types: string[], claims: Claim[]): Promise<ClaimChange>

  /** Finds the user linked to an external identity (issuer, subject). */
  findIdentity(issuer: string, subject: string): Promise<string | null>
  /** Links (issuer, subject) to a user; throws `ERR_STORE_CONFLICT` if linked to another. */
  linkIdentity(issuer: string, subject: string, userId: string): Promise<void>
  /** The identities linked to a user, oldest first (empty for an unknown user). */
  listIdentities(userId: string): Promise<IdentityRecord[]>

  createSession(session: SessionRecord): Promise<void>
  getSession(id: string): Promise<SessionRecord | null>
  /** Rolling renewal: sets lastSeenAt / idleExpiresAt only if the row still exists. */
  touchSession(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<void>
  /** Returns true when a row was deleted. */
  deleteSession(id: string): Promise<boolean>
  /** Deletes every session of the user and returns their ids. */
  deleteUserSessions(userId: string): Promise<string[]>
  listSessions(userId: string): Promise<SessionRecord[]>
  /** Deletes sessions whose idle or absolute expiry is before `now` (and expired refresh tokens, denylist rows, authorization codes and account tokens); returns the count of sessions. */
  deleteExpiredSessions(now: number): Promise<number>

  listSigningKeys(): Promise<SigningKeyRecord[]>
  /** Inserts a key unless one with the same kid exists. */
  putSigningKey(key: SigningKeyRecord): Promise<void>

  /** Stores a new authorization code (its hash); the code is single-use and short-lived. */
  createAuthorizationCode(code: AuthorizationCodeRecord): Promise<void>
  /**
   * Atomically marks the code `id` used at `at`. Returns the record as it was
   * before (with `firstUse` true for the one call that marked it), or null
   * for an unknown code. Expiry is the caller's to check.
   */
  consumeAuthorizationCode(id: string, at: number): Promise<{ record: AuthorizationCodeRecord; firstUse: boolean } | null>

  /**
   * Stores an account token (its hash) and, in the same operation, deletes
   * every earlier token of the same user and purpose (a later link
   * invalidates earlier ones). Throws `ERR_USER_NOT_FOUND` for an unknown
   * user, `ERR_STORE_CONFLICT` for a duplicate id.
   */
  createAccountToken(token: AccountTokenRecord): Promise<void>
  /**
   * Atomically marks the account token `id` used at `at`. Returns the record
   * as it was before (with `firstUse` true for the one call that marked it),
   * or null for an unknown or replaced token. Expiry and purpose are the
   * caller's to check.
   */
  consumeAccountToken(id: string, at: number): Promise<{ record: AccountTokenRecord; firstUse: boolean } | null>

  /** Stores a passkey. Throws `ERR_USER_NOT_FOUND`, `ERR_STORE_CONFLICT` for a credential id already stored. */
  createPasskey(passkey: PasskeyRecord): Promise<void>
  getPasskey(id: string): Promise<PasskeyRecord | null>
  /** The user's passkeys, oldest first. */
  listPasskeys(userId: string): Promise<PasskeyRecord[]>
  /**
   * Records a sign-in with the passkey: sets `counter` and `lastUsedAt` when
   * `counter` is above the stored one, or both are 0 (authenticators that do
   * not count). False otherwise (a cloned authenticator, a replay) or when
   * the passkey is gone.
   */
  usePasskey(id: string, counter: number, at: number): Promise<boolean>
  /** Renames the user's passkey; false when the user has no such passkey. */
  renamePasskey(userId: string, id: string, name: string): Promise<boolean>
  /** Deletes the user's passkey; false when the user has no such passkey. */
  deletePasskey(userId: string, id: string): Promise<boolean>

  createRefreshToken(token: RefreshTokenRecord): Promise<void>
  getRefreshToken(id: string): Promise<RefreshTokenRecord | null>
  /** Atomically marks an unused, unrevoked token used; false if it was not. */
  useRefreshToken(id: string, at: number): Promise<boolean>
  revokeRefreshFamily(familyId: string, at: number): Promise<void>
  revokeUserRefreshTokens(userId: string, at: number): Promise<void>

  /** Denylist for access tokens revoked before they expire. */
  revokeAccessToken(jti: string, expiresAt: number): Promise<void>
  isAccessTokenRevoked(jti: string): Promise<boolean>

  /**
   * Counts a failed login for `key` inside a sliding window and returns the
   * failures in the window (including this one). Shared by every worker.
   */
  recordFailure(key: string, at: number, windowMs: number): Promise<number>
  /** Failures for `key` since `since`. */
  countFailures(key: string, since: number): Promise<number>
  clearFailures(key: string): Promise<void>
  /**
   * Takes back one failure of `key` recorded at `at` (no-op when there is
   * none). With `recordFailure` this makes an atomic reservation: count
   * first, then hand the unit back when the attempt turned out not to be a
   * failure (a success, or an attempt refused by another limit).
   */
  releaseFailure(key: string, at: number): Promise<void>

  appendAudit(record: AuditRecord): Promise<void>
  listAudit(options?: { userId?: string; action?: string; limit?: number }): Promise<AuditRecord[]>

  /**
   * Returns the secret stored under `name`, first storing `generate()` if none
   * exists (put-if-absent, then read: workers racing at first start converge
   * on one value). Used for the cookie-signing key. Never listed anywhere.
   */
  getSecret(name: string, generate: () => string): Promise<string>

  /** Cheap reachability check (`SELECT 1` / `ping`). Throws ERR_STORE_UNAVAILABLE. */
  ping(): Promise<void>

  /**
   * Optional, for stores kept in local files: the files and directories
   * holding secrets that group or others may reach. The plugin logs each one
   * at start-up as `ERR_STORE_PERMISSIONS` (it never changes modes itself).
   */
  loosePermissions?(): LoosePermission[]
}
