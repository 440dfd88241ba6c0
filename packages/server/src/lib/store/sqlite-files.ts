import { closeSync, constants, mkdirSync, openSync, statSync } from 'node:fs'
import { dirname } from 'node:path'

/** Mode of the directory that holds the database when the store creates it. */
export const STORE_DIR_MODE = 0o700
/** Mode of the database file (SQLite gives its `-wal` and `-shm` files the same mode). */
export const STORE_FILE_MODE = 0o600

/**
 * A store file or directory that group or others may reach.
 * Reported at start-up (`ERR_STORE_PERMISSIONS` log line), never changed:
 * the operator may have a reason (a backup group) and decides.
 */
export interface LoosePermission {
  /** Absolute path of the file or directory. */
  path: string
  /** Its permission bits (`mode & 0o777`). */
  mode: number
  /** The most this path should allow (`0o700` for the directory, `0o600` for files). */
  expected: number
}

/** Creates the store's directory (and its parents) 0700 when missing. @internal */
export function ensureStoreDir(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: STORE_DIR_MODE })
}

/**
 * Creates an empty database file (0600) before SQLite opens it. The database holds the cookie secret and the token
 * signing keys; SQLite would create it with 0644 minus the umask — readable
 * by every local account — and copies the database's mode onto its `-wal`
 * and `-shm` files. An existing directory or file is left as it is (see
 * {@link loosePermissions}).
 * @internal
 */
export function createStoreFile(path: string): void {
  let fd: number
  try {
    // O_EXCL: never follow or truncate a file someone else put there first.
    fd = openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR | constants.O_NOFOLLOW, STORE_FILE_MODE)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return
    throw err
  }
  closeSync(fd)
}

/**
 * The store's directory, database, `-wal` and `-shm` files that group or
 * others may read, write or enter (missing files are skipped).
 * @internal
 */
export function loosePermissions(path: string): LoosePermission[] {
  const found: LoosePermission[] = []
  const check = (p: string, expected: number): void => {
    let mode: number
    try {
      mode = statSync(p).mode & 0o777
    } catch {
      return
    }
    if ((mode & ~expected & 0o777) !== 0) found.push({ path: p, mode, expected })
  }
  check(dirname(path), STORE_DIR_MODE)
  for (const suffix of ['', '-wal', '-shm']) check(`${path}${suffix}`, STORE_FILE_MODE)
  return found
}

/** `0o644` → `"0644"` for log lines and messages. @internal */
export function formatMode(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`
}
