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
 * (PASSIVE never blocks readers or writers), and `RESTART` when the WAL has grown past {@link RESTART_FRAMES}
 * (writers then wait for the lock in `SqliteConnection.run` without
 * blocking their event loop). The store's own connections keep SQLite's
 * automatic checkpoint only as a safety net at {@link SAFETY_NET_PAGES}
 * pages, should the thread fall behind or die.
 *
 * An idle database costs nothing: a turn first compares the `-wal` file's
 * size and modification time with the last checkpointed turn's and skips
 * the checkpoint when nothing was committed since and the last one copied
 * every frame, and turns that found nothing to do double the pause up to
 * {@link IDLE_MAX_INTERVAL_MS}. (Running PASSIVE every 100 ms on an idle file
 * cost ~2.7 ms of CPU per second per process — nearly all of an idle
 * server's CPU; a thread waking every 100 ms to do nothing still ~1.1 ms.)
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

/** The longest pause of the thread while nothing is committed (idle turns double the interval up to it). */
export const IDLE_MAX_INTERVAL_MS = 1_600

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
// Size and modification time (ns) of the -wal file: changes with every commit, not with a checkpoint.
function walStamp(path) {
  try {
    const st = statSync(path + '-wal', { bigint: true })
    return st.size + ':' + st.mtimeNs
  } catch {
    return null
  }
}
function release(file) {
  if (file.db === null) return
  try { file.db.close() } catch {}
  file.db = null
  file.id = null
  file.stamp = null
}
// True when a checkpoint ran on some file this turn.
function checkpoint() {
  let ran = false
  for (const [path, file] of files) {
    const id = identity(path)
    if (file.db !== null && file.id !== id) release(file)
    if (id === null) continue
    try {
      if (file.db === null) {
        file.db = new Database(path, { fileMustExist: true, timeout: workerData.restartWaitMs })
        file.id = id
      }
      // Taken before the checkpoint: a commit racing it changes the stamp, so the next turn runs again.
      const stamp = walStamp(path)
      if (stamp !== null && stamp === file.stamp) continue
      // PASSIVE copies what it can without waiting for anyone. Under steady writes
      // it never catches up with the newest frame, so the WAL could never start
      // over: past restartFrames, RESTART waits (here, off the event loop) for the
      // writer of the moment, checkpoints everything, and lets the next commit
      // write from the start of the file again. Writers meanwhile wait in run().
      const [result] = file.db.pragma('wal_checkpoint(PASSIVE)')
      if (result && result.log > workerData.restartFrames) file.db.pragma('wal_checkpoint(RESTART)')
      // Frames left behind (a reader held them): try again next turn even if nothing new is committed.
      file.stamp = result && result.checkpointed >= result.log ? stamp : null
      ran = true
      parentPort.postMessage({ t: 'checkpointed', path })
    } catch (err) {
      // SQLITE_BUSY: another connection is checkpointing; anything else: let go and reopen next time.
      if (!String(err && err.code).startsWith('SQLITE_BUSY')) release(file)
    }
  }
  return ran
}
parentPort.on('message', (message) => {
  if (message.t === 'add' && !files.has(message.path)) files.set(message.path, { db: null, id: null, stamp: null })
  if (message.t === 'remove') {
    const file = files.get(message.path)
    if (file !== undefined) release(file)
    files.delete(message.path)
  }
})
// Every wake-up of a thread costs ~0.1 ms of CPU here even when it does nothing, so idle turns back off
// (doubling up to idleMaxMs); a turn that checkpointed brings the interval back to intervalMs.
let delay = workerData.intervalMs
function turn() {
  delay = checkpoint() ? workerData.intervalMs : Math.min(delay * 2, workerData.idleMaxMs)
  setTimeout(turn, delay)
}
setTimeout(turn, delay)
`

let worker: Worker | null = null
/** Checkpoints the thread ran (not the idle turns it skipped), per path. @internal */
const checkpoints = new Map<string, number>()

/** How many checkpoints the thread ran on `path` (for tests). @internal */
export function checkpointCount(path: string): number {
  return checkpoints.get(path) ?? 0
}
let idleTimer: ReturnType<typeof setTimeout> | null = null
const refs = new Map<string, number>()

function startWorker(): Worker {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const w = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { driver, intervalMs: CHECKPOINT_INTERVAL_MS, idleMaxMs: IDLE_MAX_INTERVAL_MS, restartFrames: RESTART_FRAMES, restartWaitMs: RESTART_WAIT_MS },
  })
  w.on('message', (message: { t?: string; path?: string }) => {
    if (message?.t === 'checkpointed' && typeof message.path === 'string') checkpoints.set(message.path, (checkpoints.get(message.path) ?? 0) + 1)
  })
  w.on('error', () => {
    if (worker === w) worker = null
  })
  w.on('exit', () => {
    if (worker === w) worker = null
  })
  // Never keeps the process alive; SQLite's safety-net checkpoint covers a
  // thread that died. After the listeners: adding a 'message' listener refs
  // the worker again, which kept every process that had opened a store (each
  // CLI command, each script) alive until the thread's idle exit, 2 s later.
  w.unref()
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
