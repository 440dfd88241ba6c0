import { randomUUID } from 'node:crypto'
import { MongoClient, type Document } from 'mongodb'
import { InvalidOption, type Claim } from '@wire-auth/core'
import type {
  AuditRecord,
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
import {
  addClaimChange,
  advance,
  changeUser,
  createSessionDoc,
  deleteUserSessionsDoc,
  readUser,
  removeClaimChange,
  replaceClaimTypesChange,
  updateUserChange,
} from './mongodb-claims.js'
import {
  collections,
  ignoreDuplicate,
  isDuplicateKey,
  isIndexConflict,
  versionKey,
  MONGO_INDEXES,
  plainJson,
  toAudit,
  toKey,
  toAccountToken,
  toPasskey,
  toCode,
  toRefresh,
  toSession,
  toUser,
  str,
  translateMongoError,
  type MongoCollections,
  type UserDoc,
} from './mongodb-documents.js'
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
  checkEmail,
  checkPasskey,
  checkCounter,
  checkPasskeyName,
  clampInt,
  storeConflict,
  storeUnavailable,
  userNotFound,
} from './store-errors.js'

/** Options of {@link MongoAuthStore}. */
export interface MongoAuthStoreOptions {
  /** Connection string, e.g. `mongodb://db.internal:27017/wire_auth`. */
  url: string
  /** Database name. Default: the one in `url`, else `wire_auth`. */
  dbName?: string
  /** An existing client to use instead of connecting to `url`; the store never closes it. */
  client?: MongoClient
  /** How long an operation waits for a reachable server before `ERR_STORE_UNAVAILABLE`, ms. Default 5000. */
  serverSelectionTimeoutMS?: number
  /**
   * How often the store deletes expired sessions, refresh tokens, revoked
   * access-token ids and login failures, ms (what TTL indexes would do; they
   * are not available on every MongoDB-protocol server). 0 turns it off (call
   * `deleteExpiredSessions()` yourself). Default 600000 (10 minutes).
   */
  sweepIntervalMs?: number
}

const STORE = 'MongoAuthStore'

/**
 * {@link AuthStore} on MongoDB (official driver), for several workers or
 * machines sharing one database. Import it from `@wire-auth/server/mongodb`
 * so SQLite users never load the driver.
 *
 * Every step that must be atomic is an insert under a unique key — the one
 * write every MongoDB-protocol server (MongoDB, FerretDB, Amazon DocumentDB,
 * Azure Cosmos DB for MongoDB) performs atomically: a change of a user is
 * the insert of its next version slot (concurrent changes are serialised,
 * none lost), a refresh token's first use and its revocation are inserts
 * keyed by the token. No transactions, aggregation-pipeline updates, partial
 * or TTL indexes are used; expired rows are swept by the store
 * (`sweepIntervalMs`). Sessions read the user's current claims when they are
 * read, so no snapshot can go stale. Driver and network failures throw
 * `ERR_STORE_UNAVAILABLE` (503, the driver error as `cause`); the driver
 * reconnects by itself.
 *
 * @example
 * ```ts
 * import { MongoAuthStore } from '@wire-auth/server/mongodb'
 * const store = new MongoAuthStore({ url: process.env.MONGODB_URL!, dbName: 'wire_auth' })
 * ```
 */
export class MongoAuthStore implements AuthStore {
  private readonly url: string
  private readonly dbName: string
  private readonly externalClient: MongoClient | null
  private readonly serverSelectionTimeoutMS: number
  private client: MongoClient | null = null
  private ready: Promise<MongoCollections> | null = null
  private closed = false
  private readonly sweepIntervalMs: number
  private sweepTimer: ReturnType<typeof setInterval> | null = null

