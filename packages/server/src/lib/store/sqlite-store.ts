import { randomUUID } from 'node:crypto'
import { InvalidOption, type Claim } from '@wire-auth/core'
import type {
  AuditRecord,
  LoosePermission,
  AuthStore,
  ClaimChange,
  NewUser,
  AccountTokenRecord,
  PasskeyRecord,
  IdentityRecord,
  AuthorizationCodeRecord,
  RefreshTokenRecord,
  SessionRecord,
  SigningKeyRecord,
  UserPatch,
  UserRecord,
} from './auth-store.js'
import { UserDisabled } from '../errors.js'
import { SqliteConnection } from './sqlite-connection.js'
import { SqliteSessionCache } from './sqlite-session-cache.js'
import { toPasskey, toAccountToken, toAudit, toCode, toKey, toRefresh, toSession, toUser, tupleToSession, type SqliteStatements } from './sqlite-statements.js'
import {
  accountExists,
  checkClaim,
  checkClaims,
  checkClaimType,
  checkClaimTypes,
  checkClaimValue,
  checkNewUser,
  checkSecret,
  checkUserPatch,
  clampInt,
  driverCode,
  storeConflict,
  userNotFound,
  checkEmail,
  checkPasskey,
  checkCounter,
  checkPasskeyName,
} from './store-errors.js'

/** Options of {@link SqliteAuthStore}. */
export interface SqliteAuthStoreOptions {
  /** The database file (created with its directory on first open), or `:memory:`. */
  path: string
  /** How long a write waits for another process's lock before `ERR_STORE_UNAVAILABLE`, ms. Default 5000. */
  busyTimeoutMs?: number
}

/**
 * The embedded default {@link AuthStore}: one SQLite file (WAL mode) through
 * better-sqlite3. Several processes (e.g. `node:cluster` workers) may share
 * the file: every read-modify-write runs in `BEGIN IMMEDIATE` and waits up to
 * `busyTimeoutMs` for the lock.
 *
 * Faults never crash the process: an unreachable, moved, deleted or
 * corrupt file makes calls throw `ERR_STORE_UNAVAILABLE` (503, the driver
 * error as `cause`), and calls work again once the file is back. A deleted
 * database is never silently recreated empty while the process runs.
 *
 * @example
 * ```ts
 * const store = new SqliteAuthStore({ path: './data/wire-auth.sqlite' })
 * await store.init()
 * ```
 */
export class SqliteAuthStore implements AuthStore {
  private readonly conn: SqliteConnection
  private readonly sessions = new SqliteSessionCache()

  /**
   * @param options the file path, or `{ path, busyTimeoutMs }`.
   * @throws `ERR_INVALID_OPTION` when the path or timeout is malformed.
   */
  constructor(options: string | SqliteAuthStoreOptions) {
    const opts = typeof options === 'string' ? { path: options } : options
    if (typeof opts !== 'object' || opts === null || typeof opts.path !== 'string' || opts.path.length === 0) {
      throw new InvalidOption('"options.path" must be a non-empty string')
    }
    const busy = opts.busyTimeoutMs ?? 5000
    if (!Number.isInteger(busy) || busy < 0) throw new InvalidOption('"options.busyTimeoutMs" must be a non-negative integer')
    this.conn = new SqliteConnection(opts.path, busy)
  }

  /** The resolved database path. */
  get path(): string {
    return this.conn.path
  }

  async init(): Promise<void> {
    await this.conn.open()
  }

  async close(): Promise<void> {
    this.conn.close()
    this.sessions.clear()
  }

  async createUser(user: NewUser): Promise<UserRecord> {
    checkNewUser(user)
    const claims = checkClaims(user.claims ?? [])
    const id = randomUUID()
    const now = Date.now()
    try {
      return await this.conn.immediate('createUser', (s) => {
        s.insertUser.run(id, user.email ?? null, user.name ?? null, user.passwordHash ?? null, now, now)
        for (const c of claims) s.insertClaim.run(id, c.type, c.value)
        return readUser(s, id)!
      })
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause
      if (driverCode(cause) === 'SQLITE_CONSTRAINT_UNIQUE' && /users\.email/.test(String((cause as Error).message))) {
        throw accountExists(cause)
      }
      throw err
    }
  }

