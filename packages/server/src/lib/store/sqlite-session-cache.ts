import { deepFreeze } from '@wire-auth/core'
import type { SessionRecord } from './auth-store.js'
import type { SqliteStatements } from './sqlite-statements.js'

/** Sessions kept per process (oldest dropped first). */
const MAX_ENTRIES = 10_000

/**
 * The per-request session read of {@link SqliteAuthStore}, without its
 * SELECT while nothing was committed: session records kept in memory and
 * valid only as long as the database is byte-for-byte what they were read
 * from.
 *
 * The validity check runs on every read and is two cheap statements on the
 * same handle (≈ 2 µs against ≈ 8 µs for the row and its JSON here):
 * - `PRAGMA data_version` changes when *another* connection — another
 *   worker process, the CLI, a second store in this process — has committed
 *   anything since the last call; SQLite reads it from the WAL index, shared
 *   by every process that has the file open;
 * - `total_changes()` counts the rows this connection itself has written
 *   (SQLite's data_version deliberately ignores them).
 * When either moved, every entry is dropped before the read. So a
 * revocation, a sign-out, a claim change or a touch committed by any process
 * is seen by the next read of every worker exactly as without the cache:
 * the read is as fresh as a SELECT started at the same moment. The price is
 * that any write anywhere empties the cache; under a steady write rate it
 * holds fewer hits, never stale ones. A reopened handle (a restored file)
 * starts empty.
 *
 * Records handed out are frozen: callers share them.
 * @internal
 */
export class SqliteSessionCache {
  private readonly entries = new Map<string, SessionRecord>()
  private statements: SqliteStatements | null = null
  private dataVersion = -1
  private totalChanges = -1

  /** The session `id` through `s`, from memory when nothing changed since it was read. */
  read(s: SqliteStatements, id: string, load: () => SessionRecord | null): SessionRecord | null {
    const dataVersion = s.dataVersion.get() as number
    const totalChanges = s.totalChanges.get() as number
    if (s !== this.statements || dataVersion !== this.dataVersion || totalChanges !== this.totalChanges) {
      this.entries.clear()
      this.statements = s
      this.dataVersion = dataVersion
      this.totalChanges = totalChanges
    } else {
      const hit = this.entries.get(id)
      if (hit !== undefined) return hit
    }
    const record = load()
    if (record === null) return null
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string)
    const frozen = deepFreeze(record)
    this.entries.set(id, frozen)
    return frozen
  }

  /** Drops everything (the handle was closed). */
  clear(): void {
    this.entries.clear()
    this.statements = null
  }
}