  /**
   * @param options the connection string, or {@link MongoAuthStoreOptions}.
   * @throws `ERR_INVALID_OPTION` when an option is malformed.
   */
  constructor(options: string | MongoAuthStoreOptions) {
    const opts = typeof options === 'string' ? { url: options } : options
    if (typeof opts !== 'object' || opts === null) throw new InvalidOption('MongoAuthStore options must be a connection string or an object')
    if (opts.client !== undefined && !(opts.client instanceof MongoClient)) throw new InvalidOption('"options.client" must be a MongoClient')
    if (opts.client === undefined && (typeof opts.url !== 'string' || !/^mongodb(\+srv)?:\/\//.test(opts.url))) {
      throw new InvalidOption('"options.url" must be a mongodb:// or mongodb+srv:// connection string')
    }
    if (opts.dbName !== undefined && (typeof opts.dbName !== 'string' || !/^[^\s/\\."$*<>:|?]{1,63}$/.test(opts.dbName))) {
      throw new InvalidOption('"options.dbName" must be a valid MongoDB database name')
    }
    const timeout = opts.serverSelectionTimeoutMS ?? 5000
    if (!Number.isInteger(timeout) || timeout <= 0) throw new InvalidOption('"options.serverSelectionTimeoutMS" must be a positive integer')
    const sweep = opts.sweepIntervalMs ?? 600_000
    if (!Number.isInteger(sweep) || sweep < 0 || sweep > 2 ** 31 - 1) throw new InvalidOption('"options.sweepIntervalMs" must be an integer from 0 to 2147483647')
    this.sweepIntervalMs = sweep
    this.url = opts.url ?? ''
    this.externalClient = opts.client ?? null
    this.serverSelectionTimeoutMS = timeout
    this.dbName = opts.dbName ?? dbNameFromUrl(this.url) ?? 'wire_auth'
    if (this.externalClient === null) {
      try {
        // Parses the connection string now (no I/O) so a typo fails at boot.
        this.client = this.newClient()
      } catch (err) {
        throw new InvalidOption('"options.url" is not a valid MongoDB connection string', { cause: err })
      }
    }
  }

  private newClient(): MongoClient {
    return new MongoClient(this.url, { serverSelectionTimeoutMS: this.serverSelectionTimeoutMS })
  }

  /** Connects and creates the indexes. Idempotent; retried on the next call after a failure. */
  async init(): Promise<void> {
    this.closed = false
    await this.cols('init')
  }

  /** Closes the client it created (a client passed in `options.client` stays open). */
  async close(): Promise<void> {
    this.closed = true
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer)
    this.sweepTimer = null
    const pending = this.ready
    this.ready = null
    // Let a connect in flight settle so its client is closed too.
    await pending?.catch(() => undefined)
    const client = this.client
    this.client = null
    if (client !== null && client !== this.externalClient) {
      try {
        await client.close()
      } catch {
        // closing a broken connection may fail; the client is unusable either way
      }
    }
  }

  private cols(operation: string): Promise<MongoCollections> {
    if (this.closed) return Promise.reject(storeUnavailable(STORE, operation, undefined, 'the store is closed'))
    if (this.ready === null) {
      const ready = this.connect()
      this.ready = ready
      // A failed connect is forgotten so the next call tries again.
      ready.catch(() => {
        if (this.ready === ready) this.ready = null
      })
    }
    return this.ready.catch((err: unknown) => {
      throw translateMongoError(operation, err)
    })
  }

  private async connect(): Promise<MongoCollections> {
    const client = this.externalClient ?? this.client ?? this.newClient()
    this.client = client
    try {
      await client.connect()
      const c = collections(client.db(this.dbName))
      // One index per call, so an index an earlier version made differently
      // (isIndexConflict) does not stop the others.
      await Promise.all(
        (Object.keys(MONGO_INDEXES) as (keyof typeof MONGO_INDEXES)[]).flatMap((name) =>
          MONGO_INDEXES[name].map(({ key, ...options }) =>
            c[name].createIndex(key, options).catch((err: unknown) => {
              if (!isIndexConflict(err)) throw err
            }),
          ),
        ),
      )
      this.startSweep()
      return c
    } catch (err) {
      if (client !== this.externalClient) {
        this.client = null
        await client.close().catch(() => undefined)
      }
      throw err
    }
  }

  private startSweep(): void {
    if (this.sweepIntervalMs === 0 || this.sweepTimer !== null) return
    this.sweepTimer = setInterval(() => {
      // A failed sweep is retried at the next interval; requests report the outage themselves.
      this.deleteExpiredSessions(Date.now()).catch(() => undefined)
    }, this.sweepIntervalMs)
    this.sweepTimer.unref()
  }

  /** Runs `fn` with the collections and maps every failure to a coded error. */
  private async run<T>(operation: string, fn: (c: MongoCollections) => Promise<T>): Promise<T> {
    const c = await this.cols(operation)
    try {
      return await fn(c)
    } catch (err) {
      throw translateMongoError(operation, err)
    }
  }

  async createUser(user: NewUser): Promise<UserRecord> {
    checkNewUser(user)
    const now = Date.now()
    const id = randomUUID()
    const state = {
      name: user.name ?? null,
      passwordHash: user.passwordHash ?? null,
      claims: checkClaims(user.claims ?? []),
      disabled: false,
      tokensMinVersion: 0,
      version: 1,
      updatedAt: now,
    }
    // No `email` field at all for provider-only users (the index is sparse).
    const doc: UserDoc = { _id: id, ...(user.email === null || user.email === undefined ? {} : { email: user.email }), createdAt: now, ...state }
    return this.run('createUser', async (c) => {
      // Slot 1 first: a user document always has its first version. A slot
      // left by a crash or a clash below belongs to no user and is never read.
      await c.userVersions.insertOne({ _id: versionKey(id, 1), userId: id, ...state })
      try {
        await c.users.insertOne(doc)
      } catch (err) {
        // _id is a fresh UUID: the e-mail is the only key that can clash.
        await c.userVersions.deleteOne({ _id: versionKey(id, 1) }).catch(() => undefined)
        if (isDuplicateKey(err)) throw accountExists(err)
        throw err
      }
      return toUser(doc)
    })
  }

  async getUser(id: string): Promise<UserRecord | null> {
    return this.run('getUser', async (c) => {
      const doc = await readUser(c, str(id, 'id'))
      return doc === null ? null : toUser(doc)
    })
  }

  async getUserByEmail(email: string): Promise<UserRecord | null> {
    return this.run('getUserByEmail', async (c) => {
      const doc = await c.users.findOne({ email: str(email, 'email') })
      return doc === null ? null : toUser(await advance(c, doc))
    })
  }

  async listUsers(options: { limit?: number; offset?: number } = {}): Promise<UserRecord[]> {
    const limit = clampInt(options.limit, 100, 0, 1000)
    const offset = clampInt(options.offset, 0, 0, Number.MAX_SAFE_INTEGER)
    if (limit === 0) return []
    return this.run('listUsers', async (c) => {
      const docs = await c.users.find({}).sort({ createdAt: 1, _id: 1 }).skip(offset).limit(limit).toArray()
      return (await Promise.all(docs.map((doc) => advance(c, doc)))).map(toUser)
    })
  }

  async updateUser(id: string, patch: UserPatch): Promise<UserRecord> {
    checkUserPatch(patch)
    const fields: { name?: string | null; passwordHash?: string | null; disabled?: boolean } = {}
    if (patch.name !== undefined) fields.name = patch.name
    if (patch.passwordHash !== undefined) fields.passwordHash = patch.passwordHash
    if (patch.disabled !== undefined) fields.disabled = patch.disabled
    const uid = str(id, 'id')
    return (await this.run('updateUser', (c) => changeUser(c, uid, updateUserChange(fields, patch.revokeAccessTokens === true)))).user
  }

  async setUserEmail(id: string, email: string): Promise<UserRecord> {
    const uid = str(id, 'id')
    const address = checkEmail(email)
    return this.run('setUserEmail', async (c) => {
      // Not part of the versioned state: the unique index on `email` is the atomic check.
      // FerretDB reports a unique clash of an update as an internal error, not
      // 11000, so a clash is told by looking for the other holder (also first,
      // for the common case).
      const takenBy = () => c.users.findOne({ email: address, _id: { $ne: uid } }, { projection: { _id: 1 } })
      if ((await takenBy()) !== null) throw accountExists()
      let matched: number
      try {
        matched = (await c.users.updateOne({ _id: uid }, { $set: { email: address } })).matchedCount
      } catch (err) {
        if (isDuplicateKey(err) || (await takenBy()) !== null) throw accountExists(err)
        throw err
      }
      if (matched === 0) throw userNotFound()
      const doc = await readUser(c, uid)
      if (doc === null) throw userNotFound()
      return toUser(doc)
    })
  }

  async addClaim(userId: string, claim: Claim, audit?: AuditRecord): Promise<ClaimChange> {
    const checked = checkClaim(claim)
    const id = str(userId, 'userId')
    return this.withAudit(await this.run('addClaim', (c) => changeUser(c, id, addClaimChange(checked))), audit)
  }

  async removeClaim(userId: string, type: string, value?: string, audit?: AuditRecord): Promise<ClaimChange> {
    const match = value === undefined ? { type: checkClaimType(type) } : { type: checkClaimType(type), value: checkClaimValue(value) }
    const id = str(userId, 'userId')
    return this.withAudit(await this.run('removeClaim', (c) => changeUser(c, id, removeClaimChange(match))), audit)
  }

  /**
   * The audit record of a committed change, written right after it (the
   * change and the record are two documents; transactions are not available
   * on every server). A failed insert does not undo the change: it is reported.
   */
  private async withAudit(change: ClaimChange, audit: AuditRecord | undefined): Promise<ClaimChange> {
    if (audit === undefined) return change
    try {
      await this.appendAudit(audit)
      return change
    } catch (err) {
      return { ...change, auditError: err }
    }
  }

  async replaceClaimTypes(userId: string, types: string[], claims: Claim[]): Promise<ClaimChange> {
    const checkedTypes = checkClaimTypes(types)
    const checkedClaims = checkClaims(claims)
    const id = str(userId, 'userId')
    return this.run('replaceClaimTypes', (c) => changeUser(c, id, replaceClaimTypesChange(checkedTypes, checkedClaims)))
  }

  async findIdentity(issuer: string, subject: string): Promise<string | null> {
    return this.run('findIdentity', async (c) => {
      const doc = await c.identities.findOne({ issuer: str(issuer, 'issuer'), subject: str(subject, 'subject') })
      return doc?.userId ?? null
    })
  }

  async listIdentities(userId: string): Promise<IdentityRecord[]> {
    const id = str(userId, 'userId')
    return this.run('listIdentities', async (c) =>
      (await c.identities.find({ userId: id }).sort({ createdAt: 1, issuer: 1, subject: 1 }).toArray()).map((doc) => ({
        issuer: doc.issuer,
        subject: doc.subject,
        userId: doc.userId,
        createdAt: doc.createdAt,
      })),
    )
  }

  async linkIdentity(issuer: string, subject: string, userId: string): Promise<void> {
    const key = { issuer: str(issuer, 'issuer'), subject: str(subject, 'subject') }
    const id = str(userId, 'userId')
    await this.run('linkIdentity', async (c) => {
      if ((await c.users.findOne({ _id: id }, { projection: { _id: 1 } })) === null) throw userNotFound()
      await ignoreDuplicate(c.identities.updateOne(key, { $setOnInsert: { userId: id, createdAt: Date.now() } }, { upsert: true }))
      const linked = await c.identities.findOne(key)
      if (linked?.userId !== id) throw storeConflict('this identity is linked to another user')
    })
  }

  async createSession(session: SessionRecord): Promise<void> {
    const row = { ...session, id: str(session.id, 'session.id'), userId: str(session.userId, 'session.userId') }
    await this.run('createSession', (c) => createSessionDoc(c, row))
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    return this.run('getSession', async (c) => {
      const doc = await c.sessions.findOne({ _id: str(id, 'id') })
      return doc === null ? null : toSession(doc, await readUser(c, doc.userId))
    })
  }

  async touchSession(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<void> {
    await this.run('touchSession', (c) => c.sessions.updateOne({ _id: str(id, 'id') }, { $set: { lastSeenAt, idleExpiresAt } }))
  }

  async deleteSession(id: string): Promise<boolean> {
    return this.run('deleteSession', async (c) => (await c.sessions.deleteOne({ _id: str(id, 'id') })).deletedCount === 1)
  }

  async deleteUserSessions(userId: string): Promise<string[]> {
    const id = str(userId, 'userId')
    return this.run('deleteUserSessions', (c) => deleteUserSessionsDoc(c, id))
  }

  async listSessions(userId: string): Promise<SessionRecord[]> {
    const id = str(userId, 'userId')
    return this.run('listSessions', async (c) => {
      const [docs, user] = await Promise.all([c.sessions.find({ userId: id }).sort({ createdAt: 1, _id: 1 }).toArray(), readUser(c, id)])
      return docs.map((doc) => toSession(doc, user))
    })
  }

  /**
   * Also sweeps what expired before `now`: refresh tokens (with their use and
   * revocation marks), revoked access-token ids and login failures. Runs every
   * `sweepIntervalMs` by itself.
   */
  async deleteExpiredSessions(now: number): Promise<number> {
    return this.run('deleteExpiredSessions', async (c) => {
      await c.refreshTokens.deleteMany({ expiresAt: { $lt: now } })
      await c.authorizationCodes.deleteMany({ expiresAt: { $lt: now } })
      await c.accountTokens.deleteMany({ expiresAt: { $lt: now } })
      await c.refreshUses.deleteMany({ expiresAt: { $lt: now } })
      await c.refreshRevocations.deleteMany({ expiresAt: { $lt: now } })
      await c.revokedTokens.deleteMany({ expiresAt: { $lt: new Date(now) } })
      await c.failures.deleteMany({ expiresAt: { $lt: new Date(now) } })
      const result = await c.sessions.deleteMany({ $or: [{ idleExpiresAt: { $lt: now } }, { absoluteExpiresAt: { $lt: now } }] })
      return result.deletedCount
    })
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.run('listSigningKeys', async (c) => (await c.signingKeys.find({}).sort({ createdAt: 1, _id: 1 }).toArray()).map(toKey))
  }

  async putSigningKey(key: SigningKeyRecord): Promise<void> {
    const kid = str(key.kid, 'key.kid')
    await this.run('putSigningKey', (c) =>
      ignoreDuplicate(
        c.signingKeys.updateOne(
          { _id: kid },
          { $setOnInsert: { alg: key.alg, privateJwk: plainJson(key.privateJwk), publicJwk: plainJson(key.publicJwk), createdAt: key.createdAt } },
          { upsert: true },
        ),
      ),
    )
  }

  async createRefreshToken(token: RefreshTokenRecord): Promise<void> {
    const userId = str(token.userId, 'token.userId')
    await this.run('createRefreshToken', async (c) => {
      if ((await c.users.findOne({ _id: userId }, { projection: { _id: 1 } })) === null) throw userNotFound()
      await c.refreshTokens.insertOne({
        _id: str(token.id, 'token.id'),
        familyId: str(token.familyId, 'token.familyId'),
        userId,
        createdAt: token.createdAt,
        expiresAt: token.expiresAt,
        usedAt: token.usedAt ?? null,
        revokedAt: token.revokedAt ?? null,
        familyExpiresAt: token.familyExpiresAt ?? null,
      })
    })
  }

  async createAuthorizationCode(code: AuthorizationCodeRecord): Promise<void> {
    const userId = str(code.userId, 'code.userId')
    await this.run('createAuthorizationCode', async (c) => {
      if ((await c.users.findOne({ _id: userId }, { projection: { _id: 1 } })) === null) throw userNotFound()
      await c.authorizationCodes.insertOne({
        _id: str(code.id, 'code.id'),
        clientId: str(code.clientId, 'code.clientId'),
        redirectUri: str(code.redirectUri, 'code.redirectUri'),
        codeChallenge: str(code.codeChallenge, 'code.codeChallenge'),
        userId,
        scope: str(code.scope, 'code.scope'),
        nonce: code.nonce === null ? null : str(code.nonce, 'code.nonce'),
        createdAt: code.createdAt,
        expiresAt: code.expiresAt,
        usedAt: code.usedAt ?? null,
      })
    })
  }

  async createPasskey(passkey: PasskeyRecord): Promise<void> {
    const p = checkPasskey(passkey)
    await this.run('createPasskey', async (c) => {
      if ((await c.users.findOne({ _id: p.userId }, { projection: { _id: 1 } })) === null) throw userNotFound()
      await c.passkeys.insertOne({ _id: p.id, userId: p.userId, publicKey: p.publicKey, counter: p.counter, transports: [...p.transports], name: p.name, createdAt: p.createdAt, lastUsedAt: p.lastUsedAt ?? null })
    })
  }

  async getPasskey(id: string): Promise<PasskeyRecord | null> {
    const key = str(id, 'id')
    return this.run('getPasskey', async (c) => {
      const doc = await c.passkeys.findOne({ _id: key })
      return doc === null ? null : toPasskey(doc)
    })
  }

  async listPasskeys(userId: string): Promise<PasskeyRecord[]> {
    const uid = str(userId, 'userId')
    return this.run('listPasskeys', async (c) => (await c.passkeys.find({ userId: uid }).sort({ createdAt: 1, _id: 1 }).toArray()).map(toPasskey))
  }

  async usePasskey(id: string, counter: number, at: number): Promise<boolean> {
    const key = str(id, 'id')
    checkCounter(counter)
    // A filtered update: FerretDB does not make it atomic against a concurrent
    // one, so two sign-ins racing with one counter value may both pass here
    // (the WebAuthn counter is a clone signal, not the replay defence: the
    // single-use challenge is).
    const filter = counter === 0 ? { _id: key, counter: 0 } : { _id: key, counter: { $lt: counter } }
    return this.run('usePasskey', async (c) => (await c.passkeys.updateOne(filter, { $set: { counter, lastUsedAt: at } })).matchedCount === 1)
  }

  async renamePasskey(userId: string, id: string, name: string): Promise<boolean> {
    checkPasskeyName(name)
    const filter = { _id: str(id, 'id'), userId: str(userId, 'userId') }
    return this.run('renamePasskey', async (c) => (await c.passkeys.updateOne(filter, { $set: { name } })).matchedCount === 1)
  }

  async deletePasskey(userId: string, id: string): Promise<boolean> {
    const filter = { _id: str(id, 'id'), userId: str(userId, 'userId') }
    return this.run('deletePasskey', async (c) => (await c.passkeys.deleteOne(filter)).deletedCount === 1)
  }

  async createAccountToken(token: AccountTokenRecord): Promise<void> {
    const userId = str(token.userId, 'token.userId')
    const purpose = str(token.purpose, 'token.purpose')
    const id = str(token.id, 'token.id')
    await this.run('createAccountToken', async (c) => {
      if ((await c.users.findOne({ _id: userId }, { projection: { _id: 1 } })) === null) throw userNotFound()
      await c.accountTokens.insertOne({
        _id: id,
        userId,
        purpose,
        email: token.email === null ? null : str(token.email, 'token.email'),
        createdAt: token.createdAt,
        expiresAt: token.expiresAt,
        usedAt: token.usedAt ?? null,
      })
      // After the insert, so a crash in between leaves the older link valid
      // rather than none; only older tokens go, so two racing requests never
      // delete each other's.
      await c.accountTokens.deleteMany({ userId, purpose, createdAt: { $lte: token.createdAt }, _id: { $ne: id } })
    })
  }

  async consumeAccountToken(id: string, at: number): Promise<{ record: AccountTokenRecord; firstUse: boolean } | null> {
    const key = str(id, 'id')
    return this.run('consumeAccountToken', async (c) => {
      const doc = await c.accountTokens.findOne({ _id: key })
      if (doc === null) return null
      // One unique mark per token, as for authorization codes: exactly one consumer's insert succeeds.
      try {
        await c.refreshUses.insertOne({ _id: `account:${key}`, at, expiresAt: doc.expiresAt })
        return { record: toAccountToken(doc), firstUse: true }
      } catch (err) {
        if (!isDuplicateKey(err)) throw err
        const mark = await c.refreshUses.findOne({ _id: `account:${key}` })
        return { record: { ...toAccountToken(doc), usedAt: mark?.at ?? doc.usedAt ?? at }, firstUse: false }
      }
    })
  }

  async consumeAuthorizationCode(id: string, at: number): Promise<{ record: AuthorizationCodeRecord; firstUse: boolean } | null> {
    const key = str(id, 'id')
    return this.run('consumeAuthorizationCode', async (c) => {
      const doc = await c.authorizationCodes.findOne({ _id: key })
      if (doc === null) return null
      // Like refresh-token uses: one unique mark per code, so exactly one
      // consumer's insert succeeds (no conditional update, which FerretDB
      // does not make atomic). The mark shares refresh_uses under a prefix.
      try {
        await c.refreshUses.insertOne({ _id: `code:${key}`, at, expiresAt: doc.expiresAt })
        return { record: toCode(doc), firstUse: true }
      } catch (err) {
        if (!isDuplicateKey(err)) throw err
        const mark = await c.refreshUses.findOne({ _id: `code:${key}` })
        return { record: { ...toCode(doc), usedAt: mark?.at ?? doc.usedAt ?? at }, firstUse: false }
      }
    })
  }

  async getRefreshToken(id: string): Promise<RefreshTokenRecord | null> {
    const tokenId = str(id, 'id')
    return this.run('getRefreshToken', async (c) => {
      const [doc, used, revoked] = await Promise.all([
        c.refreshTokens.findOne({ _id: tokenId }),
        c.refreshUses.findOne({ _id: tokenId }),
        c.refreshRevocations.findOne({ _id: tokenId }),
      ])
      if (doc === null) return null
      const token = toRefresh(doc)
      return { ...token, usedAt: token.usedAt ?? used?.at ?? null, revokedAt: token.revokedAt ?? revoked?.at ?? null }
    })
  }

  /**
   * The first use inserts a mark keyed by the token (atomic on every server:
   * of 20 concurrent uses exactly one insert succeeds). A token created used
   * or revoked, or revoked by a mark, is refused.
   */
  async useRefreshToken(id: string, at: number): Promise<boolean> {
    const tokenId = str(id, 'id')
    return this.run('useRefreshToken', async (c) => {
      const [doc, revoked] = await Promise.all([c.refreshTokens.findOne({ _id: tokenId }), c.refreshRevocations.findOne({ _id: tokenId }, { projection: { _id: 1 } })])
      if (doc === null || doc.usedAt !== null || doc.revokedAt !== null || revoked !== null) return false
      try {
        await c.refreshUses.insertOne({ _id: tokenId, at, expiresAt: doc.expiresAt })
        return true
      } catch (err) {
        if (isDuplicateKey(err)) return false
        throw err
      }
    })
  }

  async revokeRefreshFamily(familyId: string, at: number): Promise<void> {
    const family = str(familyId, 'familyId')
    await this.run('revokeRefreshFamily', (c) => this.revokeRefresh(c, { familyId: family }, at))
  }

  async revokeUserRefreshTokens(userId: string, at: number): Promise<void> {
    const user = str(userId, 'userId')
    await this.run('revokeUserRefreshTokens', (c) => this.revokeRefresh(c, { userId: user }, at))
  }

  /** A revocation mark for every matching token; a token revoked before keeps its first time. */
  private async revokeRefresh(c: MongoCollections, filter: { familyId: string } | { userId: string }, at: number): Promise<void> {
    const tokens = await c.refreshTokens.find(filter, { projection: { _id: 1, expiresAt: 1 } }).toArray()
    if (tokens.length === 0) return
    try {
      await c.refreshRevocations.insertMany(
        tokens.map((t) => ({ _id: t._id, at, expiresAt: t.expiresAt })),
        { ordered: false },
      )
    } catch (err) {
      // Marks that exist already are the earlier revocations; any other failure is reported.
      const writeErrors = (err as { writeErrors?: { code?: number }[] | { code?: number } }).writeErrors
      const list = Array.isArray(writeErrors) ? writeErrors : writeErrors === undefined ? [] : [writeErrors]
      if (!(list.length > 0 ? list.every((e) => e.code === 11000) : isDuplicateKey(err))) throw err
    }
  }

  async revokeAccessToken(jti: string, expiresAt: number): Promise<void> {
    const id = str(jti, 'jti')
    await this.run('revokeAccessToken', async (c) => {
      const write = () => c.revokedTokens.updateOne({ _id: id }, { $max: { expiresAt: new Date(expiresAt) } }, { upsert: true })
      // Two racing upserts of one jti: the loser retries as an update.
      await write().catch((err: unknown) => (isDuplicateKey(err) ? write() : Promise.reject(err)))
    })
  }

  async isAccessTokenRevoked(jti: string): Promise<boolean> {
    return this.run('isAccessTokenRevoked', async (c) => (await c.revokedTokens.findOne({ _id: str(jti, 'jti') }, { projection: { _id: 1 } })) !== null)
  }

  async recordFailure(key: string, at: number, windowMs: number): Promise<number> {
    const k = str(key, 'key')
    const window = Math.max(1, Math.trunc(windowMs))
    return this.run('recordFailure', async (c) => {
      await c.failures.insertOne({ key: k, at, expiresAt: new Date(at + window) })
      return c.failures.countDocuments({ key: k, at: { $gte: at - window } })
    })
  }

  async countFailures(key: string, since: number): Promise<number> {
    return this.run('countFailures', (c) => c.failures.countDocuments({ key: str(key, 'key'), at: { $gte: since } }))
  }

  async clearFailures(key: string): Promise<void> {
    await this.run('clearFailures', (c) => c.failures.deleteMany({ key: str(key, 'key') }))
  }

  async releaseFailure(key: string, at: number): Promise<void> {
    await this.run('releaseFailure', (c) => c.failures.deleteOne({ key: str(key, 'key'), at }))
  }

  async appendAudit(record: AuditRecord): Promise<void> {
    const id = typeof record.id === 'string' && record.id.length > 0 ? record.id : randomUUID()
    await this.run('appendAudit', (c) =>
      c.audit.insertOne({
        id,
        at: record.at,
        action: str(record.action, 'action'),
        actorId: record.actorId ?? null,
        targetId: record.targetId ?? null,
        detail: plainJson(record.detail ?? {}),
        ip: record.ip ?? null,
      }),
    )
  }

  async listAudit(options: { userId?: string; action?: string; limit?: number } = {}): Promise<AuditRecord[]> {
    const limit = clampInt(options.limit, 100, 0, 1000)
    if (limit === 0) return []
    const filter: Document = {}
    if (options.userId !== undefined) {
      const user = str(options.userId, 'userId')
      filter.$or = [{ actorId: user }, { targetId: user }]
    }
    if (options.action !== undefined) filter.action = str(options.action, 'action')
    return this.run('listAudit', async (c) => (await c.audit.find(filter).sort({ at: -1, _id: -1 }).limit(limit).toArray()).map(toAudit))
  }

  async getSecret(name: string, generate: () => string): Promise<string> {
    const id = str(name, 'name')
    return this.run('getSecret', async (c) => {
      const existing = await c.secrets.findOne({ _id: id })
      if (existing !== null) return existing.value
      const value = checkSecret(generate())
      await ignoreDuplicate(c.secrets.updateOne({ _id: id }, { $setOnInsert: { value, createdAt: Date.now() } }, { upsert: true }))
      const stored = await c.secrets.findOne({ _id: id })
      if (stored === null) throw storeUnavailable(STORE, 'getSecret', undefined, 'the secret was not stored')
      return stored.value
    })
  }

  async ping(): Promise<void> {
    await this.run('ping', (c) => c.db.command({ ping: 1 }))
  }
}

/** The database named in a connection string's path, if any. */
function dbNameFromUrl(url: string): string | undefined {
  const match = /^mongodb(?:\+srv)?:\/\/[^/?#]*\/([^?#]+)/.exec(url)
  return match?.[1] === undefined ? undefined : decodeURIComponent(match[1])
}
