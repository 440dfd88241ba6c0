import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MongoClient } from 'mongodb'
import { afterAll, describe, expect, it } from 'vitest'
import { MongoAuthStore } from '@wire-auth/server/mongodb'
import { describeMongo, MONGODB_URL } from '../support/mongodb.js'
import { expectCode } from './harness.js'
import { assertBuilt, expectExactAcrossProcesses } from './multi-process.js'
import { runStoreConformance } from './suite.js'

// The MongoDB conformance runs against the server named by MONGODB_URL:
// FerretDB (SQLite backend) under `npm test` / `.ci/run`, which start it, or
// a real mongod (MONGODB_URL=mongodb://127.0.0.1:27017 npm test). The store
// is never mocked or imitated. Under CI a missing URL fails the suite; a
// plain `npx vitest run` without it skips the suite by name.
// Each test gets its own database (wire_auth_conformance_<run>_<n>), dropped
// afterwards.
const url = MONGODB_URL
const run = `${process.pid}_${randomUUID().slice(0, 8)}`
let databases = 0
let admin: MongoClient | null = null

async function dropDatabase(dbName: string): Promise<void> {
  admin ??= new MongoClient(url, { serverSelectionTimeoutMS: 5000 })
  await admin.db(dbName).dropDatabase()
}

afterAll(async () => {
  await admin?.close()
})

