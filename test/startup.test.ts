// Start-up safety (issue 12, item 8): a request arriving while a process
// starts never crashes it. `npm start` (demo/server.mjs) listens before its
// Fastify app is ready (to print the real port with PORT=0); probing
// /auth/me every few milliseconds from launch killed it with a TypeError in
// Fastify's hooks. Now it answers 503 ERR_NOT_READY, then 200s. Runs the built
// packages (npm test builds first).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from './support/free-port.mjs'
import { upgradeOutcome } from './support/socket-client.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

type Probe = { status: number; code?: string } | { refused: true }

function probe(port: number): Promise<Probe> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/auth/me', agent: false, timeout: 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => {
        let code: string | undefined
        try {
          code = (JSON.parse(body) as { error?: { code?: string } }).error?.code
        } catch {
          code = undefined
        }
        resolve({ status: res.statusCode ?? 0, code })
      })
      res.on('error', () => resolve({ status: -1 }))
    })
    // Not listening yet (ECONNREFUSED) or reset by a dying process: told apart by the exit check.
    req.on('error', () => resolve({ refused: true }))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

/** One socket upgrade attempt: 'open', the refusal status, or 'error'. */
function probeSocket(port: number): Promise<string> {
  return upgradeOutcome(`ws://127.0.0.1:${port}/auth/live`, { origin: `http://localhost:${port}`, handshakeTimeout: 5000 })
}

let child: ChildProcess | undefined
let dataDir: string | undefined
afterEach(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
  child = undefined
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true })
})

describe('npm start under requests from the first instant', () => {
  it('answers only 503 ERR_NOT_READY, then 200s, and never crashes (probing /auth/me and the socket)', async () => {
    const port = await freePort()
    dataDir = mkdtempSync(join(tmpdir(), 'wire-auth-startup-'))
    let output = ''
    child = spawn(process.execPath, ['demo/server.mjs'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DEMO_DATA_DIR: dataDir, DEMO_OIDC_PORT: '0', LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    let exit: { code: number | null; signal: string | null } | null = null
    child.on('exit', (code, signal) => (exit = { code, signal }))

    const statuses: number[] = []
    const codes = new Set<string>()
    const sockets = new Set<string>()
    let okInARow = 0
    const deadline = Date.now() + 60_000
    while (okInARow < 20 && Date.now() < deadline && exit === null) {
      // HTTP and an upgrade at once, as a reconnecting tab and a load balancer would.
      const [answer, socket] = await Promise.all([probe(port), probeSocket(port)])
      sockets.add(socket)
      if ('refused' in answer) continue
      statuses.push(answer.status)
      if (answer.status === 503 && answer.code !== undefined) codes.add(answer.code)
      okInARow = answer.status === 200 ? okInARow + 1 : 0
      await new Promise((resolve) => setTimeout(resolve, 5))
    }

    expect(exit, `the demo exited while starting:\n${output}`).toBeNull()
    expect(okInARow, `never became ready:\n${output}`).toBe(20)
    // Only 503s, then only 200s.
    expect(new Set(statuses)).toEqual(new Set(statuses.includes(503) ? [503, 200] : [200]))
    expect(statuses.slice(statuses.indexOf(200)).every((s) => s === 200)).toBe(true)
    for (const code of codes) expect(code).toBe('ERR_NOT_READY')
    // A socket attempt is refused (503) or opens; never hangs, never crashes the process.
    for (const outcome of sockets) expect(['503', 'open', 'error']).toContain(outcome)
    expect(sockets.has('open')).toBe(true)
  }, 90_000)
})
