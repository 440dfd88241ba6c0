import cluster from 'node:cluster'
import { InvalidOption } from '@wire-auth/core'
import { ClusterAuthChannel, relayClusterEvent } from '../channel/cluster-channel.js'
import { createServer, type ServerConfig } from '../standalone.js'
import { configFrom } from './env-config.js'

/** Flags of `wire-auth serve`. @internal */
export interface ServeFlags {
  configFile?: string
  port?: string
  host?: string
  workers?: string
}

function intFlag(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidOption(`"--${name}" must be an integer from ${min} to ${max}`)
  return n
}

/**
 * Starts one server, or with `--workers N` a primary that runs N workers on
 * the same port (node:cluster) and replaces a worker that dies.
 * Returns -1: the process keeps running until a signal.
 * @internal
 */
export async function runServe(flags: ServeFlags): Promise<number> {
  const workers = intFlag(flags.workers, 'workers', 1, 64) ?? 1
  const port = intFlag(flags.port, 'port', 0, 65535)
  if (workers > 1 && cluster.isPrimary) {
    startPrimary(workers)
    return -1
  }
  const config = await configFrom(flags.configFile)
  // Without Redis, the workers of one machine share events through the primary.
  if (cluster.isWorker && config.channel === undefined && config.redisUrl === undefined && config.redisClusterNodes === undefined) config.channel = new ClusterAuthChannel()
  const app = await createServer(config)
  const listenPort = port ?? config.port ?? Number(process.env.PORT ?? 3000)
  const host = flags.host ?? config.host ?? process.env.HOST ?? '127.0.0.1'
  let address: string
  try {
    address = await app.listen({ port: listenPort, host })
  } catch (err) {
    // A port in use: close the store and channel, or a Redis channel keeps the failed process alive.
    await app.close().catch(() => undefined)
    throw err
  }
  const shutdown = () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
  if (cluster.isWorker) process.send?.({ wireAuth: 'listening', address })
  else process.stdout.write(`wire-auth listening on ${address}\n`)
  return -1
}

/** A worker that exits sooner than this after its fork counts towards the crash back-off. */
const QUICK_EXIT_MS = 10_000
/** Longest wait before a crashed worker is replaced. */
const MAX_REFORK_DELAY_MS = 30_000
/** How long a stopping primary waits for its workers before killing them. */
const STOP_GRACE_MS = 10_000

/**
 * The primary of `--workers N`: forks N workers, relays channel events
 * between them (when no Redis is configured), replaces a worker that dies
 * (after 0.5 s, doubling while workers keep dying young, up to 30 s), and
 * gives up with exit code 1 when a worker dies before any worker ever
 * listened (a broken config, store or port would otherwise loop forever).
 */
function startPrimary(count: number): void {
  let stopping = false
  let listening = false
  let quickExits = 0
  const forkedAt = new Map<number, number>()
  const fork = () => {
    if (stopping) return
    const worker = cluster.fork()
    forkedAt.set(worker.id, Date.now())
    worker.on('message', (message: { wireAuth?: string; address?: string }) => {
      if (relayClusterEvent(worker, message)) return
      if (message?.wireAuth === 'listening' && !listening) {
        listening = true
        process.stdout.write(`wire-auth listening on ${message.address} with ${count} workers\n`)
      }
    })
  }
  const stop = (exitCode: number) => {
    if (stopping) return
    stopping = true
    const exitWhenAllGone = () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode)
    }
    cluster.on('exit', exitWhenAllGone)
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM')
    exitWhenAllGone()
    setTimeout(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL')
      process.exit(exitCode)
    }, STOP_GRACE_MS).unref()
  }
  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (forkedAt.get(worker.id) ?? 0)
    forkedAt.delete(worker.id)
    if (stopping) return
    if (!listening) {
      process.stderr.write(`wire-auth: worker ${worker.process.pid} exited (${signal ?? code}) before any worker was listening; stopping\n`)
      stop(1)
      return
    }
    quickExits = lived < QUICK_EXIT_MS ? quickExits + 1 : 0
    const delay = Math.min(250 * 2 ** Math.max(quickExits, 1), MAX_REFORK_DELAY_MS)
    process.stderr.write(`wire-auth: worker ${worker.process.pid} exited (${signal ?? code}); starting a new one in ${delay} ms\n`)
    // Not unref'd: with every worker gone, this timer is what keeps the primary alive.
    setTimeout(fork, delay)
  })
  for (let i = 0; i < count; i++) fork()
  process.once('SIGTERM', () => stop(0))
  process.once('SIGINT', () => stop(0))
}