describeMongo('MongoAuthStore against MONGODB_URL', () => {
  runStoreConformance('MongoAuthStore', async () => {
    const dbName = `wire_auth_conformance_${run}_${++databases}`
    const opened = [new MongoAuthStore({ url: url, dbName })]
    return {
      store: opened[0]!,
      reopen: async () => {
        const store = new MongoAuthStore({ url: url, dbName })
        opened.push(store)
        return store
      },
      cleanup: async () => {
        for (const store of opened) await store.close()
        await dropDatabase(dbName)
      },
    }
  })

  describe('MongoAuthStore on servers without TTL or partial indexes', () => {
    it('sweeps expired refresh tokens, revoked access-token ids and login failures by itself (sweepIntervalMs)', async () => {
      const dbName = `wire_auth_conformance_${run}_sweep`
      const store = new MongoAuthStore({ url, dbName, sweepIntervalMs: 100 })
      try {
        await store.init()
        const now = Date.now()
        const user = await store.createUser({ email: null, name: null, passwordHash: null })
        await store.createRefreshToken({ id: 'expired', familyId: 'f', userId: user.id, createdAt: now - 2000, expiresAt: now - 1000, usedAt: null, revokedAt: null })
        await store.createRefreshToken({ id: 'live', familyId: 'f', userId: user.id, createdAt: now, expiresAt: now + 600_000, usedAt: null, revokedAt: null })
        await store.revokeRefreshFamily('f', now)
        await store.revokeAccessToken('jti-expired', now - 1000)
        await store.revokeAccessToken('jti-live', now + 600_000)
        await store.recordFailure('acct:old', now - 10_000, 1000)
        await store.recordFailure('acct:new', now, 600_000)
        const db = (admin ??= new MongoClient(url, { serverSelectionTimeoutMS: 5000 })).db(dbName)
        const left = async () => ({
          refresh: await db.collection('refresh_tokens').countDocuments(),
          revocations: await db.collection('refresh_revocations').countDocuments(),
          jtis: await db.collection('revoked_tokens').countDocuments(),
          failures: await db.collection('failures').countDocuments(),
        })
        const swept = { refresh: 1, revocations: 1, jtis: 1, failures: 1 }
        const deadline = Date.now() + 10_000
        while (JSON.stringify(await left()) !== JSON.stringify(swept) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
        expect(await left()).toEqual(swept)
        expect(await store.isAccessTokenRevoked('jti-live')).toBe(true)
        expect(await store.isAccessTokenRevoked('jti-expired')).toBe(false)
        expect((await store.getRefreshToken('live'))!.revokedAt).toBe(now)
        expect(await store.countFailures('acct:new', now - 1)).toBe(1)
      } finally {
        await store.close()
        await dropDatabase(dbName)
      }
    })

    it('a session is refused for a user disabled in a version the user document does not show yet', async () => {
      // The user document's copy of the state is a hint written after the
      // version slot (the commit); a writer may stop between the two. Here the
      // slot of version 2 (disabled) exists and the document still says version 1.
      const dbName = `wire_auth_conformance_${run}_lag`
      const store = new MongoAuthStore({ url, dbName })
      try {
        await store.init()
        const user = await store.createUser({ email: null, name: 'Lag', passwordHash: null })
        const db = (admin ??= new MongoClient(url, { serverSelectionTimeoutMS: 5000 })).db(dbName)
        await db.collection('user_versions').insertOne({
          _id: `${user.id}:2` as never,
          userId: user.id,
          name: 'Lag',
          passwordHash: null,
          claims: [],
          disabled: true,
          tokensMinVersion: 0,
          version: 2,
          updatedAt: Date.now(),
        })
        expect(await store.getUser(user.id)).toMatchObject({ disabled: true, version: 2 })
        const now = Date.now()
        const session = { id: 'lagging', userId: user.id, name: 'Lag', claims: [], userVersion: 1, createdAt: now, lastSeenAt: now, idleExpiresAt: now + 60_000, absoluteExpiresAt: now + 60_000, ip: null, userAgent: null }
        await expectCode(store.createSession(session), 'ERR_USER_DISABLED', 403)
        expect(await store.getSession('lagging')).toBeNull()
      } finally {
        await store.close()
        await dropDatabase(dbName)
      }
    })

    it('init keeps an index an earlier version made under another name, and the e-mail stays unique', async () => {
      const dbName = `wire_auth_conformance_${run}_upgrade`
      const db = (admin ??= new MongoClient(url, { serverSelectionTimeoutMS: 5000 })).db(dbName)
      // Earlier versions named these differently (the TTL index, a partial e-mail index).
      await db.collection('revoked_tokens').createIndex({ expiresAt: 1 }, { name: 'expires_ttl' })
      await db.collection('users').createIndex({ email: 1 }, { name: 'email_v0', unique: true })
      const store = new MongoAuthStore({ url, dbName })
      try {
        await store.init()
        await store.createUser({ email: 'once@example.test', name: null, passwordHash: null })
        await expectCode(store.createUser({ email: 'once@example.test', name: null, passwordHash: null }), 'ERR_ACCOUNT_EXISTS', 409)
        await store.createUser({ email: null, name: 'provider-only', passwordHash: null })
        await store.createUser({ email: null, name: 'provider-only too', passwordHash: null })
      } finally {
        await store.close()
        await dropDatabase(dbName)
      }
    })
  })

  describe('MongoAuthStore shared by several processes', () => {
    it('3 processes hammering addClaim / removeClaim on one user end exactly right', async () => {
      assertBuilt('mongodb.js')
      const dbName = `wire_auth_conformance_${run}_mp`
      const store = new MongoAuthStore({ url: url, dbName })
      try {
        await store.init()
        await expectExactAcrossProcesses(store, { kind: 'mongodb', url: url, dbName })
      } finally {
        await store.close()
        await dropDatabase(dbName)
      }
    }, 120_000)
  })
})

// These need no MongoDB server: they check options, the answer when no
// server is reachable (a real driver against a closed loopback port), and
// that the main entry never loads the driver.
describe('MongoAuthStore without a server', () => {
  it('rejects malformed options with ERR_INVALID_OPTION', () => {
    for (const bad of [
      'http://localhost',
      { url: '' },
      { url: 'mongodb://127.0.0.1', dbName: 'a/b' },
      { url: 'mongodb://127.0.0.1', serverSelectionTimeoutMS: -1 },
      { url: 'mongodb://127.0.0.1', sweepIntervalMs: -1 },
      { url: 'mongodb://127.0.0.1', sweepIntervalMs: 1.5 },
      { url: 'mongodb://127.0.0.1', client: {} as MongoClient },
      { url: 'mongodb://127.0.0.1/?noSuchOption=1' },
      { url: 'mongodb+srv://a,b' },
    ]) {
      let code: unknown
      try {
        new MongoAuthStore(bad as never)
      } catch (err) {
        code = (err as { code?: unknown }).code
      }
      expect(code, JSON.stringify(bad)).toBe('ERR_INVALID_OPTION')
    }
  })

  it('an unreachable server gives ERR_STORE_UNAVAILABLE (503) with the driver error as cause, call after call', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const store = new MongoAuthStore({ url: 'mongodb://wire:s3cret-pass@127.0.0.1:1/wire_auth', serverSelectionTimeoutMS: 300 })
    try {
      const err = await expectCode(store.init(), 'ERR_STORE_UNAVAILABLE', 503)
      expect(err.cause).toBeInstanceOf(Error)
      expect(err.message).not.toContain('s3cret-pass')
      await expectCode(store.getUser('u1'), 'ERR_STORE_UNAVAILABLE', 503)
      await expectCode(store.ping(), 'ERR_STORE_UNAVAILABLE', 503)
    } finally {
      await store.close()
    }
    await expectCode(store.ping(), 'ERR_STORE_UNAVAILABLE', 503)
  })

  it('the main entry never imports the mongodb driver; the subpath entry only re-exports', () => {
    const root = fileURLToPath(new URL('../../packages/server/src/', import.meta.url))
    const seen = new Set<string>()
    const offenders: string[] = []
    const visit = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      const source = readFileSync(file, 'utf8')
      // Static imports and re-exports only: `await import()` is how optional parts load.
      for (const match of source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
        const spec = match[1]!
        if (spec === 'mongodb' || spec.startsWith('mongodb/')) offenders.push(file)
        if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')))
      }
    }
    visit(`${root}index.ts`)
    expect(seen.size).toBeGreaterThan(1)
    expect(offenders).toEqual([])

    const entry = readFileSync(`${root}mongodb.ts`, 'utf8').trim().split('\n')
    expect(entry.every((line) => /^export (type )?\{[^}]+\} from '\.\/lib\/store\/mongodb-(store|entry)\.js'$/.test(line))).toBe(true)
  })
})