  async getUser(id: string): Promise<UserRecord | null> {
    return this.conn.run('getUser', (s) => readUser(s, id))
  }

  async getUserByEmail(email: string): Promise<UserRecord | null> {
    return this.conn.run('getUserByEmail', (s) => {
      const row = s.getUserByEmail.get(email)
      return row === undefined ? null : toUser(row, s.getClaims.all(row.id))
    })
  }

  async listUsers(options: { limit?: number; offset?: number } = {}): Promise<UserRecord[]> {
    const limit = clampInt(options.limit, 100, 0, 1000)
    const offset = clampInt(options.offset, 0, 0, Number.MAX_SAFE_INTEGER)
    return this.conn.run('listUsers', (s) => s.listUsers.all(limit, offset).map((row) => toUser(row, s.getClaims.all(row.id))))
  }

  async updateUser(id: string, patch: UserPatch): Promise<UserRecord> {
    checkUserPatch(patch)
    return this.conn.immediate('updateUser', (s) => {
      const row = s.getUser.get(id)
      if (row === undefined) throw userNotFound()
      const name = patch.name === undefined ? row.name : patch.name
      const hash = patch.passwordHash === undefined ? row.password_hash : patch.passwordHash
      const disabled = patch.disabled === undefined ? row.disabled : patch.disabled ? 1 : 0
      const revoke = patch.revokeAccessTokens === true
      if (revoke || name !== row.name || hash !== row.password_hash || disabled !== row.disabled) {
        s.setUserFields.run(name, hash, disabled, revoke ? 1 : 0, Date.now(), id)
      }
      return finishChange(s, id).user
    })
  }

  async setUserEmail(id: string, email: string): Promise<UserRecord> {
    checkEmail(email)
    return this.conn.immediate('setUserEmail', (s) => {
      const other = s.getUserByEmail.get(email)
      if (other !== undefined && other.id !== id) throw accountExists()
      if (s.setUserEmail.run(email, Date.now(), id).changes === 0) throw userNotFound()
      return readUser(s, id)!
    })
  }

  async addClaim(userId: string, claim: Claim, audit?: AuditRecord): Promise<ClaimChange> {
    const c = checkClaim(claim)
    return this.changeClaims('addClaim', userId, (s) => s.insertClaim.run(userId, c.type, c.value).changes > 0, audit)
  }

  async removeClaim(userId: string, type: string, value?: string, audit?: AuditRecord): Promise<ClaimChange> {
    checkClaimType(type)
    if (value !== undefined) checkClaimValue(value)
    return this.changeClaims(
      'removeClaim',
      userId,
      (s) => (value === undefined ? s.deleteClaimsOfType.run(userId, type) : s.deleteClaim.run(userId, type, value)).changes > 0,
      audit,
    )
  }

  async replaceClaimTypes(userId: string, types: string[], claims: Claim[]): Promise<ClaimChange> {
    const typeSet = new Set(checkClaimTypes(types))
    const next = checkClaims(claims)
    const keep = new Set(next.map(claimKey))
    return this.changeClaims('replaceClaimTypes', userId, (s) => {
      let changed = false
      // Claims that stay keep their place; only the others are removed.
      for (const c of s.getClaims.all(userId)) {
        if (typeSet.has(c.type) && !keep.has(claimKey(c))) changed = s.deleteClaim.run(userId, c.type, c.value).changes > 0 || changed
      }
      for (const c of next) changed = s.insertClaim.run(userId, c.type, c.value).changes > 0 || changed
      return changed
    })
  }

  /**
   * One BEGIN IMMEDIATE transaction: check the user, mutate, bump the version
   * if changed, refresh snapshots, and write the audit record if given (one
   * commit instead of two: half the write-lock round trips per change).
   */
  private changeClaims(operation: string, userId: string, mutate: (s: SqliteStatements) => boolean, audit?: AuditRecord): Promise<ClaimChange> {
    return this.conn.immediate(operation, (s) => {
      if (s.getUser.get(userId) === undefined) throw userNotFound()
      if (mutate(s)) s.bumpVersion.get(Date.now(), userId)
      if (audit !== undefined) insertAudit(s, audit)
      return finishChange(s, userId)
    })
  }

