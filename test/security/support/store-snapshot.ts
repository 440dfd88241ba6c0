import Database from 'better-sqlite3'

/** Every table of the SQLite store, for before/after comparisons. */
const TABLES = ['users', 'user_claims', 'identities', 'sessions', 'refresh_tokens', 'signing_keys', 'revoked_tokens', 'failures', 'audit', 'secrets'] as const

export type StoreSnapshot = Record<(typeof TABLES)[number], unknown[]>

/**
 * Reads every row of every table of the store's SQLite file (read-only,
 * a second connection, as an operator would), in insertion order.
 */
export function storeSnapshot(sqlitePath: string): StoreSnapshot {
  const db = new Database(sqlitePath, { readonly: true, fileMustExist: true })
  try {
    const snapshot = {} as StoreSnapshot
    for (const table of TABLES) snapshot[table] = db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all()
    return snapshot
  } finally {
    db.close()
  }
}

/** Row counts per table. */
export function storeCounts(sqlitePath: string): Record<string, number> {
  const snapshot = storeSnapshot(sqlitePath)
  return Object.fromEntries(Object.entries(snapshot).map(([table, rows]) => [table, rows.length]))
}
