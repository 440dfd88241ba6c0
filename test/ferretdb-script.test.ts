import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { MongoClient } from 'mongodb'
import { describe, expect, it } from 'vitest'

// scripts/ferretdb.mjs as developers and CI use it: `start` prints the
// exports, the server answers ping, `stop` ends the process and deletes its
// temp dir. Needs the FerretDB binary, which `npm test` / `.ci/run` install;
// a plain `npx vitest run` on a machine without it skips, saying why.
const run = promisify(execFile)
const script = fileURLToPath(new URL('../scripts/ferretdb.mjs', import.meta.url))
const { ferretdbBinary } = (await import(script)) as { ferretdbBinary: () => string }
const ci = (process.env.CI ?? '') !== '' && process.env.CI !== 'false' && process.env.CI !== '0'
const suite = existsSync(ferretdbBinary()) || ci ? describe : describe.skip

suite('scripts/ferretdb.mjs', () => {
  it('start answers ping at the printed MONGODB_URL; stop ends the process and deletes its dir', async () => {
    const started = await run(process.execPath, [script, 'start'], { timeout: 60_000 })
    const exports = /^export MONGODB_URL='([^']+)' FERRETDB_DIR='([^']+)'$/m.exec(started.stdout)
    expect(exports, started.stdout + started.stderr).not.toBeNull()
    const [, url, dir] = exports!
    const pid = Number(/\(pid (\d+)\)/.exec(started.stderr)?.[1])
    try {
      const client = new MongoClient(url!, { serverSelectionTimeoutMS: 5000 })
      try {
        expect((await client.db('admin').command({ ping: 1 })).ok).toBe(1)
        expect((await client.db('admin').command({ buildInfo: 1 })).ferretdbVersion).toBe('v1.24.2')
      } finally {
        await client.close()
      }
    } finally {
      await run(process.execPath, [script, 'stop', dir!], { timeout: 30_000 })
    }
    expect(existsSync(dir!)).toBe(false)
    expect(() => process.kill(pid, 0)).toThrow()
  }, 90_000)

  it('an unknown command prints the usage and exits with 2', async () => {
    const failed = await run(process.execPath, [script, 'launch']).then(
      () => null,
      (err: { code?: number; stderr?: string }) => err,
    )
    expect(failed?.code).toBe(2)
    expect(failed?.stderr).toContain('usage:')
  })
})