  async findIdentity(issuer: string, subject: string): Promise<string | null> {
    return this.conn.run('findIdentity', (s) => s.findIdentity.get(issuer, subject)?.user_id ?? null)
  }

  async listIdentities(userId: string): Promise<IdentityRecord[]> {
    return this.conn.run('listIdentities', (s) =>
      s.listIdentities.all(userId).map((row) => ({ issuer: row.issuer, subject: row.subject, userId: row.user_id, createdAt: row.created_at })),
    )
  }

  async linkIdentity(issuer: string, subject: string, userId: string): Promise<void> {
    await this.conn.immediate('linkIdentity', (s) => {
      if (s.getUser.get(userId) === undefined) throw userNotFound()
      s.insertIdentity.run(issuer, subject, userId, Date.now())
      const linked = s.findIdentity.get(issuer, subject)?.user_id
      if (linked !== userId) throw storeConflict('this identity is linked to another user')
    })
  }

  async createSession(session: SessionRecord): Promise<void> {
    await this.conn.immediate('createSession', (s) => {
      // Re-checked in the transaction that inserts (C4): a sign-in that read
      // the user before a "disable user" committed never gets a session.
      const owner = s.getUser.get(session.userId)
      if (owner === undefined) throw userNotFound()
      if (owner.disabled) throw new UserDisabled()
      s.insertSession.run({
        id: session.id,
        userId: session.userId,
        name: session.name ?? null,
        claims: JSON.stringify(checkClaims(session.claims ?? [])),
        userVersion: session.userVersion,
        createdAt: session.createdAt,
        lastSeenAt: session.lastSeenAt,
        idleExpiresAt: session.idleExpiresAt,
        absoluteExpiresAt: session.absoluteExpiresAt,
        ip: session.ip ?? null,
        userAgent: session.userAgent ?? null,
        provider: session.provider === undefined || session.provider === null ? null : JSON.stringify(session.provider),
      })
      // A claim change that committed between the caller reading the user
      // and this insert did not see the row: bring its snapshot up to date.
      const user = readUser(s, session.userId)
      if (user !== null && user.version > session.userVersion) {
        s.refreshSnapshot.run(user.name, JSON.stringify(user.claims), user.version, session.id, user.version)
      }
    })
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    return this.conn.run('getSession', (s) =>
      this.sessions.read(s, id, () => {
        const row = s.getSession.get(id)
        return row === undefined ? null : tupleToSession(row)
      }),
    )
  }

