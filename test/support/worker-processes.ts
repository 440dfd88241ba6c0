import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CLI } from './cli.js'
import { cookieFrom } from './cookies.js'
import { SocketClient, type Message, type RenderedRegion } from './socket-client.js'

// Helpers of the multi-process tests (test/scale): `wire-auth serve`
// processes running the BUILT server with test/support/worker-config.mjs,
// plain HTTP on fresh connections, and `ws` clients that record messages.

export { CLI }
export const WORKER_CONFIG = fileURLToPath(new URL('./worker-config.mjs', import.meta.url))
/** Origin the clients send; the fixture config allows it. */
export const SITE = 'https://www.example.com'
/** Upper bound of any single wait in these tests. */
export const WAIT_MS = 20_000

/** Fails with a clear message when the built CLI is missing. */
export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error('packages/server/dist/cli.js is missing: the scale tests run the BUILT server — run `npm run build` first')
}

/** A temp folder removed by `cleanup()`. */
export function tempDir(prefix = 'wire-auth-scale-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** One `wire-auth serve` process (a single server, or the primary of `--workers N`). */
export interface ServeProcess {
  readonly child: ChildProcess
  readonly pid: number
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** stdout and stderr so far (for failure messages). */
  output(): string
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Sends `signal` and waits for the exit (SIGKILL after 5 s). */
  stop(signal?: NodeJS.Signals): Promise<void>
}

const spawned = new Set<ChildProcess>()
let exitHook = false

/** Pids a test saw (cluster workers): killed by {@link stopAll} too, in case a primary died first. */
export const extraPids = new Set<number>()

/** A started `wire-auth serve` process that may not be listening (yet, or ever). */
export type SpawnedServe = Omit<ServeProcess, 'url' | 'port'>

/** Spawns `wire-auth serve --config worker-config.mjs --port <port, default 0> [--workers n]` without waiting. */
export function spawnServe(env: Record<string, string>, options: { workers?: number; port?: number } = {}): SpawnedServe {
  assertBuilt()
  if (!exitHook) {
    exitHook = true
    process.once('exit', () => {
      for (const child of spawned) child.kill('SIGKILL')
      for (const pid of extraPids) tryKill(pid, 'SIGKILL')
    })
  }
  const args = [CLI, 'serve', '--config', WORKER_CONFIG, '--port', String(options.port ?? 0)]
  if (options.workers !== undefined) args.push('--workers', String(options.workers))
  const child = spawn(process.execPath, args, {
    env: { ...process.env, LOG_LEVEL: 'warn', WA_TEST_PARENT_PID: String(process.pid), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  spawned.add(child)
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-20_000)))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-20_000)))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      spawned.delete(child)
      resolve({ code, signal })
    })
  })
  return {
    child,
    pid: child.pid!,
    output: () => out,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return
      const timer = setTimeout(() => {
        console.warn(`serve ${child.pid} did not exit within 5 s of ${signal}: killing it`)
        child.kill('SIGKILL')
      }, 5000)
      child.kill(signal)
      await exited
      clearTimeout(timer)
    },
  }
}

