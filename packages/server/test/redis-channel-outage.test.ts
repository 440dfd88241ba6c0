import { RedisAuthChannel } from '@wire-auth/server/redis'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { startRedisServer, type RedisServerHandle } from '../../../test/support/redis-server.js'
import type { AuthEvent } from '../src/lib/channel/auth-channel.js'
import { memoryLogger, rawClient, recorder, uniqueChannel, withoutOrigin } from './redis-channel-helpers.js'

// A private redis-server that each test stops and starts at will: pub/sub
// loses what is sent while it is down, and the channel must heal that.

const PASSWORD = 'pw-Zq8!s3cr3t'
let server: RedisServerHandle

beforeAll(async () => {
  server = await startRedisServer({ password: PASSWORD })
})
afterAll(async () => {
  await server?.close()
})

const open: Array<{ close(): Promise<unknown> }> = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((item) => item.close()))
  if (!server.running) await server.start()
})

// Short backoff so a restart is noticed quickly.
function worker(workerId: string, channel: string, log = memoryLogger()): RedisAuthChannel {
  const channelInstance = new RedisAuthChannel({ routing: 'broadcast', url: server.url, channel, workerId, logger: log.logger, retry: { initialMs: 20, maxMs: 200 } })
  open.push(channelInstance)
  return channelInstance
}
function raw(): Redis {
  const client = rawClient(server.url)
  open.push({ close: () => client.quit().catch(() => undefined) })
  return client
}

const claims = (userId: string, version: number): AuthEvent => ({ type: 'claims-changed', userId, version })

describe('RedisAuthChannel through a Redis outage', () => {
  it('keeps local delivery while Redis is down, resyncs both workers when it is back, then flows again', async () => {
    const channel = uniqueChannel('outage')
    const logA = memoryLogger()
    const a = worker('worker-a', channel, logA)
    const b = worker('worker-b', channel)
    await Promise.all([a.ready(), b.ready()])
    const resyncA = vi.fn()
    const resyncB = vi.fn()
    a.onResync(resyncA)
    b.onResync(resyncB)
    const seenA = recorder()
    const seenB = recorder()
    a.subscribe(seenA.listener)
    b.subscribe(seenB.listener)

    await server.stop()
    await vi.waitFor(() => expect(a.connected || b.connected).toBe(false))

    // Publishing neither blocks nor queues: the local listener has it at once,
    // the Redis send fails fast and is counted.
    const published = a.publish(claims('u1', 1))
    expect(seenA.events.map(withoutOrigin)).toEqual([claims('u1', 1)])
    await published
    await vi.waitFor(() => expect(a.stats().dropped).toBe(1))
    expect(logA.lines.some((line) => line.level === 'warn' && line.obj.code === 'ERR_CHANNEL_UNAVAILABLE')).toBe(true)

    await server.start()
    await vi.waitFor(() => expect(resyncA).toHaveBeenCalledTimes(1), { timeout: 10_000 })
    await vi.waitFor(() => expect(resyncB).toHaveBeenCalledTimes(1), { timeout: 10_000 })
    expect(seenB.events).toEqual([]) // the event sent during the outage is lost; the resync heals it

    await Promise.all([a.ready(), b.ready()])
    await b.publish(claims('u2', 1))
    await a.publish(claims('u3', 1))
    // A has its own u3 at once and B's u2 through Redis: compare as sets.
    await vi.waitFor(() => expect(seenA.events.map((e) => e.userId).sort()).toEqual(['u1', 'u2', 'u3']))
    await vi.waitFor(() => expect(seenB.events.map((e) => e.userId).sort()).toEqual(['u2', 'u3']))
    expect(a.stats().resyncs).toBeGreaterThanOrEqual(1)
  })

  it('survives an abrupt kill and several restarts in a row', async () => {
    const channel = uniqueChannel('kill')
    const a = worker('worker-a', channel)
    const b = worker('worker-b', channel)
    await Promise.all([a.ready(), b.ready()])
    const resyncB = vi.fn()
    b.onResync(resyncB)
    for (let round = 1; round <= 3; round++) {
      await server.stop(round === 1 ? 'SIGKILL' : 'SIGTERM')
      await vi.waitFor(() => expect(b.connected).toBe(false))
      await server.start()
      await vi.waitFor(() => expect(resyncB).toHaveBeenCalledTimes(round), { timeout: 10_000 })
    }
    const seenB = recorder()
    b.subscribe(seenB.listener)
    await Promise.all([a.ready(), b.ready()])
    await a.publish(claims('u1', 1))
    await vi.waitFor(() => expect(seenB.events).toHaveLength(1))
  })

  it('resyncs after a late first connect (Redis down at boot), not after a clean one', async () => {
    await server.stop()
    const channel = uniqueChannel('late-boot')
    const a = worker('worker-a', channel)
    const onResync = vi.fn()
    a.onResync(onResync)
    const seen = recorder()
    a.subscribe(seen.listener)
    await a.publish(claims('u1', 1))
    expect(seen.events).toHaveLength(1)
    await vi.waitFor(() => expect(a.stats().dropped).toBe(1))

    await server.start()
    await a.ready()
    await vi.waitFor(() => expect(onResync).toHaveBeenCalledTimes(1))
  })

  it('asks the other workers to resync when only its own link dropped and it lost a publish', async () => {
    const channel = uniqueChannel('partition')
    // A long first backoff keeps A's publisher down long enough to publish into the gap.
    const logA = memoryLogger()
    const a = new RedisAuthChannel({ routing: 'broadcast', url: server.url, channel, workerId: 'worker-a', logger: logA.logger, retry: { initialMs: 600, maxMs: 600 } })
    open.push(a)
    const b = worker('worker-b', channel)
    await Promise.all([a.ready(), b.ready()])
    const resyncA = vi.fn()
    const resyncB = vi.fn()
    a.onResync(resyncA)
    b.onResync(resyncB)
    const seenB = recorder()
    b.subscribe(seenB.listener)

    const admin = raw()
    const clients = String(await admin.client('LIST')).split('\n')
    const pubLine = clients.find((line) => line.includes('name=wire-auth:worker-a:pub'))
    const id = /\bid=(\d+)/.exec(pubLine ?? '')?.[1]
    expect(id).toBeDefined()
    await admin.client('KILL', 'ID', id as string)
    await vi.waitFor(() => expect(logA.lines.some((line) => line.obj.role === 'publisher')).toBe(true), { interval: 5 })

    await a.publish(claims('u1', 1))
    await vi.waitFor(() => expect(a.stats().dropped).toBe(1))
    await vi.waitFor(() => expect(resyncB).toHaveBeenCalledTimes(1), { timeout: 10_000 })
    // B's own link never dropped: only A's notice can have woken it.
    expect(seenB.events).toEqual([])
    expect(resyncA).not.toHaveBeenCalled()
  })
})

