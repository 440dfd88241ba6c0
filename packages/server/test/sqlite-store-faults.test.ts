import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WireAuthError } from '@wire-auth/core'
import { SqliteAuthStore } from '../src/lib/store/sqlite-store.js'

// Faults of the file under a running SQLiteAuthStore: the process must not
// crash, calls answer ERR_STORE_UNAVAILABLE (503, driver error as cause), and
// work again once the file is back. Tests run as root here, where chmod does
// not block access, so the faults are made by renaming / deleting / replacing.

let base: string
let dir: string
let path: string
let store: SqliteAuthStore

async function unavailable(promise: Promise<unknown>): Promise<WireAuthError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(WireAuthError)
  expect((err as WireAuthError).code).toBe('ERR_STORE_UNAVAILABLE')
  expect((err as WireAuthError).statusCode).toBe(503)
  return err as WireAuthError
}

const claim = (value: string) => ({ type: 'role', value })

beforeEach(async () => {
  base = mkdtempSync(join(tmpdir(), 'wire-auth-faults-'))
  dir = join(base, 'data')
  path = join(dir, 'auth.sqlite')
  store = new SqliteAuthStore({ path })
  await store.init()
})

afterEach(async () => {
  await store.close()
  rmSync(base, { recursive: true, force: true })
})

describe('SqliteAuthStore file faults', () => {
  it('directory renamed away: ERR_STORE_UNAVAILABLE; renamed back: works, nothing lost', async () => {
    const user = await store.createUser({ email: 'a@example.test', name: 'A', passwordHash: null })
    await store.addClaim(user.id, claim('before'))
    renameSync(dir, join(base, 'moved'))

    const err = await unavailable(store.addClaim(user.id, claim('during')))
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOENT')
    await unavailable(store.getUser(user.id))
    await unavailable(store.ping())
    expect(existsSync(dir)).toBe(false)

    renameSync(join(base, 'moved'), dir)
    await store.ping()
    const back = (await store.addClaim(user.id, claim('after'))).user
    expect(back.claims).toEqual([claim('before'), claim('after')])
    expect(back.version).toBe(3)
  })

  it('database file moved away: stays unavailable without creating an empty database; moved back: works', async () => {
    const user = await store.createUser({ email: 'a@example.test', name: 'A', passwordHash: null })
    await store.addClaim(user.id, claim('in-wal'))
    renameSync(path, `${path}.aside`)

    for (let i = 0; i < 3; i++) await unavailable(store.getUser(user.id))
    await unavailable(store.createUser({ email: 'b@example.test', name: 'B', passwordHash: null }))
    expect(existsSync(path)).toBe(false)

    renameSync(`${path}.aside`, path)
    expect((await store.getUser(user.id))!.claims).toEqual([claim('in-wal')])
    expect(await store.getUserByEmail('b@example.test')).toBeNull()
  })

  it('database deleted, then restored from a backup: unavailable meanwhile, the backup afterwards', async () => {
    const kept = await store.createUser({ email: 'kept@example.test', name: 'K', passwordHash: null })
    await store.close()
    const backup = join(base, 'backup.sqlite')
    copyFileSync(path, backup)
    await store.init()
    const lost = await store.createUser({ email: 'lost@example.test', name: 'L', passwordHash: null })

    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
    await unavailable(store.getUser(kept.id))
    await unavailable(store.init())
    expect(existsSync(path)).toBe(false)

    copyFileSync(backup, path)
    expect(await store.getUser(kept.id)).toEqual(kept)
    expect(await store.getUser(lost.id)).toBeNull()
    await store.addClaim(kept.id, claim('after-restore'))
  })

  it('file replaced by another database while open: the store switches to the file now at the path', async () => {
    const other = new SqliteAuthStore(join(base, 'other.sqlite'))
    await other.init()
    const stranger = await other.createUser({ email: 's@example.test', name: 'S', passwordHash: null })
    await other.close()
    const mine = await store.createUser({ email: 'm@example.test', name: 'M', passwordHash: null })

    renameSync(join(base, 'other.sqlite'), path)
    rmSync(`${path}-wal`, { force: true })
    rmSync(`${path}-shm`, { force: true })
    expect(await store.getUser(stranger.id)).toEqual(stranger)
    expect(await store.getUser(mine.id)).toBeNull()
  })

  it('a corrupt file answers ERR_STORE_UNAVAILABLE; a good file put in its place works', async () => {
    await store.close()
    const corrupt = join(base, 'corrupt.sqlite')
    writeFileSync(corrupt, Buffer.alloc(8192, 0x5a))
    const broken = new SqliteAuthStore(corrupt)
    try {
      const err = await unavailable(broken.init())
      expect(String((err.cause as { code?: unknown }).code)).toMatch(/^SQLITE_(NOTADB|CORRUPT)/)
      await unavailable(broken.ping())
      copyFileSync(path, corrupt)
      await broken.ping()
      expect(await broken.listUsers()).toEqual([])
    } finally {
      await broken.close()
    }
  })

  it('a -wal file without its database is refused at first open instead of replayed into a new file', async () => {
    await store.createUser({ email: 'a@example.test', name: 'A', passwordHash: null })
    const orphan = join(base, 'orphan')
    mkdirSync(orphan)
    // A database that was deleted while its WAL still held committed pages.
    writeFileSync(join(orphan, 'auth.sqlite-wal'), Buffer.alloc(4096, 1))
    const fresh = new SqliteAuthStore(join(orphan, 'auth.sqlite'))
    try {
      await unavailable(fresh.init())
      expect(existsSync(join(orphan, 'auth.sqlite'))).toBe(false)
    } finally {
      await fresh.close()
    }
  })

  it.skipIf(process.getuid?.() === 0)('an unreadable directory (chmod 000, non-root only) answers ERR_STORE_UNAVAILABLE until readable again', async () => {
    const user = await store.createUser({ email: 'a@example.test', name: 'A', passwordHash: null })
    chmodSync(dir, 0o000)
    try {
      await unavailable(store.getUser(user.id))
    } finally {
      chmodSync(dir, 0o755)
    }
    expect(await store.getUser(user.id)).toEqual(user)
  })
})
