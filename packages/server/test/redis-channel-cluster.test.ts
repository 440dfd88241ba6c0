import { RedisAuthChannel } from '@wire-auth/server/redis'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { AuthEvent } from '../src/lib/channel/auth-channel.js'
import { slotOf } from '../src/lib/channel/redis-slot.js'
import { applyEnvironment } from '../src/lib/cli/env-config.js'
import { channelFor } from '../src/lib/backends.js'
import { bundleScript, memoryLogger, recorder, runUntilExit, SERVER_SRC as serverSrc, uniqueChannel } from './redis-channel-helpers.js'
import { startRedisCluster, type RedisClusterHandle } from './redis-cluster.js'

// A real Redis Cluster of three primaries: with `cluster`, every channel is a
// shard channel (SPUBLISH / SSUBSCRIBE), so a user's events travel through the
// one shard serving `<channel>:u:<U>` and reach only the workers watching U.

let cluster: RedisClusterHandle

beforeAll(async () => {
  cluster = await startRedisCluster()
}, 60_000)
afterAll(async () => {
  await cluster?.close()
})

const open: Array<{ close(): Promise<unknown> }> = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((item) => item.close()))
  for (let i = 0; i < 3; i++) await cluster.start(i)
})

function worker(channel: string, workerId: string, extra: { commandTimeoutMs?: number } = {}): RedisAuthChannel {
  const c = new RedisAuthChannel({
    cluster: { nodes: [cluster.urls[0] as string] },
    channel,
    workerId,
    logger: memoryLogger().logger,
    retry: { initialMs: 20, maxMs: 200 },
    ...extra,
  })
  open.push(c)
  return c
}
const claims = (userId: string, version: number): AuthEvent => ({ type: 'claims-changed', userId, version })
const HINT = 'wire-auth:subscribed'
async function watch(channel: RedisAuthChannel, seen: { events: AuthEvent[] }, ...users: string[]): Promise<void> {
  const before = seen.events.filter((e) => e.origin === HINT).length
  for (const user of users) channel.watchUser(user)
  await vi.waitFor(() => expect(seen.events.filter((e) => e.origin === HINT).length).toBe(before + users.length), { timeout: 10_000 })
}
const remote = (events: AuthEvent[]) => events.filter((e) => e.origin !== HINT).map((e) => `${e.userId}:${e.version}`)

/** Ready workers a and b; b watches `user`, records its events in `seen` and its resyncs in `resyncB`. */
async function publisherAndWatcher(channel: string, user: string, extra: { commandTimeoutMs?: number } = {}) {
  const [a, b] = [worker(channel, 'a', extra), worker(channel, 'b', extra)]
  await Promise.all([a.ready(), b.ready()])
  const resyncB = vi.fn()
  b.onResync(resyncB)
  const seen = recorder()
  b.subscribe(seen.listener)
  await watch(b, seen, user)
  return { a, b, resyncB, seen }
}

/** Asserts that `user`'s event of `version`, published by `a` (again every 200 ms, up to 20 s), reaches `seen`. */
async function expectRepublishedUntilDelivered(a: RedisAuthChannel, seen: { events: AuthEvent[] }, user: string, version: number): Promise<void> {
  await vi.waitFor(
    async () => {
      await a.publish(claims(user, version))
      expect(remote(seen.events)).toContain(`${user}:${version}`)
    },
    { timeout: 20_000, interval: 200 },
  )
}

/** Users whose channels are served by three different primaries: [on port 0, on port 1, on port 2]. */
async function usersOnEachShard(channel: string): Promise<string[]> {
  const found = new Map<number, string>()
  for (let i = 0; found.size < 3 && i < 200; i++) {
    const port = await cluster.portOf(`${channel}:u:user-${i}`)
    if (!found.has(port)) found.set(port, `user-${i}`)
  }
  return cluster.ports.map((port) => found.get(port) as string)
}

