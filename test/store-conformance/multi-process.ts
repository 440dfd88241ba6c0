import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Claim } from '@wire-auth/core'
import { expect } from 'vitest'
import type { AuthStore } from '../../packages/server/src/lib/store/auth-store.js'
import { claimSet } from './harness.js'

const worker = fileURLToPath(new URL('./claim-worker.mjs', import.meta.url))
const dist = fileURLToPath(new URL('../../packages/server/dist/', import.meta.url))

/** Fails with a clear message when the built store the child processes import is missing. */
export function assertBuilt(file: string): void {
  if (!existsSync(`${dist}${file}`)) {
    throw new Error(`packages/server/dist/${file} is missing: the multi-process tests run the BUILT store in child processes — run npm run build first`)
  }
}

export interface ClaimWorkersOptions {
  store: { kind: 'sqlite'; path: string } | { kind: 'mongodb'; url: string; dbName: string }
  userId: string
  workers: number
  /** Each worker adds `count` claims ('new', 'w<k>-n<i>') and removes `count` ('old', 'w<k>-o<i>'). */
  count: number
}

/**
 * Starts `workers` node processes on the same store, releases them together
 * and returns the versions each one saw.
 */
export async function runClaimWorkers(options: ClaimWorkersOptions): Promise<number[][]> {
  const children = Array.from({ length: options.workers }, (_, k) => {
    const config = JSON.stringify({ ...options.store, userId: options.userId, worker: k, count: options.count })
    const child = spawn(process.execPath, [worker, config], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
    const ready = new Promise<void>((resolve, reject) => {
      const check = () => (out.includes('ready\n') ? resolve() : undefined)
      child.stdout.on('data', check)
      child.once('exit', (code) => reject(new Error(`worker ${k} exited (${code}) before it was ready: ${err}`)))
    })
    const done = new Promise<number[]>((resolve, reject) => {
      child.once('exit', (code) => {
        if (code !== 0) return reject(new Error(`worker ${k} exited with ${code}: ${err}`))
        const last = out.trim().split('\n').at(-1) ?? ''
        resolve((JSON.parse(last) as { versions: number[] }).versions)
      })
    })
    // Reported through `ready` / `done` when awaited; never unhandled.
    ready.catch(() => undefined)
    done.catch(() => undefined)
    return { child, ready, done }
  })
  try {
    await Promise.all(children.map((c) => c.ready))
    for (const c of children) c.child.stdin.write('go\n')
    return await Promise.all(children.map((c) => c.done))
  } finally {
    for (const c of children) if (c.child.exitCode === null) c.child.kill()
  }
}

/**
 * The whole multi-process check on an initialised store: 3 processes add and
 * remove 20 claims each on one user; the claims, the version (one bump per
 * change, none lost or merged) and the session snapshot end exactly right.
 */
export async function expectExactAcrossProcesses(store: AuthStore, spec: ClaimWorkersOptions['store'], workers = 3, count = 20): Promise<void> {
  const old: Claim[] = []
  for (let k = 0; k < workers; k++) for (let i = 0; i < count; i++) old.push({ type: 'old', value: `w${k}-o${i}` })
  const user = await store.createUser({ email: 'multi@example.test', name: 'Multi', passwordHash: null, claims: [{ type: 'keep', value: 'yes' }, ...old] })
  const now = Date.now()
  await store.createSession({ id: 's1', userId: user.id, name: user.name, claims: user.claims, userVersion: user.version, createdAt: now, lastSeenAt: now, idleExpiresAt: now + 600_000, absoluteExpiresAt: now + 600_000, ip: null, userAgent: null })

  const versions = await runClaimWorkers({ store: spec, userId: user.id, workers, count })

  const expected: Claim[] = [{ type: 'keep', value: 'yes' }]
  for (let k = 0; k < workers; k++) for (let i = 0; i < count; i++) expected.push({ type: 'new', value: `w${k}-n${i}` })
  const final = (await store.getUser(user.id))!
  expect(claimSet(final.claims)).toEqual(claimSet(expected))
  expect(final.version).toBe(user.version + workers * count * 2)
  expect(new Set(versions.flat()).size).toBe(workers * count * 2)
  const snapshot = (await store.getSession('s1'))!
  expect(snapshot.userVersion).toBe(final.version)
  expect(claimSet(snapshot.claims)).toEqual(claimSet(expected))
}
