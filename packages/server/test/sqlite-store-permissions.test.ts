import { randomUUID } from 'node:crypto'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { connectAuth } from '../src/index.js'
import { SqliteAuthStore } from '../src/lib/store/sqlite-store.js'

// F1 / checklist 26: the SQLite store holds the token signing private keys
// and the cookie secret. Tests run as root, where a mode never denies access,
// so modes are read with stat, not probed by opening the files.

const modeOf = (path: string): number => statSync(path).mode & 0o777

let base: string

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'wire-auth-perms-'))
})

afterEach(() => {
  rmSync(base, { recursive: true, force: true })
})

/** Opens the store, writes enough to create the -wal and -shm files, and leaves it open. */
async function openAndWrite(path: string): Promise<SqliteAuthStore> {
  const store = new SqliteAuthStore(path)
  await store.init()
  await store.getSecret('cookie-signing', () => 'x'.repeat(43))
  await store.createUser({ email: `${randomUUID()}@example.com`, name: 'Ada' })
  return store
}

describe('store files at rest (F1)', () => {
  it('store files readable by other local accounts: a new directory is 0700, the database, -wal and -shm are 0600', async () => {
    const dir = join(base, 'nested', 'data')
    const path = join(dir, 'auth.sqlite')
    const store = await openAndWrite(path)
    try {
      expect(modeOf(dir)).toBe(0o700)
      expect(modeOf(join(base, 'nested'))).toBe(0o700)
      expect(modeOf(path)).toBe(0o600)
      expect(modeOf(`${path}-wal`)).toBe(0o600)
      expect(modeOf(`${path}-shm`)).toBe(0o600)
      expect(store.loosePermissions()).toEqual([])
    } finally {
      await store.close()
    }
  })

  it('store files readable by other local accounts: files are 0600 also in a directory that already exists', async () => {
    const dir = join(base, 'existing')
    mkdirSync(dir, { mode: 0o755 })
    chmodSync(dir, 0o755)
    const path = join(dir, 'auth.sqlite')
    const store = await openAndWrite(path)
    try {
      expect(modeOf(path)).toBe(0o600)
      expect(modeOf(`${path}-wal`)).toBe(0o600)
      expect(modeOf(`${path}-shm`)).toBe(0o600)
      // An existing directory is the operator's: reported, not changed.
      expect(modeOf(dir)).toBe(0o755)
      expect(store.loosePermissions()).toEqual([{ path: dir, mode: 0o755, expected: 0o700 }])
    } finally {
      await store.close()
    }
  })

  it('looser files made before (an older version, by hand) are reported, never silently changed', async () => {
    const path = join(base, 'auth.sqlite')
    chmodSync(base, 0o700)
    const first = await openAndWrite(path)
    await first.close()
    chmodSync(path, 0o644)
    const store = await openAndWrite(path)
    try {
      expect(modeOf(path)).toBe(0o644)
      expect(store.loosePermissions().map((l) => [l.path, l.mode, l.expected])).toContainEqual([path, 0o644, 0o600])
    } finally {
      await store.close()
    }
  })

  it('start-up warns with a coded log line when the store is looser', async () => {
    const dir = join(base, 'loose')
    mkdirSync(dir)
    chmodSync(dir, 0o755)
    const path = join(dir, 'auth.sqlite')
    const lines: Record<string, unknown>[] = []
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
        done()
      },
    })
    const app = Fastify({ logger: { level: 'warn', stream } })
    await connectAuth(app, { sqlitePath: path })
    await app.ready()
    await app.close()
    const warnings = lines.filter((l) => l.code === 'ERR_STORE_PERMISSIONS')
    expect(warnings).toEqual([expect.objectContaining({ path: dir, mode: '0755', expected: '0700' })])
    // The files the store created itself are tight, so only the directory is named.
    expect(modeOf(path)).toBe(0o600)
  })
})
