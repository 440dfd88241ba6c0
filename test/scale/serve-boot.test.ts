import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { alive, eventually, pidsIn, spawnServe, stopAll, tempDir, WAIT_MS, type SpawnedServe } from '../support/worker-processes.js'

// `wire-auth serve` must not hang or crash-loop when it cannot start: a store
// that fails at boot ends the process with a coded message and exit code 1,
// also with a Redis channel (whose reconnect timers used to keep the failed
// process alive forever) and also as the primary of `--workers`.

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

let dir: ReturnType<typeof tempDir>
let corrupt: string
const started: SpawnedServe[] = []

beforeAll(() => {
  dir = tempDir()
  corrupt = join(dir.dir, 'corrupt.sqlite')
  writeFileSync(corrupt, 'this is not an SQLite database '.repeat(200))
})

afterAll(async () => {
  await stopAll(started)
  dir?.cleanup()
})

async function exitOf(proc: SpawnedServe) {
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running after ${WAIT_MS} ms:\n${proc.output()}`)), WAIT_MS).unref())
  return Promise.race([proc.exited, timeout])
}

describe('serve with a store that cannot open', { timeout: 90_000 }, () => {
  it('exits 1 with the code and no stack trace, with a Redis channel configured', async () => {
    const proc = spawnServe({ WA_TEST_SQLITE: corrupt, WA_TEST_REDIS_URL: REDIS_URL })
    started.push(proc)
    expect(await exitOf(proc)).toEqual({ code: 1, signal: null })
    expect(proc.output()).toMatch(/wire-auth: ERR_STORE_UNAVAILABLE: /)
    expect(proc.output()).not.toMatch(/\n\s+at /)
  })

  it('exits 1 when the port is in use, with a Redis channel configured', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    try {
      const port = (blocker.address() as { port: number }).port
      const proc = spawnServe({ WA_TEST_SQLITE: join(dir.dir, 'ok.sqlite'), WA_TEST_REDIS_URL: REDIS_URL }, { port })
      started.push(proc)
      expect(await exitOf(proc)).toEqual({ code: 1, signal: null })
      expect(proc.output()).toMatch(/EADDRINUSE/)
    } finally {
      blocker.close()
    }
  })

  it('--workers 2: the primary stops instead of re-forking forever, and no worker is left', async () => {
    const pidDir = join(dir.dir, 'pids')
    mkdirSync(pidDir)
    const proc = spawnServe({ WA_TEST_SQLITE: corrupt, WA_TEST_PID_DIR: pidDir }, { workers: 2 })
    started.push(proc)
    expect(await exitOf(proc)).toEqual({ code: 1, signal: null })
    expect(proc.output()).toMatch(/before any worker was listening; stopping/)
    const workers = pidsIn(pidDir)
    expect(workers.length).toBeGreaterThanOrEqual(1)
    expect(workers.length).toBeLessThanOrEqual(2)
    for (const pid of workers) await eventually(`worker ${pid} gone`, async () => (alive(pid) ? undefined : true), 10_000)
  })
})
