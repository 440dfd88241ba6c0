// The built `wire-auth` bin of @wire-auth/server, run as a user runs it
// (`npm test` builds first): one home for the CLI tests' spawn helpers.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll } from 'vitest'

/** Path of the built bin. */
export const CLI = fileURLToPath(new URL('../../packages/server/dist/cli.js', import.meta.url))

const run = promisify(execFile)

/** How a run of the bin ended; a non-zero exit is a result, not a throw. */
export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `wire-auth …args` to its end in `cwd`, with `env` over this process's environment. */
export async function runCli(args: string[], { cwd, env = {} }: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env } })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

/**
 * For the calling test file: a temp folder made before its first test (which
 * fails at once when the bin is not built) and removed after its last. Read
 * `dir` inside tests and hooks.
 */
export function cliTempDir(prefix: string): { readonly dir: string } {
  let dir: string | null = null
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error('packages/server/dist/cli.js is missing: run `npm run build` first')
    dir = mkdtempSync(join(tmpdir(), prefix))
  })
  afterAll(() => {
    if (dir !== null) rmSync(dir, { recursive: true, force: true })
  })
  return {
    get dir() {
      if (dir === null) throw new Error('cliTempDir: read outside the tests of its file')
      return dir
    },
  }
}