  async touchSession(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<void> {
    await this.conn.run('touchSession', (s) => s.touchSession.run(lastSeenAt, idleExpiresAt, id))
  }

  async deleteSession(id: string): Promise<boolean> {
    return this.conn.run('deleteSession', (s) => s.deleteSession.run(id).changes > 0)
  }

  async deleteUserSessions(userId: string): Promise<string[]> {
    return this.conn.run('deleteUserSessions', (s) => s.deleteUserSessions.all(userId).map((r) => r.id))
  }

  async listSessions(userId: string): Promise<SessionRecord[]> {
    return this.conn.run('listSessions', (s) => s.listSessions.all(userId).map(toSession))
  }

  /** Also sweeps refresh tokens and denylisted access tokens that expired before `now`. */
  async deleteExpiredSessions(now: number): Promise<number> {
    return this.conn.immediate('deleteExpiredSessions', (s) => {
      s.deleteExpiredRefresh.run(now)
      s.deleteExpiredAccess.run(now)
      s.deleteExpiredCodes.run(now)
      s.deleteExpiredAccountTokens.run(now)
      return s.deleteExpiredSessions.run(now, now).changes
    })
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.conn.run('listSigningKeys', (s) => s.listKeys.all().map(toKey))
  }

  async putSigningKey(key: SigningKeyRecord): Promise<void> {
    await this.conn.run('putSigningKey', (s) =>
      s.insertKey.run(key.kid, key.alg, JSON.stringify(key.privateJwk), JSON.stringify(key.publicJwk), key.createdAt),
    )
  }

  async createRefreshToken(token: RefreshTokenRecord): Promise<void> {
    await this.conn.run('createRefreshToken', (s) =>
      s.insertRefresh.run(token.id, token.familyId, token.userId, token.createdAt, token.expiresAt, token.usedAt ?? null, token.revokedAt ?? null, token.familyExpiresAt ?? null),
    )
  }

  async createAuthorizationCode(code: AuthorizationCodeRecord): Promise<void> {
    await this.conn.run('createAuthorizationCode', (s) =>
      s.insertCode.run(code.id, code.clientId, code.redirectUri, code.codeChallenge, code.userId, code.scope, code.nonce ?? null, code.createdAt, code.expiresAt, code.usedAt ?? null),
    )
  }

  async consumeAuthorizationCode(id: string, at: number): Promise<{ record: AuthorizationCodeRecord; firstUse: boolean } | null> {
    return this.conn.immediate('consumeAuthorizationCode', (s) => {
      const row = s.getCode.get(id)
      if (row === undefined) return null
      return { record: toCode(row), firstUse: s.useCode.run(at, id).changes === 1 }
    })
  }

  async createPasskey(passkey: PasskeyRecord): Promise<void> {
    const p = checkPasskey(passkey)
    await this.conn.run('createPasskey', (s) => s.insertPasskey.run(p.id, p.userId, p.publicKey, p.counter, JSON.stringify(p.transports), p.name, p.createdAt, p.lastUsedAt ?? null))
  }

  async getPasskey(id: string): Promise<PasskeyRecord | null> {
    return this.conn.run('getPasskey', (s) => {
      const row = s.getPasskey.get(id)
      return row === undefined ? null : toPasskey(row)
    })
  }

  async listPasskeys(userId: string): Promise<PasskeyRecord[]> {
    return this.conn.run('listPasskeys', (s) => s.listPasskeys.all(userId).map(toPasskey))
  }

  async usePasskey(id: string, counter: number, at: number): Promise<boolean> {
    checkCounter(counter)
    return this.conn.run('usePasskey', (s) => s.usePasskey.run(counter, at, id, counter, counter).changes === 1)
  }

  async renamePasskey(userId: string, id: string, name: string): Promise<boolean> {
    checkPasskeyName(name)
    return this.conn.run('renamePasskey', (s) => s.renamePasskey.run(name, id, userId).changes === 1)
  }

  async deletePasskey(userId: string, id: string): Promise<boolean> {
    return this.conn.run('deletePasskey', (s) => s.deletePasskey.run(id, userId).changes === 1)
  }

  async createAccountToken(token: AccountTokenRecord): Promise<void> {
    await this.conn.immediate('createAccountToken', (s) => {
      s.deleteAccountTokens.run(token.userId, token.purpose)
      s.insertAccountToken.run(token.id, token.userId, token.purpose, token.email ?? null, token.createdAt, token.expiresAt, token.usedAt ?? null)
    })
  }

  async consumeAccountToken(id: string, at: number): Promise<{ record: AccountTokenRecord; firstUse: boolean } | null> {
    return this.conn.immediate('consumeAccountToken', (s) => {
      const row = s.getAccountToken.get(id)
      if (row === undefined) return null
      return { record: toAccountToken(row), firstUse: s.useAccountToken.run(at, id).changes === 1 }
    })
  }

  async getRefreshToken(id: string): Promise<RefreshTokenRecord | null> {
    return this.conn.run('getRefreshToken', (s) => {
      const row = s.getRefresh.get(id)
      return row === undefined ? null : toRefresh(row)
    })
  }

  async useRefreshToken(id: string, at: number): Promise<boolean> {
    return this.conn.run('useRefreshToken', (s) => s.useRefresh.run(at, id).changes === 1)
  }

  async revokeRefreshFamily(familyId: string, at: number): Promise<void> {
    await this.conn.run('revokeRefreshFamily', (s) => s.revokeFamily.run(at, familyId))
  }

  async revokeUserRefreshTokens(userId: string, at: number): Promise<void> {
    await this.conn.run('revokeUserRefreshTokens', (s) => s.revokeUserRefresh.run(at, userId))
  }

  async revokeAccessToken(jti: string, expiresAt: number): Promise<void> {
    await this.conn.run('revokeAccessToken', (s) => s.revokeAccess.run(jti, expiresAt))
  }

  async isAccessTokenRevoked(jti: string): Promise<boolean> {
    return this.conn.run('isAccessTokenRevoked', (s) => s.isAccessRevoked.get(jti) !== undefined)
  }

  async recordFailure(key: string, at: number, windowMs: number): Promise<number> {
    const window = Math.max(1, Math.trunc(windowMs))
    return this.conn.immediate('recordFailure', (s) => {
      s.pruneFailures.run(at)
      s.insertFailure.run(key, at, at + window)
      return s.countFailures.get(key, at - window)!.n
    })
  }

  async countFailures(key: string, since: number): Promise<number> {
    return this.conn.run('countFailures', (s) => s.countFailures.get(key, since)!.n)
  }

  async clearFailures(key: string): Promise<void> {
    await this.conn.run('clearFailures', (s) => s.clearFailures.run(key))
  }

  async releaseFailure(key: string, at: number): Promise<void> {
    await this.conn.run('releaseFailure', (s) => s.releaseFailure.run(key, at))
  }

  async appendAudit(record: AuditRecord): Promise<void> {
    await this.conn.run('appendAudit', (s) => insertAudit(s, record))
  }

  async listAudit(options: { userId?: string; action?: string; limit?: number } = {}): Promise<AuditRecord[]> {
    const limit = clampInt(options.limit, 100, 0, 1000)
    const { userId: user, action } = options
    return this.conn.run('listAudit', (s) => {
      const rows =
        user !== undefined && action !== undefined ? s.listAuditByUserAction.all({ user, action, limit })
        : user !== undefined ? s.listAuditByUser.all({ user, limit })
        : action !== undefined ? s.listAuditByAction.all(action, limit)
        : s.listAudit.all(limit)
      return rows.map(toAudit)
    })
  }

  async getSecret(name: string, generate: () => string): Promise<string> {
    const existing = await this.conn.run('getSecret', (s) => s.getSecret.get(name)?.value)
    if (existing !== undefined) return existing
    const value = checkSecret(generate())
    return this.conn.immediate('getSecret', (s) => {
      s.insertSecret.run(name, value, Date.now())
      return s.getSecret.get(name)!.value
    })
  }

  async ping(): Promise<void> {
    await this.conn.run('ping', (s) => s.ping.get())
  }

  /**
   * The directory (should be 0700), database, `-wal` and `-shm` files
   * (0600) that group or others may reach. The store creates them that way;
   * files made by an older version or by hand may be looser — fix them with
   * `chmod 700 DIR && chmod 600 DIR/*.sqlite*`.
   */
  loosePermissions(): LoosePermission[] {
    return this.conn.loosePermissions()
  }
}

function readUser(s: SqliteStatements, id: string): UserRecord | null {
  const row = s.getUser.get(id)
  return row === undefined ? null : toUser(row, s.getClaims.all(id))
}

/** Writes one audit row (a fresh id unless the record carries one). */
function insertAudit(s: SqliteStatements, record: AuditRecord): void {
  const id = typeof record.id === 'string' && record.id.length > 0 ? record.id : randomUUID()
  s.insertAudit.run(id, record.at, record.action, record.actorId ?? null, record.targetId ?? null, JSON.stringify(record.detail ?? {}), record.ip ?? null)
}

/** Rewrites every older snapshot of the user and returns the change (inside the caller's transaction). */
function finishChange(s: SqliteStatements, userId: string): ClaimChange {
  const user = readUser(s, userId)
  if (user === null) throw userNotFound()
  s.refreshSnapshots.run(user.name, JSON.stringify(user.claims), user.version, userId, user.version)
  return { user, sessionIds: s.currentSessionIds.all(userId, user.version).map((r) => r.id) }
}

function claimKey(c: Claim): string {
  return JSON.stringify([c.type, c.value])
}
