// The session read of SqliteAuthStore is served from memory while nothing was
// committed (store/sqlite-session-cache.ts). These tests hold it to "the next
// read sees every commit", from this connection, from another connection in
// this process and from another process — the guarantee revocation rests on.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SqliteAuthStore } from '../src/lib/store/sqlite-store.js'
import type { SessionRecord } from '../src/lib/store/auth-store.js'

let dir: string
let path: string
let a: SqliteAuthStore
let b: SqliteAuthStore

function session(id: string, userId: string, at = Date.now()): SessionRecord {
  return { id, userId, name: 'Ada', claims: [{ type: 'role', value: 'member' }], userVersion: 1, createdAt: at, lastSeenAt: at, idleExpiresAt: at + 60_000, absoluteExpiresAt: at + 3_600_000, ip: null, userAgent: null }
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wire-auth-session-cache-'))
  path = join(dir, 'auth.sqlite')
  a = new SqliteAuthStore(path)
  await a.init()
  b = new SqliteAuthStore(path)
  await b.init()
})

afterEach(async () => {
  await a.close()
  await b.close()
  rmSync(dir, { recursive: true, force: true })
})

async function seeded(): Promise<string> {
  const user = await a.createUser({ email: 'ada@example.com', name: 'Ada', passwordHash: null, claims: [{ type: 'role', value: 'member' }] })
  await a.createSession(session('s1', user.id))
  return user.id
}

describe('the session read of SqliteAuthStore', () => {
  it('answers a repeated read from memory, with a frozen record', async () => {
    await seeded()
    const first = await a.getSession('s1')
    const second = await a.getSession('s1')
    expect(second).toBe(first)
    expect(Object.isFrozen(first)).toBe(true)
    expect(Object.isFrozen(first!.claims)).toBe(true)
    expect(Object.isFrozen(first!.claims[0])).toBe(true)
  })

  it("sees this connection's own delete and touch at the next read", async () => {
    await seeded()
    expect(await a.getSession('s1')).not.toBeNull()
    await a.touchSession('s1', 123, 456)
    expect(await a.getSession('s1')).toMatchObject({ lastSeenAt: 123, idleExpiresAt: 456 })
    expect(await a.deleteSession('s1')).toBe(true)
    expect(await a.getSession('s1')).toBeNull()
  })

  it("sees another connection's revocation, sign-out and claim change at the next read", async () => {
    const userId = await seeded()
    expect((await a.getSession('s1'))?.claims).toEqual([{ type: 'role', value: 'member' }])
    // A claim change rewrites the session snapshots (on the other connection).
    await b.addClaim(userId, { type: 'plan', value: 'pro' })
    expect((await a.getSession('s1'))?.claims).toContainEqual({ type: 'plan', value: 'pro' })
    await b.deleteUserSessions(userId)
    expect(await a.getSession('s1')).toBeNull()
  })

  it('sees a session created elsewhere after a miss', async () => {
    const userId = await seeded()
    expect(await a.getSession('s2')).toBeNull()
    await b.createSession(session('s2', userId))
    expect(await a.getSession('s2')).not.toBeNull()
  })

  it("sees another process's delete at the next read", async () => {
    await seeded()
    expect(await a.getSession('s1')).not.toBeNull()
    // A separate process with its own SQLite handle (what a second worker or the CLI is).
    const script = `const D = require(${JSON.stringify(require.resolve('better-sqlite3'))}); const db = new D(${JSON.stringify(path)}); db.prepare("DELETE FROM sessions WHERE id = 's1'").run(); db.close()`
    execFileSync(process.execPath, ['-e', script])
    expect(await a.getSession('s1')).toBeNull()
  })

  it('starts empty on a reopened handle', async () => {
    await seeded()
    const first = await a.getSession('s1')
    await a.close()
    await a.init()
    const again = await a.getSession('s1')
    expect(again).toEqual(first)
    expect(again).not.toBe(first)
  })
})
