import cluster from 'node:cluster'
import { InvalidOption } from '@wire-auth/core'
import { createServer, loadConfig, type ServerConfig } from '../standalone.js'

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

/** The config for this process: the file's, or the embedded SQLite default. @internal */
export async function configFrom(configFile: string | undefined): Promise<ServerConfig> {
  if (configFile !== undefined) return loadConfig(configFile)
  return { sqlitePath: process.env.WIRE_AUTH_SQLITE ?? 'wire-auth.sqlite', localIdp: true }
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
  const app = await createServer(config)
  const listenPort = port ?? config.port ?? Number(process.env.PORT ?? 3000)
  const host = flags.host ?? config.host ?? process.env.HOST ?? '127.0.0.1'
  const address = await app.listen({ port: listenPort, host })
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

function startPrimary(count: number): void {
  let stopping = false
  let announced = false
  const fork = () => {
    const worker = cluster.fork()
    worker.on('message', (message: { wireAuth?: string; address?: string }) => {
      if (message?.wireAuth === 'listening' && !announced) {
        announced = true
        process.stdout.write(`wire-auth listening on ${message.address} with ${count} workers\n`)
      }
    })
  }
  for (let i = 0; i < count; i++) fork()
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return
    process.stderr.write(`wire-auth: worker ${worker.process.pid} exited (${signal ?? code}); starting a new one\n`)
    setTimeout(fork, 500).unref()
  })
  const stop = () => {
    stopping = true
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM')
    setTimeout(() => process.exit(0), 5000).unref()
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0)
    })
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
