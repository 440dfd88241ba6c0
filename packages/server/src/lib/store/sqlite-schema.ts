import type { Database } from 'better-sqlite3'

/**
 * Schema migrations of {@link SqliteAuthStore}. Entry `i` moves the database
 * from version `i` to `i + 1`; entries are never edited once released, new
 * ones are appended.
 * @internal
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT UNIQUE,
    name          TEXT,
    password_hash TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
  );
  CREATE INDEX users_created ON users (created_at, id);

  -- seq keeps the order claims were added in.
  CREATE TABLE user_claims (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type    TEXT NOT NULL,
    value   TEXT NOT NULL,
    UNIQUE (user_id, type, value)
  );

  CREATE TABLE identities (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
  );
  CREATE INDEX identities_user ON identities (user_id);

  -- claims is the JSON snapshot of the user's claims at user_version.
  CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                TEXT,
    claims              TEXT NOT NULL,
    user_version        INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    last_seen_at        INTEGER NOT NULL,
    idle_expires_at     INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    ip                  TEXT,
    user_agent          TEXT
  );
  CREATE INDEX sessions_user ON sessions (user_id, user_version);
  CREATE INDEX sessions_idle ON sessions (idle_expires_at);
  CREATE INDEX sessions_absolute ON sessions (absolute_expires_at);

  CREATE TABLE refresh_tokens (
    id         TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    revoked_at INTEGER
  );
  CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
  CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
  CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

  CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    private_jwk TEXT NOT NULL,
    public_jwk  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
  );

  CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_at);

  -- expires_at = at + the window the failure was counted in.
  CREATE TABLE failures (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    key        TEXT NOT NULL,
    at         INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX failures_key ON failures (key, at);
  CREATE INDEX failures_expires ON failures (expires_at);

  CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    id        TEXT NOT NULL UNIQUE,
    at        INTEGER NOT NULL,
    action    TEXT NOT NULL,
    actor_id  TEXT,
    target_id TEXT,
    detail    TEXT NOT NULL,
    ip        TEXT
  );
  CREATE INDEX audit_at ON audit (at, seq);
  CREATE INDEX audit_actor ON audit (actor_id, at);
  CREATE INDEX audit_target ON audit (target_id, at);
  CREATE INDEX audit_action ON audit (action, at);

  CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  // 2: "sign out everywhere" also cuts off access tokens issued before it.
  `
  ALTER TABLE users ADD COLUMN tokens_min_version INTEGER NOT NULL DEFAULT 0;
  `,
  // 3: refresh-token families end (F10); authorization codes (code flow + PKCE).
  `
  ALTER TABLE refresh_tokens ADD COLUMN family_expires_at INTEGER;
  CREATE TABLE authorization_codes (
    id             TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope          TEXT NOT NULL,
    nonce          TEXT,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER
  );
  CREATE INDEX authorization_codes_expires ON authorization_codes (expires_at);
  `,
  // 4: the provider payload of an OpenID sign-in, kept with its session (issue 16).
  `
  ALTER TABLE sessions ADD COLUMN provider TEXT;
  `,
  // 5: single-use tokens of the account flows (e-mail verification, password reset).
  `
  CREATE TABLE account_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    email      TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
  );
  CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);
  CREATE INDEX account_tokens_expires ON account_tokens (expires_at);
  `,
  // 6: passkeys (WebAuthn credentials).
  `
  CREATE TABLE passkeys (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    public_key   TEXT NOT NULL,
    counter      INTEGER NOT NULL,
    transports   TEXT NOT NULL,
    name         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
  );
  CREATE INDEX passkeys_user ON passkeys (user_id, created_at);
  `,
]

/** Thrown (and mapped to ERR_STORE_UNAVAILABLE) when the file was written by a newer wire-auth. */
export class SchemaTooNew extends Error {
  constructor(readonly found: number, readonly supported: number) {
    super(`the database schema version ${found} is newer than this wire-auth supports (${supported})`)
    this.name = 'SchemaTooNew'
  }
}

/**
 * Brings the schema to the newest version inside one `BEGIN IMMEDIATE`
 * transaction, so several processes opening the same new file at once
 * migrate it exactly once.
 * @internal
 */
export function migrateSqlite(db: Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)')
  const step = db.transaction(() => {
    const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined
    const current = row?.version ?? 0
    if (current > SQLITE_MIGRATIONS.length) throw new SchemaTooNew(current, SQLITE_MIGRATIONS.length)
    for (let v = current; v < SQLITE_MIGRATIONS.length; v++) db.exec(SQLITE_MIGRATIONS[v]!)
    if (row === undefined) db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SQLITE_MIGRATIONS.length)
    else if (current !== SQLITE_MIGRATIONS.length) db.prepare('UPDATE schema_version SET version = ?').run(SQLITE_MIGRATIONS.length)
  })
  step.immediate()
}