describe('RedisAuthChannel on a Redis Cluster (sharded pub/sub)', () => {
  it('computes the hash slot of a channel as Redis does', async () => {
    const client = new Redis(cluster.ports[0] as number, '127.0.0.1')
    open.push({ close: () => client.quit() })
    for (const name of ['123456789', 'wire-auth:events:u:u1', 'a{user1}b', 'a{}b{c}', 'é:ü:用户', '{', 'x}{y}']) {
      expect(slotOf(name)).toBe(Number(await client.cluster('KEYSLOT', name)))
    }
  })

  it("delivers a user's events only to the workers that watch that user, on every shard, and broadcasts reach both", async () => {
    const channel = uniqueChannel('cluster-routing')
    const [u0, u1, u2] = await usersOnEachShard(channel)
    expect(new Set([u0, u1, u2]).size).toBe(3)
    const [a, b] = [worker(channel, 'a'), worker(channel, 'b')]
    await Promise.all([a.ready(), b.ready()])
    const [seenA, seenB] = [recorder(), recorder()]
    a.subscribe(seenA.listener)
    b.subscribe(seenB.listener)
    await watch(a, seenA, u0 as string)
    await watch(b, seenB, u1 as string, u2 as string)

    const publisher = worker(channel, 'p')
    await publisher.ready()
    for (const user of [u0, u1, u2, 'nobody']) await publisher.publish(claims(user as string, 1))
    // Events of everyone (`*`) travel on the shared shard channel.
    await publisher.publish({ type: 'data-changed', userId: '*', version: 0, fragment: 'doc', params: { id: 'd1' } })
    // Different shards, different connections: no order between them.
    await vi.waitFor(() => expect(remote(seenA.events).sort()).toEqual([`${u0}:1`, '*:0'].sort()))
    await vi.waitFor(() => expect(remote(seenB.events).sort()).toEqual([`${u1}:1`, `${u2}:1`, '*:0'].sort()))
    expect(a.stats()).toMatchObject({ received: 2, watchedUsers: 1 })
    expect(b.stats()).toMatchObject({ received: 3, watchedUsers: 2 })
    // The replies come from three shards in any order: the one for "nobody" may still be on its way.
    await vi.waitFor(() => expect(publisher.stats()).toMatchObject({ published: 5, dropped: 0 }))
  })

  it("with routing: 'broadcast' sends every event on the one shared shard channel, to every worker", async () => {
    const channel = uniqueChannel('cluster-broadcast')
    const nodes = [cluster.urls[1] as string]
    const a = new RedisAuthChannel({ cluster: { nodes }, routing: 'broadcast', channel, workerId: 'a', logger: memoryLogger().logger })
    const b = new RedisAuthChannel({ cluster: { nodes }, routing: 'broadcast', channel, workerId: 'b', logger: memoryLogger().logger })
    open.push(a, b)
    await Promise.all([a.ready(), b.ready()])
    const seen = recorder()
    b.subscribe(seen.listener)
    const [u0, u1, u2] = await usersOnEachShard(channel)
    for (const user of [u0, u1, u2]) await a.publish(claims(user as string, 7))
    // Events are hints, not ordered (see deployment.md): compare as sets.
    await vi.waitFor(() => expect(remote(seen.events).sort()).toEqual([`${u0}:7`, `${u1}:7`, `${u2}:7`].sort()))
    const probe = new Redis(await cluster.portOf(channel), '127.0.0.1')
    open.push({ close: () => probe.quit() })
    expect(await probe.call('PUBSUB', 'SHARDNUMSUB', channel)).toEqual([channel, 2])
  })

  it('stops delivering after unwatchUser', async () => {
    const channel = uniqueChannel('cluster-unwatch')
    const [u0] = await usersOnEachShard(channel)
    const [a, b] = [worker(channel, 'a'), worker(channel, 'b')]
    await Promise.all([a.ready(), b.ready()])
    const seen = recorder()
    b.subscribe(seen.listener)
    await watch(b, seen, u0 as string, 'barrier')
    b.unwatchUser(u0 as string)
    // SUNSUBSCRIBE and the next PUBLISH may go through different shards: wait for the unsubscription to land.
    await vi.waitFor(async () => {
      const probe = new Redis(await cluster.portOf(`${channel}:u:${u0}`), '127.0.0.1')
      try {
        expect(await probe.call('PUBSUB', 'SHARDNUMSUB', `${channel}:u:${u0}`)).toEqual([`${channel}:u:${u0}`, 0])
      } finally {
        probe.disconnect()
      }
    })
    await a.publish(claims(u0 as string, 2))
    await a.publish(claims('barrier', 2))
    // No subscriber is left on u0's shard channel, so its event cannot arrive after the barrier either.
    await vi.waitFor(() => expect(remote(seen.events)).toEqual(['barrier:2']))
    expect(b.stats()).toMatchObject({ received: 1, watchedUsers: 1 })
  })

  it("resyncs after the shard serving a watched user's channel is killed and restarted, then delivers again", async () => {
    const channel = uniqueChannel('cluster-outage')
    const users = await usersOnEachShard(channel)
    const shard = 1
    const user = users[shard] as string
    const { a, b, resyncB, seen } = await publisherAndWatcher(channel, user, { commandTimeoutMs: 500 })

    await cluster.stop(shard, 'SIGKILL')
    await vi.waitFor(() => expect(b.connected).toBe(false), { timeout: 10_000 })
    // Publishing into the dead shard fails fast and is counted, never queued.
    await a.publish(claims(user, 3))
    await vi.waitFor(() => expect(a.stats().dropped).toBeGreaterThanOrEqual(1), { timeout: 10_000 })
    expect(remote(seen.events)).toEqual([])

    await cluster.start(shard)
    await vi.waitFor(() => expect(resyncB).toHaveBeenCalled(), { timeout: 20_000 })
    await Promise.all([a.ready(), b.ready()])
    await expectRepublishedUntilDelivered(a, seen, user, 4)
  }, 60_000)

  it("follows a watched user's slot to another primary (resharding): resubscribes there and resyncs", async () => {
    const channel = uniqueChannel('cluster-move')
    const users = await usersOnEachShard(channel)
    const user = users[0] as string
    const { a, b, resyncB, seen } = await publisherAndWatcher(channel, user)

    // Move the (empty) slot of the user's channel from primary 0 to primary 1, as a resharding does.
    const userChannel = `${channel}:u:${user}`
    const admins = cluster.ports.map((port) => new Redis(port, '127.0.0.1'))
    open.push(...admins.map((admin) => ({ close: () => admin.quit() })))
    const slot = Number(await admins[0]?.cluster('KEYSLOT', userChannel))
    const target = String(await admins[1]?.cluster('MYID'))
    for (const admin of [admins[1], admins[0], admins[2]]) await admin?.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', target)
    expect(await cluster.portOf(userChannel)).toBe(cluster.ports[1])

    await vi.waitFor(() => expect(resyncB).toHaveBeenCalled(), { timeout: 20_000 })
    await Promise.all([a.ready(), b.ready()])
    expect(await admins[1]?.call('PUBSUB', 'SHARDNUMSUB', userChannel)).toEqual([userChannel, 1])
    await expectRepublishedUntilDelivered(a, seen, user, 9)
  }, 60_000)

  it('works with only the commands and channels of the cluster ACL in docs/deployment.md', async () => {
    const user = `wireauth-${Date.now().toString(36)}`
    for (const port of cluster.ports) {
      const admin = new Redis(port, '127.0.0.1')
      // Keep in step with the cluster ACL in docs/deployment.md.
      await admin.acl(
        'SETUSER', user, 'on', '>acl-pw-1', 'resetkeys', 'resetchannels', '&wire-auth:*', '-@all', '+hello', '+auth', '+client|setname', '+info', '+ping',
        '+cluster|slots', '+cluster|info', '+spublish', '+ssubscribe', '+sunsubscribe', '+quit',
      )
      await admin.quit()
    }
    const channel = uniqueChannel('cluster-acl')
    const [u0, u1] = await usersOnEachShard(channel)
    const log = memoryLogger()
    const options = { cluster: { nodes: [`redis://${user}:acl-pw-1@127.0.0.1:${cluster.ports[2]}`] }, channel, logger: log.logger, healthCheckMs: 20 }
    const a = new RedisAuthChannel({ ...options, workerId: 'acl-a' })
    const b = new RedisAuthChannel({ ...options, workerId: 'acl-b' })
    open.push(a, b)
    await Promise.all([a.ready(), b.ready()])
    const seen = recorder()
    b.subscribe(seen.listener)
    await watch(b, seen, u0 as string, u1 as string)
    b.unwatchUser(u1 as string)
    await a.publish(claims(u0 as string, 1))
    await a.publish({ type: 'data-changed', userId: '*', version: 0, fragment: 'doc', params: {} })
    await vi.waitFor(() => expect(remote(seen.events).sort()).toEqual(['*:0', `${u0}:1`].sort()))
    await new Promise((resolve) => setTimeout(resolve, 100)) // a few health-check PINGs
    expect(log.lines.filter((line) => line.level === 'warn' || line.level === 'error')).toEqual([])
    await vi.waitFor(() => expect(a.stats()).toMatchObject({ published: 2, dropped: 0 }))
  })

  it('is what a config with redisClusterNodes (or WIRE_AUTH_REDIS_CLUSTER_NODES) gets', async () => {
    const config = applyEnvironment({ redisChannel: uniqueChannel('cluster-config') }, { WIRE_AUTH_REDIS_CLUSTER_NODES: cluster.urls.join(', ') })
    expect(config.redisClusterNodes).toEqual(cluster.urls)
    const channel = await channelFor(config)
    open.push(channel as RedisAuthChannel)
    expect(channel).toBeInstanceOf(RedisAuthChannel)
    await (channel as RedisAuthChannel).ready()
    await expect(channelFor({ redisUrl: 'redis://127.0.0.1:1', redisClusterNodes: cluster.urls })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' })
  })

  it('leaves no open handles after close(): a process that closed its cluster channels exits by itself', async () => {
    // As in redis-channel-close.test.ts: bundled to CommonJS, run by plain node; a hung process is the failure.
    const script = `
import { RedisAuthChannel } from ${JSON.stringify(join(serverSrc, 'lib/channel/redis-channel.ts'))}
const logger = { info() {}, warn() {}, error(obj: object, msg?: string) { console.error(msg, JSON.stringify(obj)) } }
const nodes = (process.env.NODES as string).split(',')
const channel = process.env.CHANNEL as string
async function main(): Promise<void> {
  const early = new RedisAuthChannel({ cluster: { nodes }, channel, logger })
  await early.close() // closed while still connecting
  const a = new RedisAuthChannel({ cluster: { nodes }, channel, workerId: 'a', logger })
  const b = new RedisAuthChannel({ cluster: { nodes }, channel, workerId: 'b', logger, healthCheckMs: 20 })
  await Promise.all([a.ready(), b.ready()])
  const hinted = new Promise((resolve) => b.subscribe((event) => event.userId === 'u1' && resolve(event)))
  b.watchUser('u1')
  await hinted
  const received = new Promise((resolve) => b.subscribe((event) => event.origin === 'a' && resolve(event)))
  await a.publish({ type: 'claims-changed', userId: 'u1', version: 1 })
  await received
  b.unwatchUser('u1')
  await Promise.all([a.close(), b.close()])
  await new Promise((resolve) => setTimeout(resolve, 5))
  const left = process.getActiveResourcesInfo().filter((name) => /Timeout|Immediate|TCP/.test(name))
  console.log(JSON.stringify({ closed: true, left }))
}
main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
`
    const dir = await mkdtemp(join(tmpdir(), 'wire-auth-redis-cluster-close-'))
    open.push({ close: () => rm(dir, { recursive: true, force: true }) })
    const bundle = join(dir, 'close-script.cjs')
    await bundleScript(script, bundle)
    const { code, killed, stdout, stderr } = await runUntilExit(bundle, { NODES: cluster.urls.join(','), CHANNEL: uniqueChannel('cluster-close') })
    expect(killed, `the process did not exit on its own; stderr:\n${stderr}`).toBe(false)
    expect(code, stderr).toBe(0)
    expect(JSON.parse(stdout.trim())).toEqual({ closed: true, left: [] })
  }, 30_000)

  it('checks the cluster options at construction (ERR_INVALID_OPTION)', () => {
    const bad: unknown[] = [
      { cluster: { nodes: [] } },
      { cluster: { nodes: ['http://127.0.0.1:7000'] } },
      { cluster: { nodes: ['redis://127.0.0.1'] } },
      { cluster: { nodes: ['redis://127.0.0.1:7000/2'] } },
      { cluster: { nodes: ['redis://:a@127.0.0.1:7000', 'redis://:b@127.0.0.1:7001'] } },
      { cluster: { nodes: ['redis://127.0.0.1:7000'] }, url: 'redis://127.0.0.1:7000' },
      { cluster: { nodes: ['redis://127.0.0.1:7000'] }, channel: '{wire-auth}:events' },
      { cluster: 'redis://127.0.0.1:7000' },
    ]
    for (const options of bad) {
      expect(() => new RedisAuthChannel(options as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
    }
  })
})
