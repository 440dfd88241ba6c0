import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.mjs'

/** A private `redis-server` on a loopback port, for outage tests. */
export interface RedisServerHandle {
  readonly port: number
  /** `redis://[:password@]127.0.0.1:<port>`. */
  readonly url: string
  readonly running: boolean
  /** Stops the server (SIGTERM by default); clients see the connection drop. */
  stop(signal?: NodeJS.Signals): Promise<void>
  /** Starts it again on the same port (empty: nothing is persisted). */
  start(): Promise<void>
  /** Stops it and removes its temp directory. Idempotent. */
  close(): Promise<void>
}

export interface RedisServerOptions {
  /** `requirepass` for the server; included in `url`. */
  password?: string
  /** Path of the binary. Default `redis-server` (from PATH). */
  binary?: string
}

const live = new Set<ChildProcess>()
let exitHookInstalled = false

/**
 * Starts `redis-server --save "" --appendonly no` bound to 127.0.0.1 on a
 * free port, in its own temp directory. Call `close()` in `afterAll`; a
 * process exit kills any server left behind.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  installExitHook()
  const dir = await mkdtemp(join(tmpdir(), 'wire-auth-redis-'))
  let child: ChildProcess | null = null
  let port = 0
  let closed = false

  const launch = async (): Promise<void> => {
    child = await spawnRedis(options, port, dir)
  }

  // Another process may take the free port before redis binds it: retry.
  for (let attempt = 1; ; attempt++) {
    port = await freePort()
    try {
      await launch()
      break
    } catch (err) {
      if (attempt >= 5) {
        await rm(dir, { recursive: true, force: true })
        throw err
      }
    }
  }

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const proc = child
    child = null
    if (proc) await stopRedisProcess(proc, signal)
  }

  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    get running() {
      return child !== null
    },
    stop,
    async start() {
      if (closed) throw new Error('redis-server handle is closed')
      if (child) return
      await launch()
    },
    async close() {
      if (closed) return
      closed = true
      await stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

function spawnRedis(options: RedisServerOptions, port: number, dir: string): Promise<ChildProcess> {
  const extra = options.password === undefined ? [] : ['--requirepass', options.password]
  return spawnRedisProcess(port, dir, extra, options.binary)
}

/**
 * Spawns one `redis-server` bound to 127.0.0.1:`port` with no persistence,
 * `dir` as its working directory and `extraArgs` appended (cluster options,
 * `requirepass`, …), and resolves once it logs "Ready to accept connections".
 * The process is killed when this process exits (or is killed). The one
 * place tests start a redis-server; `startRedisServer` and the Redis
 * Cluster helper build on it.
 */
export function spawnRedisProcess(port: number, dir: string, extraArgs: readonly string[] = [], binary = 'redis-server'): Promise<ChildProcess> {
  installExitHook()
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--logfile', '', ...extraArgs]
  const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(proc)
  const watchdog = startWatchdog(proc, port, dir)
  proc.once('exit', () => {
    live.delete(proc)
    watchdog?.kill('SIGKILL')
  })
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => fail(new Error(`redis-server ${port} did not become ready:\n${output}`)), 15_000)
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000)
      if (output.includes('Ready to accept connections')) {
        cleanup()
        // Keep draining so a full pipe never blocks the server.
        proc.stdout?.resume()
        proc.stderr?.resume()
        resolve(proc)
      }
    }
    const onExit = (code: number | null): void => fail(new Error(`redis-server ${port} exited (${code}) before ready:\n${output}`))
    const onError = (err: Error): void => fail(err)
    function fail(err: Error): void {
      cleanup()
      proc.kill('SIGKILL')
      reject(err)
    }
    function cleanup(): void {
      clearTimeout(timer)
      proc.stdout?.off('data', onData)
      proc.stderr?.off('data', onData)
      proc.off('exit', onExit)
      proc.off('error', onError)
    }
    proc.stdout?.on('data', onData)
    proc.stderr?.on('data', onData)
    proc.once('exit', onExit)
    proc.once('error', onError)
  })
}

/**
 * The test runner may kill its worker with a signal, which skips 'exit'
 * hooks. A tiny shell loop then kills the server once this process is gone
 * (after checking the pid still is that server, against pid reuse) and
 * removes its directory.
 */
function startWatchdog(proc: ChildProcess, port: number, dir: string): ChildProcess | null {
  if (proc.pid === undefined || process.platform !== 'linux') return null
  const script = [
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`,
    `tr '\\0' ' ' < /proc/${proc.pid}/cmdline 2>/dev/null | grep -q '127.0.0.1:${port}' && kill -9 ${proc.pid}`,
    `rm -rf '${dir}'`,
  ].join('\n')
  const watchdog = spawn('sh', ['-c', script], { stdio: 'ignore' })
  watchdog.unref()
  return watchdog
}

/** Sends `signal` (SIGKILL after 5 s) and resolves once `proc` has exited. */
export function stopRedisProcess(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000)
    proc.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    proc.kill(signal)
  })
}

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const proc of live) proc.kill('SIGKILL')
  })
}