describe('RedisAuthChannel secrets', () => {
  it('never logs the Redis password, neither while connecting nor through an outage', async () => {
    const channel = uniqueChannel('secret')
    const log = memoryLogger()
    const a = worker('worker-a', channel, log)
    await a.ready()
    await server.stop()
    await vi.waitFor(() => expect(a.connected).toBe(false))
    await a.publish(claims('u1', 1))
    await vi.waitFor(() => expect(a.stats().dropped).toBe(1))
    await server.start()
    await vi.waitFor(() => expect(a.connected).toBe(true), { timeout: 10_000 })

    // A wrong password: the server refuses, the channel logs without it.
    const wrong = new RedisAuthChannel({
      routing: 'broadcast',
      url: server.url.replace(encodeURIComponent(PASSWORD), 'Wr0ng-pass'),
      channel,
      logger: log.logger,
      retry: { initialMs: 50, maxMs: 50 },
    })
    open.push(wrong)
    await vi.waitFor(() => expect(log.text()).toMatch(/WRONGPASS|NOAUTH|invalid/i))

    const text = log.text()
    if (process.env.SHOW_LOG) console.log(text)
    expect(text.length).toBeGreaterThan(0)
    expect(text).toContain('127.0.0.1') // the redacted URL is logged…
    expect(text).not.toContain(PASSWORD) // …without the password
    expect(text).not.toContain(encodeURIComponent(PASSWORD))
    expect(text).not.toContain('Wr0ng-pass')
  })
})

describe('RedisAuthChannel with a least-privilege ACL user', () => {
  it('works with only the commands and channels docs/deployment.md lists', async () => {
    const admin = raw()
    const user = `wireauth-${Date.now().toString(36)}`
    // Keep in step with the ACL in docs/deployment.md.
    await admin.acl(
      'SETUSER', user, 'on', '>acl-pw-1', 'resetkeys', 'resetchannels', '&wire-auth:*', '-@all',
      '+hello', '+auth', '+client|setname', '+info', '+ping', '+publish', '+subscribe', '+unsubscribe', '+quit',
    )
    const url = `redis://${user}:acl-pw-1@127.0.0.1:${server.port}`
    const channel = uniqueChannel('acl')
    const log = memoryLogger()
    const options = { url, channel, logger: log.logger, healthCheckMs: 20 }
    // The default per-user routing: B subscribes to u1's channel (SUBSCRIBE), and lets go of u2's (UNSUBSCRIBE).
    const a = new RedisAuthChannel({ ...options, workerId: 'worker-a' })
    const b = new RedisAuthChannel({ ...options, workerId: 'worker-b' })
    open.push(a, b)
    await Promise.all([a.ready(), b.ready()])
    const seenB = recorder()
    b.subscribe(seenB.listener)
    b.watchUser('u2')
    b.watchUser('u1')
    await vi.waitFor(() => expect(seenB.events.map((e) => e.userId)).toEqual(['u2', 'u1'])) // the subscription hints
    b.unwatchUser('u2')
    await a.publish(claims('u2', 1))
    await a.publish(claims('u1', 1))
    await vi.waitFor(() => expect(seenB.events).toHaveLength(3))
    expect(seenB.events[2]).toMatchObject({ userId: 'u1', origin: 'worker-a' })
    await new Promise((resolve) => setTimeout(resolve, 100)) // a few health-check PINGs
    expect(log.lines.filter((line) => line.level === 'warn' || line.level === 'error')).toEqual([])
  })
})
