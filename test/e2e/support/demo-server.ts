import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import { launchChromium } from './browser.js'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

/** A running `node demo/server.mjs` with its own data directory. */
export interface DemoServer {
  /** The backend and demo site, e.g. `http://localhost:41234`. */
  url: string
  /** The partner site on a second origin (`http://localhost:<other port>`). */
  hostUrl: string
  /** The captured-mail page (`…/dev/mail`) the demo prints in development; null when it runs without one. */
  mailPage: string | null
  /** The admin account created at first start. */
  admin: { email: string; password: string }
  /** Everything the process printed so far (stdout and stderr). */
  output(): string
  stop(): Promise<void>
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/**
 * Starts the demo exactly as `npm start` does after the build, on free
 * loopback ports and a temporary data directory, and waits for the URL it
 * prints. `env` adds variables (e.g. `NODE_ENV: 'production'`).
 */
export async function startDemo(options: { env?: Record<string, string> } = {}): Promise<DemoServer> {
  try {
    return await startDemoOnce(options, STALL_MS)
  } catch (err) {
    if (!(err instanceof DemoStalled)) throw err
    // Known and not yet diagnosed (closing note of the fifth session): about one start in 150 stalls
    // here. Said loudly, with the last start-up step the demo reached, then started once more.
    console.warn(`wire-auth e2e: ${err.message}\nstarting the demo once more`)
    return startDemoOnce(options, 60_000)
  }
}

/** A normal start takes about 2 s here; a stall is given this long before it is reported. */
const STALL_MS = 30_000

class DemoStalled extends Error {}

async function startDemoOnce(options: { env?: Record<string, string> }, stallMs: number): Promise<DemoServer> {
  if (!existsSync(join(ROOT, 'packages/server/dist/index.js')) || !existsSync(join(ROOT, 'packages/elements/dist/wire-auth.js'))) {
    throw new Error('the packages are not built: run `npm run build` first (npm test does)')
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'wire-auth-e2e-'))
  // E2E_DEMO_SCRIPT: run another entry point (a patched copy while debugging).
  const child = spawn(process.execPath, [process.env.E2E_DEMO_SCRIPT ?? 'demo/server.mjs'], {
    cwd: ROOT,
    // DEMO_TRACE_STARTUP: a start that stalls shows the last step it reached in the error below.
    env: { ...process.env, PORT: '0', DEMO_OIDC_PORT: '0', DEMO_HOST_PORT: '0', DEMO_DATA_DIR: dataDir, DEMO_TRACE_STARTUP: '1', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      if (!(await waitForExit(child, 5000))) {
        child.kill('SIGKILL')
        await waitForExit(child, 5000)
      }
    }
    rmSync(dataDir, { recursive: true, force: true })
  }

  try {
    const started = Date.now()
    for (;;) {
      const url = /running at (http:\/\/\S+)/.exec(output)?.[1]
      const hostUrl = /Partner site \(other origin\): (http:\/\/\S+)/.exec(output)?.[1]
      // The password is no longer printed (only saved, 0600): read it from the file the output names.
      const saved = /password: in (\S+)/.test(output) || /password: \S+/.test(output)
      if (url !== undefined && hostUrl !== undefined && saved) {
        const file = readFileSync(join(dataDir, 'admin-credentials.txt'), 'utf8')
        const password = /^password:\s*(\S+)/m.exec(file)?.[1]
        if (password === undefined) throw new Error('admin-credentials.txt holds no password')
        const mailPage = /Captured mail \(development only\): (http:\/\/\S+)/.exec(output)?.[1] ?? null
        return { url, hostUrl, mailPage, admin: { email: 'admin@example.com', password }, output: () => output, stop }
      }
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`demo server exited (${child.exitCode ?? child.signalCode}):\n${output}`)
      if (Date.now() - started > stallMs) throw new DemoStalled(`demo server did not print its URL within ${stallMs / 1000} s:\n${output}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  } catch (err) {
    await stop()
    throw err
  }
}

/**
 * For the calling test file: the demo ({@link startDemo}) and Chromium, started
 * before its first test and stopped after its last. Read `demo` and `browser`
 * inside tests and hooks (they are set once the file's `beforeAll` ran).
 */
export function demoInChromium(): { demo: DemoServer; browser: Browser } {
  const running = {} as { demo: DemoServer; browser: Browser }
  beforeAll(async () => {
    running.demo = await startDemo()
    running.browser = await launchChromium()
  })
  afterAll(async () => {
    await running.browser?.close()
    await running.demo?.stop()
  })
  return running
}
