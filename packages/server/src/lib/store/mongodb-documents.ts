import { BSON, MongoServerError, type Db, type Collection, type IndexDescription } from 'mongodb'
import { WireAuthError, type Claim } from '@wire-auth/core'
import type { PasskeyRecord, AccountTokenRecord, AuditRecord, AuthorizationCodeRecord, RefreshTokenRecord, SessionProvider, SessionRecord, SigningKeyRecord, UserRecord } from './auth-store.js'
import { storeConflict, storeUnavailable } from './store-errors.js'
import { codedError } from '../errors.js'

/** What a change of a user writes: everything but the id, e-mail and creation time. @internal */
export interface UserState {
  name: string | null
  passwordHash: string | null
  claims: Claim[]
  disabled: boolean
  tokensMinVersion?: number
  version: number
  updatedAt: number
}

/**
 * A user: the e-mail (absent, not null, for provider-only users, so the
 * sparse unique index skips them) and a copy of the state at some version
 * (see `mongodb-claims.ts`: the version slots are the truth). @internal
 */
export interface UserDoc extends UserState {
  _id: string
  email?: string | null
  createdAt: number
}

/** The state of a user at one version; `_id` is `versionKey(userId, version)`. @internal */
export interface UserVersionDoc extends UserState {
  _id: string
  userId: string
  /** Set by the next version's writer, which removes name, passwordHash and claims. */
  stripped?: true
}

/** The `_id` of a user's version slot. @internal */
export function versionKey(userId: string, version: number): string {
  return `${userId}:${version}`
}

/** @internal */
export interface IdentityDoc {
  issuer: string
  subject: string
  userId: string
  createdAt: number
}

/** @internal */
export interface SessionDoc extends Omit<SessionRecord, 'id' | 'provider'> {
  _id: string
  /** {@link SessionRecord.provider} as JSON. */
  providerJson?: string
}

/** @internal */
export interface RefreshDoc extends Omit<RefreshTokenRecord, 'id'> {
  _id: string
}

/**
 * The first use (`refresh_uses`) or revocation (`refresh_revocations`) of a
 * refresh token, keyed by the token id: inserting it is the atomic step. @internal
 */
export interface RefreshMarkDoc {
  _id: string
  at: number
  /** The token's expiry, for the sweep. */
  expiresAt: number
}

/** @internal */
export interface CodeDoc extends Omit<AuthorizationCodeRecord, 'id'> {
  _id: string
}

/** @internal */
export interface PasskeyDoc extends Omit<PasskeyRecord, 'id'> {
  _id: string
}

/** @internal */
export interface AccountTokenDoc extends Omit<AccountTokenRecord, 'id'> {
  _id: string
}

/** @internal */
export interface KeyDoc extends Omit<SigningKeyRecord, 'kid'> {
  _id: string
}

/** `expiresAt` is a Date (a TTL index made by earlier versions may still sweep it). @internal */
export interface RevokedDoc {
  _id: string
  expiresAt: Date
}

/** @internal */
export interface FailureDoc {
  key: string
  at: number
  /** `at + windowMs`, for the sweep. */
  expiresAt: Date
}

/** @internal */
export interface AuditDoc extends Omit<AuditRecord, 'id'> {
  id: string
}

/** @internal */
export interface SecretDoc {
  _id: string
  value: string
  createdAt: number
}

/** Every collection of {@link MongoAuthStore}. @internal */
export interface MongoCollections {
  db: Db
  users: Collection<UserDoc>
  userVersions: Collection<UserVersionDoc>
  identities: Collection<IdentityDoc>
  sessions: Collection<SessionDoc>
  refreshTokens: Collection<RefreshDoc>
  authorizationCodes: Collection<CodeDoc>
  accountTokens: Collection<AccountTokenDoc>
  passkeys: Collection<PasskeyDoc>
  refreshUses: Collection<RefreshMarkDoc>
  refreshRevocations: Collection<RefreshMarkDoc>
  signingKeys: Collection<KeyDoc>
  revokedTokens: Collection<RevokedDoc>
  failures: Collection<FailureDoc>
  audit: Collection<AuditDoc>
  secrets: Collection<SecretDoc>
}

