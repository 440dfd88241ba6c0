import type { Database, Statement } from 'better-sqlite3'
import type { Claim } from '@wire-auth/core'
import type { PasskeyRecord, AccountTokenRecord, AuditRecord, AuthorizationCodeRecord, RefreshTokenRecord, SessionProvider, SessionRecord, SigningKeyRecord, UserRecord } from './auth-store.js'

/** @internal */
export interface UserRow {
  id: string
  email: string | null
  name: string | null
  password_hash: string | null
  disabled: number
  tokens_min_version: number
  version: number
  created_at: number
  updated_at: number
}

/** @internal */
export interface SessionRow {
  id: string
  user_id: string
  name: string | null
  claims: string
  user_version: number
  created_at: number
  last_seen_at: number
  idle_expires_at: number
  absolute_expires_at: number
  ip: string | null
  user_agent: string | null
  provider: string | null
}

/** @internal */
export interface RefreshRow {
  id: string
  family_id: string
  user_id: string
  created_at: number
  expires_at: number
  used_at: number | null
  revoked_at: number | null
  family_expires_at: number | null
}

/** @internal */
export interface CodeRow {
  id: string
  client_id: string
  redirect_uri: string
  code_challenge: string
  user_id: string
  scope: string
  nonce: string | null
  created_at: number
  expires_at: number
  used_at: number | null
}

/** @internal */
export interface KeyRow {
  kid: string
  alg: string
  private_jwk: string
  public_jwk: string
  created_at: number
}

/** @internal */
export interface AuditRow {
  id: string
  at: number
  action: string
  actor_id: string | null
  target_id: string | null
  detail: string
  ip: string | null
}

/** The part of a better-sqlite3 statement the store uses; rows are `R`. @internal */
export interface SqliteStatement<R = unknown> {
  run(...params: unknown[]): { changes: number }
  get(...params: unknown[]): R | undefined
  all(...params: unknown[]): R[]
}

/**
 * Every statement of {@link SqliteAuthStore}, prepared once per open
 * handle (and again after a reopen).
 * @internal
 */
