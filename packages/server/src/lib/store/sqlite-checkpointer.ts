import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/**
 * WAL checkpoints off the event loop.
 *
 * In WAL mode every commit appends pages to the `-wal` file, and by default
 * the commit that takes the WAL past 1,000 pages also copies them back into
 * the database and fsyncs both files — on the thread that committed. On a
 * server that is the event loop: measured here, one claim change in ~85
 * (10 sessions per user) stalled for 4–12 ms, which is the p99 of every
 * socket of that worker.
 *
 * So each process runs one small worker thread that holds its own
 * connection to every open database file and runs
 * `PRAGMA wal_checkpoint(PASSIVE)` every {@link CHECKPOINT_INTERVAL_MS}
 * (PASSIVE never blocks readers or writers; with nothing new it returns at
 * once), and `RESTART` when the WAL has grown past {@link RESTART_FRAMES}
 * (writers then wait for the lock in `SqliteConnection.run` without
 * blocking their event loop). The store's own connections keep SQLite's
 * automatic checkpoint only as a safety net at {@link SAFETY_NET_PAGES}
 * pages, should the thread fall behind or die.
 *
 * The thread applies the store's fault rule too: it checkpoints only into
 * the file it opened, re-`stat`s the path first, and lets go of the file
 * when the path is gone or names another file (see `SqliteConnection`).
 * @internal
 */
export const CHECKPOINT_INTERVAL_MS = 100

/** `wal_autocheckpoint` of the store's own connections (pages of 4 KiB: 40 MiB of WAL). */
export const SAFETY_NET_PAGES = 10_000

/** WAL frames (pages) past which the thread restarts the WAL: ~8 MiB. */
export const RESTART_FRAMES = 2_000

/** How long the thread waits for a writer before a RESTART checkpoint gives up until its next turn. */
const RESTART_WAIT_MS = 50

/** How long the thread outlives its last file (stores are often closed and reopened, e.g. in tests). */
const IDLE_EXIT_MS = 2_000

// A CommonJS script run with `eval: true`, so the same code serves the
// compiled package and the TypeScript sources under test.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { statSync } = require('node:fs')
const Database = require(workerData.driver)
const files = new Map()
function identity(path) {
  try {
    const st = statSync(path)
    return st.dev + ':' + st.ino
  } catch {
    return null
  }
}
function release(file) {
  if (file.db === null) return
  try { file.db.close() } catch {}
  file.db = null
  file.id = null
}
function checkpoint() {
  for (const [path, file] of files) {
    const id = identity(path)
    if (file.db !== null && file.id !== id) release(file)
    if (id === null) continue
    try {
      if (file.db === null) {
        file.db = new Database(path, { fileMustExist: true, timeout: workerData.restartWaitMs })
        file.id = id
      }
      // PASSIVE copies what it can without waiting for anyone. Under steady writes
      // it never catches up with the newest frame, so the WAL could never start
      // over: past restartFrames, RESTART waits (here, off the event loop) for the
      // writer of the moment, checkpoints everything, and lets the next commit
      // write from the start of the file again. Writers meanwhile wait in run().
      const [result] = file.db.pragma('wal_checkpoint(PASSIVE)')
      if (result && result.log > workerData.restartFrames) file.db.pragma('wal_checkpoint(RESTART)')
    } catch (err) {
      // SQLITE_BUSY: another connection is checkpointing; anything else: let go and reopen next time.
      if (!String(err && err.code).startsWith('SQLITE_BUSY')) release(file)
    }
  }
}
parentPort.on('message', (message) => {
  if (message.t === 'add' && !files.has(message.path)) files.set(message.path, { db: null, id: null })
  if (message.t === 'remove') {
    const file = files.get(message.path)
    if (file !== undefined) release(file)
    files.delete(message.path)
  }
})
setInterval(checkpoint, workerData.intervalMs)
`

let worker: Worker | null = null
let idleTimer: ReturnType<typeof setTimeout> | null = null
const refs = new Map<string, number>()

function startWorker(): Worker {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const w = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { driver, intervalMs: CHECKPOINT_INTERVAL_MS, restartFrames: RESTART_FRAMES, restartWaitMs: RESTART_WAIT_MS },
  })
  // Never keeps the process alive; SQLite's safety-net checkpoint covers a thread that died.
  w.unref()
  w.on('error', () => {
    if (worker === w) worker = null
  })
  w.on('exit', () => {
    if (worker === w) worker = null
  })
  return w
}

/**
 * Adds a database file to this process's checkpoint thread; the returned
 * function removes it (files are counted: two stores on one path share it).
 * @internal
 */
export function watchWal(path: string): () => void {
  if (idleTimer !== null) {
    clearTimeout(idleTimer)
    idleTimer = null
  }
  const count = refs.get(path) ?? 0
  refs.set(path, count + 1)
  if (worker === null) {
    // First file, or the thread died: a new thread takes every file still open.
    worker = startWorker()
    for (const file of refs.keys()) worker.postMessage({ t: 'add', path: file })
  } else if (count === 0) {
    worker.postMessage({ t: 'add', path })
  }
  let done = false
  return () => {
    if (done) return
    done = true
    const left = (refs.get(path) ?? 1) - 1
    if (left > 0) {
      refs.set(path, left)
      return
    }
    refs.delete(path)
    worker?.postMessage({ t: 'remove', path })
    if (refs.size === 0 && idleTimer === null) {
      idleTimer = setTimeout(() => {
        idleTimer = null
        if (refs.size > 0 || worker === null) return
        void worker.terminate()
        worker = null
      }, IDLE_EXIT_MS)
      idleTimer.unref()
    }
  }
}