/** @internal */
export function collections(db: Db): MongoCollections {
  return {
    db,
    users: db.collection<UserDoc>('users'),
    userVersions: db.collection<UserVersionDoc>('user_versions'),
    identities: db.collection<IdentityDoc>('identities'),
    sessions: db.collection<SessionDoc>('sessions'),
    refreshTokens: db.collection<RefreshDoc>('refresh_tokens'),
    authorizationCodes: db.collection<CodeDoc>('authorization_codes'),
    accountTokens: db.collection<AccountTokenDoc>('account_tokens'),
    passkeys: db.collection<PasskeyDoc>('passkeys'),
    refreshUses: db.collection<RefreshMarkDoc>('refresh_uses'),
    refreshRevocations: db.collection<RefreshMarkDoc>('refresh_revocations'),
    signingKeys: db.collection<KeyDoc>('signing_keys'),
    revokedTokens: db.collection<RevokedDoc>('revoked_tokens'),
    failures: db.collection<FailureDoc>('failures'),
    audit: db.collection<AuditDoc>('audit'),
    secrets: db.collection<SecretDoc>('secrets'),
  }
}

/**
 * Indexes created by `init()`; `createIndexes` is idempotent, so workers may
 * race. Only plain, unique and sparse indexes: partial and TTL indexes are
 * not implemented by FerretDB 1.x (expired rows are swept by the store).
 * @internal
 */
export const MONGO_INDEXES: Record<Exclude<keyof MongoCollections, 'db'>, IndexDescription[]> = {
  users: [
    // Unique among users that have an e-mail; provider-only users have no
    // `email` field, which a sparse index skips.
    { key: { email: 1 }, name: 'email_unique', unique: true, sparse: true },
    { key: { createdAt: 1, _id: 1 }, name: 'created' },
  ],
  userVersions: [],
  identities: [
    { key: { issuer: 1, subject: 1 }, name: 'issuer_subject_unique', unique: true },
    { key: { userId: 1 }, name: 'user' },
  ],
  sessions: [
    { key: { userId: 1, userVersion: 1 }, name: 'user_version' },
    { key: { idleExpiresAt: 1 }, name: 'idle_expires' },
    { key: { absoluteExpiresAt: 1 }, name: 'absolute_expires' },
  ],
  refreshTokens: [
    { key: { familyId: 1 }, name: 'family' },
    { key: { userId: 1 }, name: 'user' },
    { key: { expiresAt: 1 }, name: 'expires' },
  ],
  authorizationCodes: [{ key: { expiresAt: 1 }, name: 'expires' }],
  passkeys: [{ key: { userId: 1, createdAt: 1 }, name: 'user_created' }],
  accountTokens: [
    { key: { userId: 1, purpose: 1 }, name: 'user_purpose' },
    { key: { expiresAt: 1 }, name: 'expires' },
  ],
  refreshUses: [{ key: { expiresAt: 1 }, name: 'expires' }],
  refreshRevocations: [{ key: { expiresAt: 1 }, name: 'expires' }],
  signingKeys: [{ key: { createdAt: 1 }, name: 'created' }],
  revokedTokens: [{ key: { expiresAt: 1 }, name: 'expires' }],
  failures: [
    { key: { key: 1, at: 1 }, name: 'key_at' },
    { key: { expiresAt: 1 }, name: 'expires' },
  ],
  audit: [
    { key: { at: -1, _id: -1 }, name: 'at' },
    { key: { actorId: 1, at: -1 }, name: 'actor' },
    { key: { targetId: 1, at: -1 }, name: 'target' },
    { key: { action: 1, at: -1 }, name: 'action' },
    { key: { id: 1 }, name: 'id_unique', unique: true },
  ],
  secrets: [],
}

/** @internal */
export function toUser(doc: UserDoc): UserRecord {
  return {
    id: doc._id,
    email: doc.email ?? null,
    name: doc.name ?? null,
    passwordHash: doc.passwordHash ?? null,
    claims: copyClaims(doc.claims),
    disabled: doc.disabled === true,
    tokensMinVersion: typeof doc.tokensMinVersion === 'number' ? doc.tokensMinVersion : 0,
    version: doc.version,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  }
}

/**
 * A session with the name, claims and version of `user` (its current state)
 * when given, else as stored at creation. @internal
 */
export function toSession(doc: SessionDoc, user?: UserState | null): SessionRecord {
  const from = user ?? { name: doc.name, claims: doc.claims, version: doc.userVersion }
  return {
    id: doc._id,
    userId: doc.userId,
    name: from.name ?? null,
    claims: copyClaims(from.claims),
    userVersion: from.version,
    createdAt: doc.createdAt,
    lastSeenAt: doc.lastSeenAt,
    idleExpiresAt: doc.idleExpiresAt,
    absoluteExpiresAt: doc.absoluteExpiresAt,
    ip: doc.ip ?? null,
    userAgent: doc.userAgent ?? null,
    ...(typeof doc.providerJson === 'string' ? { provider: JSON.parse(doc.providerJson) as SessionProvider } : {}),
  }
}

