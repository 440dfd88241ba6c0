import { execFile, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { freePort } from '../../../test/support/free-port.mjs'
import { spawnRedisProcess, stopRedisProcess } from '../../../test/support/redis-server.js'

/** A private Redis Cluster of three primaries (no replicas) on loopback, for sharded pub/sub tests. */
export interface RedisClusterHandle {
  /** Client ports of the three primaries. */
  readonly ports: number[]
  /** `redis://127.0.0.1:<port>` of each primary. */
  readonly urls: string[]
  /** Stops primary `index` (its slots stay assigned to it: no replica takes over). */
  stop(index: number, signal?: NodeJS.Signals): Promise<void>
  /** Starts primary `index` again on its port and waits for `cluster_state:ok`. */
  start(index: number): Promise<void>
  /** The port of the primary serving `name`'s slot. */
  portOf(name: string): Promise<number>
  /** Stops every node and removes the temp directory. */
  close(): Promise<void>
}

const run = promisify(execFile)

/** Starts three `redis-server --cluster-enabled yes` primaries and joins them with `redis-cli --cluster create`. */
export async function startRedisCluster(): Promise<RedisClusterHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'wire-auth-redis-cluster-'))
  const ports: number[] = []
  const busPorts: number[] = []
  while (ports.length < 3) {
    const [port, bus] = [await freePort(), await freePort()]
    if (port === 6379 || bus === 6379 || ports.includes(port) || busPorts.includes(bus) || port === bus) continue
    ports.push(port)
    busPorts.push(bus)
  }
  const procs: Array<ChildProcess | null> = [null, null, null]
  const launch = async (i: number): Promise<void> => {
    procs[i] = await spawnNode(ports[i] as number, busPorts[i] as number, dir)
  }
  try {
    await Promise.all([0, 1, 2].map(launch))
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'])
    await waitClusterOk(ports)
  } catch (err) {
    await Promise.all(procs.map((proc) => proc && stopRedisProcess(proc, 'SIGKILL')))
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  return {
    ports,
    urls: ports.map((port) => `redis://127.0.0.1:${port}`),
    async stop(index, signal = 'SIGTERM') {
      const proc = procs[index]
      procs[index] = null
      if (proc) await stopRedisProcess(proc, signal)
    },
    async start(index) {
      if (!procs[index]) await launch(index)
      await waitClusterOk(ports)
    },
    async portOf(name) {
      const client = new Redis(ports[0] as number, '127.0.0.1', { lazyConnect: false })
      try {
        const slot = Number(await client.cluster('KEYSLOT', name))
        const ranges = (await client.cluster('SLOTS')) as Array<[number, number, [string, number, ...unknown[]]]>
        const range = ranges.find(([from, to]) => slot >= from && slot <= to)
        if (!range) throw new Error(`slot ${slot} is not served`)
        return range[2][1]
      } finally {
        client.disconnect()
      }
    },
    async close() {
      await Promise.all(procs.map((proc, i) => proc && this.stop(i, 'SIGKILL')))
      await rm(dir, { recursive: true, force: true })
    },
  }
}

function spawnNode(port: number, busPort: number, dir: string): Promise<ChildProcess> {
  return spawnRedisProcess(port, dir, ['--cluster-port', String(busPort), '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`])
}

async function waitClusterOk(ports: number[]): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const states = await Promise.all(
      ports.map(async (port) => {
        const client = new Redis(port, '127.0.0.1', { lazyConnect: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
        client.on('error', () => {})
        try {
          return String(await client.cluster('INFO')).includes('cluster_state:ok')
        } catch {
          return false
        } finally {
          client.disconnect()
        }
      }),
    )
    if (states.every(Boolean)) return
    if (Date.now() > deadline) throw new Error('the Redis Cluster did not reach cluster_state:ok')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