/** {@link spawnServe}, then waits (bounded) until it prints its URL. */
export async function startServe(env: Record<string, string>, options: { workers?: number } = {}): Promise<ServeProcess> {
  const proc = spawnServe(env, options)
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not print its URL within ${WAIT_MS} ms:\n${proc.output()}`)), WAIT_MS)
      const check = () => {
        const match = /listening on (http:\/\/\S+)/.exec(proc.output())
        if (match) {
          clearTimeout(timer)
          resolve(match[1]!)
        }
      }
      proc.child.stdout!.on('data', check)
      void proc.exited.then(({ code, signal }) => {
        clearTimeout(timer)
        reject(new Error(`serve exited (${signal ?? code}) before listening:\n${proc.output()}`))
      })
    })
    return { ...proc, url, port: Number(new URL(url).port) }
  } catch (err) {
    await proc.stop('SIGKILL')
    throw err
  }
}

function tryKill(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal)
    return true
  } catch {
    return false
  }
}

/**
 * Starts `count` servers on the same `env` at once into `into` (the caller's
 * list, which its clean-up stops); throws the first failure after the others settled.
 */
export async function startServers(into: ServeProcess[], env: Record<string, string>, count = 2): Promise<void> {
  const started = await Promise.allSettled(Array.from({ length: count }, () => startServe(env)))
  for (const result of started) if (result.status === 'fulfilled') into.push(result.value)
  const failed = started.find((result) => result.status === 'rejected')
  if (failed) throw (failed as PromiseRejectedResult).reason
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  return tryKill(pid, 0 as unknown as NodeJS.Signals)
}

/** Stops every process started here (SIGTERM, SIGKILL after 5 s) and any pid in {@link extraPids}. */
export async function stopAll(processes: Iterable<SpawnedServe | undefined>): Promise<void> {
  await Promise.all([...processes].map((p) => p?.stop()))
  for (const pid of extraPids) tryKill(pid, 'SIGKILL')
  extraPids.clear()
}

export interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
  json: any
}

/**
 * One HTTP request on a fresh connection (no keep-alive: with `--workers`
 * every request may land on another worker). Sends `Origin: SITE`.
 */
export function http(base: string, method: string, path: string, options: { body?: unknown; cookie?: string; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
  const headers: Record<string, string> = { origin: SITE, ...options.headers }
  if (payload !== undefined) headers['content-type'] = 'application/json'
  if (options.cookie !== undefined) headers.cookie = options.cookie
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method, headers, agent: false, timeout: WAIT_MS }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      res.on('end', () => {
        let json: unknown
        try {
          json = JSON.parse(body)
        } catch {
          json = undefined
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json })
      })
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)))
    req.on('error', reject)
    req.end(payload)
  })
}

/** The session cookie pair a response set, or throws. */
export function sessionCookie(answer: HttpAnswer, name = 'wa_sid'): string {
  const pair = cookieFrom(answer, name)
  if (pair !== null) return pair
  throw new Error(`no ${name} cookie in the answer (${answer.status} ${answer.body})`)
}

/** Creates a user through `base` and signs it in there; returns its id and session cookie. */
export async function signedInUser(base: string, name: string): Promise<{ id: string; cookie: string }> {
  const email = `${name.toLowerCase()}-${Math.random().toString(36).slice(2)}@example.com`
  const created = await http(base, 'POST', '/test/users', { body: { email, name } })
  if (created.status !== 200) throw new Error(`create user failed: ${created.status} ${created.body}`)
  const id = created.json.id as string
  const signedIn = await http(base, 'POST', `/test/sign-in/${id}`)
  if (signedIn.status !== 200) throw new Error(`sign-in failed: ${signedIn.status} ${signedIn.body}`)
  return { id, cookie: sessionCookie(signedIn) }
}

export { byId, type Message, type RenderedRegion } from './socket-client.js'

/** One browser tab of a multi-process test: the shared test socket client. */
export type Tab = SocketClient
export const Tab = {
  /** Opens `ws://…/auth/live` of `base` with Origin SITE (and the cookie, if any). */
  open(base: string, cookie: string | undefined, label = base, extraHeaders: Record<string, string> = {}): Promise<Tab> {
    const headers: Record<string, string> = { origin: SITE, ...extraHeaders }
    if (cookie !== undefined) headers.cookie = cookie
    return SocketClient.connect(`${base.replace(/^http/, 'ws')}/auth/live`, headers, { handshakeTimeout: WAIT_MS }, label)
  },
}

/** The regions the scale tests mount: BetaOnly, signed in, and the worker's pid (public). */
export const MOUNT = {
  t: 'mount',
  regions: [
    { id: 'beta', fragment: 'beta-panel' },
    { id: 'acct', fragment: 'account' },
    { id: 'pid', fragment: 'worker' },
  ],
}

/** Opens a tab, reads its principal, mounts {@link MOUNT} and returns it with the first render by id. */
export async function mountedTab(base: string, cookie: string | undefined, label?: string): Promise<{ tab: Tab; principal: Message; regions: Record<string, RenderedRegion> }> {
  const tab = await Tab.open(base, cookie, label)
  const principal = await tab.next('principal')
  tab.send(MOUNT)
  return { tab, principal, regions: await tab.regions() }
}

/** Polls `probe` every 100 ms until it returns a value other than undefined (bounded by `timeoutMs`). */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Pids written by the fixture config into `WA_TEST_PID_DIR` (every process that loaded it). */
export function pidsIn(pidDir: string): number[] {
  return readdirSync(pidDir)
    .filter((name) => name.endsWith('.pid'))
    .map((name) => Number(name.slice(0, -4)))
}
