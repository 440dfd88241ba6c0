import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import Database from 'better-sqlite3'
import { WireAuthError } from '@wire-auth/core'
import { SAFETY_NET_PAGES, watchWal } from './sqlite-checkpointer.js'
import { createStoreFile, ensureStoreDir, loosePermissions, type LoosePermission } from './sqlite-files.js'
import { SchemaTooNew, migrateSqlite } from './sqlite-schema.js'
import { prepareStatements, type SqliteStatements } from './sqlite-statements.js'
import { driverCode, storeConflict, storeUnavailable, userNotFound } from './store-errors.js'
import { codedError } from '../errors.js'

const STORE = 'SqliteAuthStore'

/** Longest pause between two attempts to get the write lock. */
const BUSY_MAX_WAIT_MS = 16

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Blocks the thread for `ms` (only at close, waiting for the checkpoint thread). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** Error codes after which the handle is closed and lazily reopened on the next call. */
const HANDLE_FAULT = /^SQLITE_(IOERR|CANTOPEN|READONLY|CORRUPT|NOTADB|PROTOCOL)/

/**
 * One better-sqlite3 handle with fault detection and lazy reopening.
 *
 * Recovery model:
 * - Before every call the path is `stat`-ed and compared with the file that
 *   was opened (device + inode). SQLite in WAL mode keeps writing to an open
 *   file that was renamed or deleted, so without this check a store whose
 *   file vanished would keep "working" against a ghost and lose every write
 *   at exit. When the path is gone or unreadable the handle is closed (SQLite
 *   then leaves the `-wal` file alone, so nothing is lost) and the call throws
 *   `ERR_STORE_UNAVAILABLE`. When the path now names another file (a restore),
 *   the handle is reopened on that file.
 * - Driver errors of the I/O family (`SQLITE_IOERR*`, `SQLITE_CANTOPEN`,
 *   `SQLITE_READONLY*`, `SQLITE_CORRUPT`, `SQLITE_NOTADB`) and a closed handle
 *   also close the handle; `SQLITE_BUSY` does not (it is contention).
 * - The first open in a process creates the file (and its directory). Every
 *   later reopen requires the file to exist: if the database was deleted the
 *   store keeps answering `ERR_STORE_UNAVAILABLE` until the file is put back,
 *   rather than silently starting over with an empty database. Restarting
 *   the process is the deliberate way to start from an empty file.
 * - A `-wal` file without its database is refused at first open too: SQLite
 *   would replay the old pages into the new file.
 * @internal
 */
export class SqliteConnection {
  readonly path: string
  private readonly busyTimeoutMs: number
  private readonly inMemory: boolean
  private db: Database.Database | null = null
  private statements: SqliteStatements | null = null
  private fileId: string | null = null
  /** A database was opened at `path` once: never create it again. */
  private established = false
  private closed = false
  /** Takes the file off the checkpoint thread. */
  private unwatch: (() => void) | null = null

  constructor(path: string, busyTimeoutMs: number) {
    this.inMemory = path === ':memory:' || path === '' || path.startsWith('file:')
    this.path = this.inMemory ? path : resolve(path)
    this.busyTimeoutMs = busyTimeoutMs
  }

  /**
   * Runs `fn` with the open handle and maps every failure to a coded error.
   * `fn` runs synchronously (better-sqlite3 is synchronous) and must touch
   * nothing but the database: when another process holds the write lock,
   * `fn` is run again once the lock is free.
   *
   * Waiting for the lock does not block the event loop: the handle's own
   * busy timeout is 0, and a call that meets `SQLITE_BUSY` is retried after
   * `setImmediate`, then after 1, 2, 4 … 16 ms, until `busyTimeoutMs` has
   * passed (then `ERR_STORE_UNAVAILABLE`). SQLite's busy handler would sleep
   * on the event loop instead — every socket of the worker would wait too.
   */
  run<T>(operation: string, fn: (s: SqliteStatements, db: Database.Database) => T): Promise<T> {
    try {
      const { s, db } = this.ready(operation)
      return Promise.resolve(fn(s, db))
    } catch (err) {
      if (driverCode(err) === 'SQLITE_BUSY' && this.busyTimeoutMs > 0) return this.retryBusy(operation, fn, Date.now() + this.busyTimeoutMs)
      return Promise.reject(this.translate(operation, err))
    }
  }

  /** Runs `fn` inside `BEGIN IMMEDIATE … COMMIT` (rolled back if it throws; run again after `SQLITE_BUSY`). */
  immediate<T>(operation: string, fn: (s: SqliteStatements, db: Database.Database) => T): Promise<T> {
    return this.run(operation, (s, db) => db.transaction(() => fn(s, db)).immediate())
  }

