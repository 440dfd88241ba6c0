import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { Redis } from 'ioredis'
import type { AuthEvent } from '../src/lib/channel/auth-channel.js'
import type { ChannelLogger } from '../src/redis.js'

/** The shared Redis of the test machine. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A channel name no other test (file or run) uses. */
export function uniqueChannel(label: string): string {
  return `wire-auth:test:${label}:${randomBytes(6).toString('hex')}`
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error'
  obj: Record<string, unknown>
  msg: string | undefined
}

/** A logger that keeps every line, to assert on codes and on what is never logged. */
export function memoryLogger(): { logger: ChannelLogger; lines: LogLine[]; text(): string } {
  const lines: LogLine[] = []
  const at = (level: LogLine['level']) => (obj: Record<string, unknown>, msg?: string) => {
    lines.push({ level, obj, msg })
  }
  return {
    logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    lines,
    text: () => lines.map((line) => `${line.level} ${line.msg} ${JSON.stringify(line.obj)}`).join('\n'),
  }
}

/** Collects the events a channel delivers. */
export function recorder(): { events: AuthEvent[]; listener(event: AuthEvent): void } {
  const events: AuthEvent[] = []
  return { events, listener: (event) => void events.push(event) }
}

/** A plain client for publishing by hand (as a foreign or broken worker would). */
export function rawClient(url = REDIS_URL): Redis {
  return new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 })
}

/** Strips `origin` so events compare by content. */
export function withoutOrigin(event: AuthEvent): Omit<AuthEvent, 'origin'> {
  const { origin: _origin, ...rest } = event
  return rest
}

/** The server's `src/` folder: `resolveDir` of a bundled script, which imports modules by absolute path below it. */
export const SERVER_SRC = fileURLToPath(new URL('../src/', import.meta.url))

/**
 * Bundles `script` (TypeScript) to CommonJS with ioredis bundled in, so that it
 * runs with plain node from a temp dir. A script imports the channel module
 * itself: the public entry checks the optional peer with a top-level await, which CJS lacks.
 */
export async function bundleScript(script: string, outfile: string): Promise<void> {
  await build({
    stdin: { contents: script, loader: 'ts', resolveDir: SERVER_SRC, sourcefile: 'close-script.ts' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    alias: { '@wire-auth/core': fileURLToPath(new URL('../../core/src/index.ts', import.meta.url)) },
    logLevel: 'silent',
  })
}

/**
 * Runs `file` with plain node and `env` added to this process's environment,
 * until it exits by itself; after 20 s it is killed and `killed` is true
 * (a liveness bound, not a timing assertion: a hung process is the failure).
 */
export async function runUntilExit(file: string, env: Record<string, string>): Promise<{ code: number | null; killed: boolean; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  let killed = false
  const guard = setTimeout(() => {
    killed = true
    child.kill('SIGKILL')
  }, 20_000)
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)))
  clearTimeout(guard)
  return { code, killed, stdout, stderr }
}