export function prepareStatements(db: Database) {
  const p = <R = unknown>(sql: string): SqliteStatement<R> => db.prepare(sql) as Statement<unknown[], R> as SqliteStatement<R>
  return {
    insertUser: p(`INSERT INTO users (id, email, name, password_hash, disabled, version, created_at, updated_at)
                   VALUES (?, ?, ?, ?, 0, 1, ?, ?)`),
    getUser: p<UserRow>('SELECT * FROM users WHERE id = ?'),
    getUserByEmail: p<UserRow>('SELECT * FROM users WHERE email = ?'),
    setUserEmail: p('UPDATE users SET email = ?, updated_at = ? WHERE id = ?'),
    listUsers: p<UserRow>('SELECT * FROM users ORDER BY created_at, id LIMIT ? OFFSET ?'),
    setUserFields: p(`UPDATE users SET name = ?, password_hash = ?, disabled = ?,
                      tokens_min_version = CASE WHEN ? THEN version + 1 ELSE tokens_min_version END, version = version + 1, updated_at = ?
                      WHERE id = ?`),
    bumpVersion: p<{ version: number }>('UPDATE users SET version = version + 1, updated_at = ? WHERE id = ? RETURNING version'),

    getClaims: p<Claim>('SELECT type, value FROM user_claims WHERE user_id = ? ORDER BY seq'),
    insertClaim: p('INSERT OR IGNORE INTO user_claims (user_id, type, value) VALUES (?, ?, ?)'),
    deleteClaimsOfType: p('DELETE FROM user_claims WHERE user_id = ? AND type = ?'),
    deleteClaim: p('DELETE FROM user_claims WHERE user_id = ? AND type = ? AND value = ?'),

    findIdentity: p<{ user_id: string }>('SELECT user_id FROM identities WHERE issuer = ? AND subject = ?'),
    insertIdentity: p('INSERT OR IGNORE INTO identities (issuer, subject, user_id, created_at) VALUES (?, ?, ?, ?)'),
    listIdentities: p<{ issuer: string; subject: string; user_id: string; created_at: number }>(
      'SELECT issuer, subject, user_id, created_at FROM identities WHERE user_id = ? ORDER BY created_at, issuer, subject',
    ),

    insertSession: p(`INSERT INTO sessions (id, user_id, name, claims, user_version, created_at, last_seen_at,
                        idle_expires_at, absolute_expires_at, ip, user_agent, provider)
                      VALUES (@id, @userId, @name, @claims, @userVersion, @createdAt, @lastSeenAt,
                        @idleExpiresAt, @absoluteExpiresAt, @ip, @userAgent, @provider)`),
    /**
     * The per-request read: named columns in {@link SESSION_COLUMNS} order, as an array
     * (`raw`): better-sqlite3 builds no 12-key object per row (≈ 4 µs of 11 here).
     */
    getSession: db.prepare(`SELECT ${SESSION_COLUMNS.join(', ')} FROM sessions WHERE id = ?`).raw(true) as unknown as SqliteStatement<SessionTuple>,
    touchSession: p('UPDATE sessions SET last_seen_at = ?, idle_expires_at = ? WHERE id = ?'),
    deleteSession: p('DELETE FROM sessions WHERE id = ?'),
    deleteUserSessions: p<{ id: string }>('DELETE FROM sessions WHERE user_id = ? RETURNING id'),
    listSessions: p<SessionRow>('SELECT * FROM sessions WHERE user_id = ? ORDER BY created_at, id'),
    deleteExpiredSessions: p('DELETE FROM sessions WHERE idle_expires_at < ? OR absolute_expires_at < ?'),
    /** Rewrites the snapshot of every older session of a user. */
    refreshSnapshots: p(`UPDATE sessions SET name = ?, claims = ?, user_version = ?
                         WHERE user_id = ? AND user_version < ?`),
    /** Rewrites one session's snapshot if it is older (a login racing a claim change). */
    refreshSnapshot: p('UPDATE sessions SET name = ?, claims = ?, user_version = ? WHERE id = ? AND user_version < ?'),
    currentSessionIds: p<{ id: string }>(`SELECT id FROM sessions WHERE user_id = ? AND user_version >= ?
                                          ORDER BY created_at, id`),

    listKeys: p<KeyRow>('SELECT * FROM signing_keys ORDER BY created_at, kid'),
    insertKey: p('INSERT OR IGNORE INTO signing_keys (kid, alg, private_jwk, public_jwk, created_at) VALUES (?, ?, ?, ?, ?)'),

    insertRefresh: p(`INSERT INTO refresh_tokens (id, family_id, user_id, created_at, expires_at, used_at, revoked_at, family_expires_at)
                      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    getRefresh: p<RefreshRow>('SELECT * FROM refresh_tokens WHERE id = ?'),
    useRefresh: p('UPDATE refresh_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL'),
    revokeFamily: p('UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL'),
    revokeUserRefresh: p('UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL'),
    deleteExpiredRefresh: p('DELETE FROM refresh_tokens WHERE expires_at < ?'),

    insertCode: p(`INSERT INTO authorization_codes (id, client_id, redirect_uri, code_challenge, user_id, scope, nonce, created_at, expires_at, used_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    getCode: p<CodeRow>('SELECT * FROM authorization_codes WHERE id = ?'),
    useCode: p('UPDATE authorization_codes SET used_at = ? WHERE id = ? AND used_at IS NULL'),
    deleteExpiredCodes: p('DELETE FROM authorization_codes WHERE expires_at < ?'),

    insertPasskey: p('INSERT INTO passkeys (id, user_id, public_key, counter, transports, name, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    getPasskey: p<PasskeyRow>('SELECT * FROM passkeys WHERE id = ?'),
    listPasskeys: p<PasskeyRow>('SELECT * FROM passkeys WHERE user_id = ? ORDER BY created_at, id'),
    usePasskey: p('UPDATE passkeys SET counter = ?, last_used_at = ? WHERE id = ? AND (counter < ? OR (counter = 0 AND ? = 0))'),
    renamePasskey: p('UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?'),
    deletePasskey: p('DELETE FROM passkeys WHERE id = ? AND user_id = ?'),

    insertAccountToken: p(`INSERT INTO account_tokens (id, user_id, purpose, email, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
    deleteAccountTokens: p('DELETE FROM account_tokens WHERE user_id = ? AND purpose = ?'),
    getAccountToken: p<AccountTokenRow>('SELECT * FROM account_tokens WHERE id = ?'),
    useAccountToken: p('UPDATE account_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL'),
    deleteExpiredAccountTokens: p('DELETE FROM account_tokens WHERE expires_at < ?'),

    revokeAccess: p(`INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?)
                     ON CONFLICT (jti) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`),
    isAccessRevoked: p<{ one: number }>('SELECT 1 AS one FROM revoked_tokens WHERE jti = ?'),
    deleteExpiredAccess: p('DELETE FROM revoked_tokens WHERE expires_at < ?'),

    insertFailure: p('INSERT INTO failures (key, at, expires_at) VALUES (?, ?, ?)'),
    pruneFailures: p('DELETE FROM failures WHERE expires_at < ?'),
    countFailures: p<{ n: number }>('SELECT count(*) AS n FROM failures WHERE key = ? AND at >= ?'),
    clearFailures: p('DELETE FROM failures WHERE key = ?'),
    releaseFailure: p('DELETE FROM failures WHERE rowid = (SELECT rowid FROM failures WHERE key = ? AND at = ? LIMIT 1)'),

    insertAudit: p('INSERT INTO audit (id, at, action, actor_id, target_id, detail, ip) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    listAudit: p<AuditRow>('SELECT * FROM audit ORDER BY at DESC, seq DESC LIMIT ?'),
    listAuditByUser: p<AuditRow>(`SELECT * FROM audit WHERE seq IN (
                                    SELECT seq FROM audit WHERE actor_id = @user
                                    UNION SELECT seq FROM audit WHERE target_id = @user)
                                  ORDER BY at DESC, seq DESC LIMIT @limit`),
    listAuditByAction: p<AuditRow>('SELECT * FROM audit WHERE action = ? ORDER BY at DESC, seq DESC LIMIT ?'),
    listAuditByUserAction: p<AuditRow>(`SELECT * FROM audit WHERE action = @action AND (actor_id = @user OR target_id = @user)
                                        ORDER BY at DESC, seq DESC LIMIT @limit`),

    getSecret: p<{ value: string }>('SELECT value FROM secrets WHERE name = ?'),
    insertSecret: p('INSERT OR IGNORE INTO secrets (name, value, created_at) VALUES (?, ?, ?)'),

    ping: p<{ one: number }>('SELECT 1 AS one'),
    /** Changes when another connection committed (see SqliteSessionCache). */
    dataVersion: db.prepare('PRAGMA data_version').pluck(true) as unknown as SqliteStatement<number>,
    /** Rows written by this connection since it opened. */
    totalChanges: db.prepare('SELECT total_changes()').pluck(true) as unknown as SqliteStatement<number>,
  }
}

/** @internal */
export type SqliteStatements = ReturnType<typeof prepareStatements>

/** A fresh user record from a row and its claims. @internal */
export function toUser(row: UserRow, claims: Claim[]): UserRecord {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    passwordHash: row.password_hash,
    claims: claims.map((c) => ({ type: c.type, value: c.value })),
    disabled: row.disabled === 1,
    tokensMinVersion: row.tokens_min_version ?? 0,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

/** The columns of a session row, in the order of a {@link SessionTuple}. @internal */
export const SESSION_COLUMNS = ['id', 'user_id', 'name', 'claims', 'user_version', 'created_at', 'last_seen_at', 'idle_expires_at', 'absolute_expires_at', 'ip', 'user_agent', 'provider'] as const satisfies readonly (keyof SessionRow)[]

/** A session row read in raw mode: the values of {@link SESSION_COLUMNS}, in order. @internal */
export type SessionTuple = [id: string, userId: string, name: string | null, claims: string, userVersion: number, createdAt: number, lastSeenAt: number, idleExpiresAt: number, absoluteExpiresAt: number, ip: string | null, userAgent: string | null, provider: string | null]

/** A session record from a raw row. @internal */
export function tupleToSession(t: SessionTuple): SessionRecord {
  const [id, userId, name, claims, userVersion, createdAt, lastSeenAt, idleExpiresAt, absoluteExpiresAt, ip, userAgent, provider] = t
  return {
    id,
    userId,
    name,
    claims: parseClaims(claims),
    userVersion,
    createdAt,
    lastSeenAt,
    idleExpiresAt,
    absoluteExpiresAt,
    ip,
    userAgent,
    ...(provider === null || provider === undefined ? {} : { provider: JSON.parse(provider) as SessionProvider }),
  }
}

/** @internal */
export function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    claims: parseClaims(row.claims),
    userVersion: row.user_version,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    idleExpiresAt: row.idle_expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
    ip: row.ip,
    userAgent: row.user_agent,
    ...(row.provider === null || row.provider === undefined ? {} : { provider: JSON.parse(row.provider) as SessionProvider }),
  }
}

/** @internal */
export function toRefresh(row: RefreshRow): RefreshTokenRecord {
  return {
    id: row.id,
    familyId: row.family_id,
    userId: row.user_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    revokedAt: row.revoked_at,
    familyExpiresAt: row.family_expires_at ?? null,
  }
}

/** @internal */
export interface PasskeyRow {
  id: string
  user_id: string
  public_key: string
  counter: number
  transports: string
  name: string
  created_at: number
  last_used_at: number | null
}

/** @internal */
export function toPasskey(row: PasskeyRow): PasskeyRecord {
  return { id: row.id, userId: row.user_id, publicKey: row.public_key, counter: row.counter, transports: JSON.parse(row.transports) as string[], name: row.name, createdAt: row.created_at, lastUsedAt: row.last_used_at }
}

/** @internal */
export interface AccountTokenRow {
  id: string
  user_id: string
  purpose: string
  email: string | null
  created_at: number
  expires_at: number
  used_at: number | null
}

/** @internal */
export function toAccountToken(row: AccountTokenRow): AccountTokenRecord {
  return { id: row.id, userId: row.user_id, purpose: row.purpose, email: row.email, createdAt: row.created_at, expiresAt: row.expires_at, usedAt: row.used_at }
}

/** @internal */
export function toCode(row: CodeRow): AuthorizationCodeRecord {
  return {
    id: row.id,
    clientId: row.client_id,
    redirectUri: row.redirect_uri,
    codeChallenge: row.code_challenge,
    userId: row.user_id,
    scope: row.scope,
    nonce: row.nonce,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
  }
}

/** @internal */
export function toKey(row: KeyRow): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    privateJwk: JSON.parse(row.private_jwk) as Record<string, unknown>,
    publicJwk: JSON.parse(row.public_jwk) as Record<string, unknown>,
    createdAt: row.created_at,
  }
}

/** @internal */
export function toAudit(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    at: row.at,
    action: row.action,
    actorId: row.actor_id,
    targetId: row.target_id,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
    ip: row.ip,
  }
}

function parseClaims(json: string): Claim[] {
  const parsed = JSON.parse(json) as unknown
  if (!Array.isArray(parsed)) return []
  return parsed
    .filter((c): c is Claim => typeof c === 'object' && c !== null && typeof c.type === 'string' && typeof c.value === 'string')
    .map((c) => ({ type: c.type, value: c.value }))
}