  private async retryBusy<T>(operation: string, fn: (s: SqliteStatements, db: Database.Database) => T, deadline: number): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await (attempt === 0 ? new Promise((resolve) => setImmediate(resolve)) : sleep(Math.min(BUSY_MAX_WAIT_MS, 2 ** (attempt - 1))))
      try {
        const { s, db } = this.ready(operation)
        return fn(s, db)
      } catch (err) {
        if (driverCode(err) !== 'SQLITE_BUSY' || Date.now() >= deadline) throw this.translate(operation, err)
      }
    }
  }

  /** Opens (or reopens) now. Used by `init()`; `close()` is undone by it. */
  open(): Promise<void> {
    this.closed = false
    return this.run('init', () => undefined)
  }

  close(): void {
    this.closed = true
    // Leave a complete database file behind (the checkpoint thread may still hold the -wal open).
    try {
      if (this.db !== null && !this.inMemory) {
        this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`)
        // While the thread is checkpointing, SQLite answers busy at once rather than waiting.
        const deadline = Date.now() + this.busyTimeoutMs
        while ((this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[])[0]?.busy === 1 && Date.now() < deadline) pause(1)
      }
    } catch {
      // busy or faulted: the -wal file keeps the commits; SQLite replays it at the next open
    }
    this.drop()
  }

  /** The directory, database, `-wal` and `-shm` files that group or others may reach (none in memory). */
  loosePermissions(): LoosePermission[] {
    return this.inMemory ? [] : loosePermissions(this.path)
  }

  private ready(operation: string): { s: SqliteStatements; db: Database.Database } {
    if (this.closed) throw storeUnavailable(STORE, operation, undefined, 'the store is closed')
    if (this.db !== null && this.statements !== null) {
      const now = this.currentFileId(operation)
      if (now === this.fileId) return { s: this.statements, db: this.db }
      // The path names another file now (restored from a backup): switch to it.
      this.drop()
    }
    return this.openHandle(operation)
  }

  /** `dev:ino` of the file at `path`; throws ERR_STORE_UNAVAILABLE (and drops the handle) when it is gone. */
  private currentFileId(operation: string): string | null {
    if (this.inMemory) return null
    try {
      const st = statSync(this.path)
      return `${st.dev}:${st.ino}`
    } catch (err) {
      this.drop()
      throw storeUnavailable(STORE, operation, err, 'the database file is missing or unreachable')
    }
  }

  private openHandle(operation: string): { s: SqliteStatements; db: Database.Database } {
    if (!this.inMemory && !this.established) {
      ensureStoreDir(this.path)
      if (!existsSync(this.path) && existsSync(`${this.path}-wal`) && statSync(`${this.path}-wal`).size > 0) {
        throw storeUnavailable(STORE, operation, undefined, 'found a -wal file without its database; restore the database or remove the stale -wal and -shm files')
      }
      // 0600 before SQLite sees it (SQLite would use 0644 minus the umask, and copies the mode to -wal / -shm).
      createStoreFile(this.path)
    }
    let db: Database.Database | null = null
    try {
      db = new Database(this.path, { fileMustExist: this.established && !this.inMemory, timeout: this.busyTimeoutMs })
      db.pragma(`busy_timeout = ${this.busyTimeoutMs}`)
      if (!this.inMemory) db.pragma('journal_mode = WAL')
      db.pragma('foreign_keys = ON')
      // WAL + NORMAL (SQLite's advice for WAL): never corrupts and survives a process crash; only a
      // power cut may lose the last commits. It takes an fsync off every write on the event loop.
      if (!this.inMemory) db.pragma('synchronous = NORMAL')
      migrateSqlite(db)
      // The migration above may wait for another process (SQLite's handler, at open only);
      // every later call waits for the lock in run() without blocking the event loop.
      db.pragma('busy_timeout = 0')
      const statements = prepareStatements(db)
      const fileId = this.currentFileId(operation)
      this.db = db
      this.statements = statements
      this.fileId = fileId
      this.established = true
      if (!this.inMemory) {
        // Checkpoints run on this process's checkpoint thread; SQLite's own only past the safety net.
        db.pragma(`wal_autocheckpoint = ${SAFETY_NET_PAGES}`)
        this.unwatch = watchWal(this.path)
      }
      return { s: statements, db }
    } catch (err) {
      try {
        db?.close()
      } catch {
        // the open failed already; the first error is the one to report
      }
      throw err
    }
  }

  private drop(): void {
    this.unwatch?.()
    this.unwatch = null
    const db = this.db
    this.db = null
    this.statements = null
    this.fileId = null
    if (db === null) return
    try {
      db.close()
    } catch {
      // closing a faulted handle may fail; it is unusable either way
    }
  }

  /** Maps a driver error to a coded error; closes the handle on I/O faults. */
  translate(operation: string, err: unknown): WireAuthError {
    if (err instanceof WireAuthError) return err
    if (err instanceof SchemaTooNew) return storeUnavailable(STORE, operation, err, err.message)
    const code = driverCode(err)
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return userNotFound(err)
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      return storeConflict(`${operation}: the record already exists`, err)
    }
    if (code !== undefined && code.startsWith('SQLITE_CONSTRAINT')) {
      return codedError('ERR_VALIDATION', `${operation}: the record is invalid (${code})`, { cause: err })
    }
    if (code !== undefined && HANDLE_FAULT.test(code)) this.drop()
    else if (err instanceof TypeError && /not open/i.test(err.message)) this.drop()
    else if (code === undefined && (err instanceof TypeError || err instanceof RangeError)) {
      // better-sqlite3 refuses values it cannot bind: bad input, not an outage
      return codedError('ERR_VALIDATION', `${operation}: a value has an unsupported type`, { cause: err })
    }
    return storeUnavailable(STORE, operation, err)
  }
}