/** @internal */
export function toRefresh(doc: RefreshDoc): RefreshTokenRecord {
  return {
    id: doc._id,
    familyId: doc.familyId,
    userId: doc.userId,
    createdAt: doc.createdAt,
    expiresAt: doc.expiresAt,
    usedAt: doc.usedAt ?? null,
    revokedAt: doc.revokedAt ?? null,
    familyExpiresAt: doc.familyExpiresAt ?? null,
  }
}

/** @internal */
export function toCode(doc: CodeDoc): AuthorizationCodeRecord {
  return {
    id: doc._id,
    clientId: doc.clientId,
    redirectUri: doc.redirectUri,
    codeChallenge: doc.codeChallenge,
    userId: doc.userId,
    scope: doc.scope,
    nonce: doc.nonce ?? null,
    createdAt: doc.createdAt,
    expiresAt: doc.expiresAt,
    usedAt: doc.usedAt ?? null,
  }
}

/** @internal */
export function toPasskey(doc: PasskeyDoc): PasskeyRecord {
  return { id: doc._id, userId: doc.userId, publicKey: doc.publicKey, counter: doc.counter, transports: [...(doc.transports ?? [])], name: doc.name, createdAt: doc.createdAt, lastUsedAt: doc.lastUsedAt ?? null }
}

/** @internal */
export function toAccountToken(doc: AccountTokenDoc): AccountTokenRecord {
  return { id: doc._id, userId: doc.userId, purpose: doc.purpose, email: doc.email ?? null, createdAt: doc.createdAt, expiresAt: doc.expiresAt, usedAt: doc.usedAt ?? null }
}

/** @internal */
export function toKey(doc: KeyDoc): SigningKeyRecord {
  return { kid: doc._id, alg: doc.alg, privateJwk: { ...doc.privateJwk }, publicJwk: { ...doc.publicJwk }, createdAt: doc.createdAt }
}

/** @internal */
export function toAudit(doc: AuditDoc): AuditRecord {
  return {
    id: doc.id,
    at: doc.at,
    action: doc.action,
    actorId: doc.actorId ?? null,
    targetId: doc.targetId ?? null,
    detail: (doc.detail ?? {}) as Record<string, unknown>,
    ip: doc.ip ?? null,
  }
}

/** A JSON round trip: the same detail SQLite would return, and only plain data stored. @internal */
export function plainJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value ?? {})) as T
}

function copyClaims(claims: Claim[] | undefined): Claim[] {
  return (claims ?? []).map((c) => ({ type: c.type, value: c.value }))
}

/**
 * True for an index that exists with other options or another name: one
 * made by an earlier version of the store (a partial e-mail index, TTL
 * indexes). It serves the same lookups, so it is kept. @internal
 */
export function isIndexConflict(err: unknown): boolean {
  return err instanceof MongoServerError && (err.code === 85 || err.code === 86)
}

/** True for a duplicate-key error (E11000). @internal */
export function isDuplicateKey(err: unknown): err is MongoServerError {
  return err instanceof MongoServerError && err.code === 11000
}

/** Maps a driver error to a coded error. @internal */
export function translateMongoError(operation: string, err: unknown): WireAuthError {
  if (err instanceof WireAuthError) return err
  if (isDuplicateKey(err)) return storeConflict(`${operation}: the record already exists`, err)
  if (err instanceof BSON.BSONError) {
    return codedError('ERR_VALIDATION', `${operation}: a value cannot be stored`, { cause: err })
  }
  return storeUnavailable('MongoAuthStore', operation, err, mongoReason(err))
}

function mongoReason(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const name = (err as { name?: unknown }).name
  const code = (err as { code?: unknown }).code
  if (typeof name !== 'string') return undefined
  return code === undefined ? `the backend failed (${name})` : `the backend failed (${name} ${String(code)})`
}

/** Ids and keys must be strings: an object here would be a query operator. @internal */
export function str(value: unknown, field: string): string {
  if (typeof value !== 'string') throw codedError('ERR_VALIDATION', `${field} must be a string`)
  return value
}

/** Two racing upserts of one key: the loser's duplicate-key error means the row exists. @internal */
export async function ignoreDuplicate(write: Promise<unknown>): Promise<void> {
  try {
    await write
  } catch (err) {
    if (!isDuplicateKey(err)) throw err
  }
}
