import { RedisAuthChannel } from '@wire-auth/server/redis'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AuthEvent } from '../src/lib/channel/auth-channel.js'
import { memoryLogger, rawClient, recorder, REDIS_URL, uniqueChannel } from './redis-channel-helpers.js'

// Per-user routing (the default): an event of user U travels on
// `<channel>:u:<U>` and reaches only the workers that hold sockets of U, so
// the cost of a change does not grow with the number of workers (issue 19).

const open: Array<{ close(): Promise<unknown> }> = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((item) => item.close()))
})

function worker(channel: string, workerId: string): RedisAuthChannel {
  const c = new RedisAuthChannel({ url: REDIS_URL, channel, workerId, logger: memoryLogger().logger })
  open.push(c)
  return c
}
function raw(): Redis {
  const client = rawClient()
  open.push({ close: () => client.quit().catch(() => undefined) })
  return client
}
const claims = (userId: string, version: number): AuthEvent => ({ type: 'claims-changed', userId, version })
const HINT = 'wire-auth:subscribed'
/** Watches `users` and waits until each channel is subscribed (its local hint arrived). */
async function watch(channel: RedisAuthChannel, seen: { events: AuthEvent[] }, ...users: string[]): Promise<void> {
  const before = seen.events.filter((e) => e.origin === HINT).length
  for (const user of users) channel.watchUser(user)
  await vi.waitFor(() => expect(seen.events.filter((e) => e.origin === HINT).length).toBe(before + users.length))
}
const remote = (events: AuthEvent[]) => events.filter((e) => e.origin !== HINT).map((e) => `${e.userId}:${e.version}`)

describe('RedisAuthChannel per-user routing', () => {
  it("delivers a user's events only to the workers that watch that user", async () => {
    const channel = uniqueChannel('routing')
    const [a, b, c] = [worker(channel, 'a'), worker(channel, 'b'), worker(channel, 'c')]
    await Promise.all([a.ready(), b.ready(), c.ready()])
    const [seenA, seenB, seenC] = [recorder(), recorder(), recorder()]
    a.subscribe(seenA.listener)
    b.subscribe(seenB.listener)
    c.subscribe(seenC.listener)
    await watch(b, seenB, 'u1', 'barrier')
    await watch(c, seenC, 'u2', 'barrier')

    await a.publish(claims('u1', 1))
    await a.publish(claims('u2', 1))
    await a.publish(claims('u3', 1))
    await a.publish(claims('barrier', 1))
    await vi.waitFor(() => expect(remote(seenB.events)).toContain('barrier:1'))
    await vi.waitFor(() => expect(remote(seenC.events)).toContain('barrier:1'))
    expect(remote(seenB.events)).toEqual(['u1:1', 'barrier:1'])
    expect(remote(seenC.events)).toEqual(['u2:1', 'barrier:1'])
    // The publisher's own listeners get every event at once, whoever watches.
    expect(remote(seenA.events)).toEqual(['u1:1', 'u2:1', 'u3:1', 'barrier:1'])
    expect(b.stats()).toMatchObject({ received: 2, watchedUsers: 2 })
    expect(c.stats()).toMatchObject({ received: 2, watchedUsers: 2 })
    expect(a.stats()).toMatchObject({ published: 4, received: 0, watchedUsers: 0 })
  })

  it('gives one local hint per user once its channel is subscribed, so a change made before the subscription is re-read', async () => {
    const channel = uniqueChannel('hint')
    const b = worker(channel, 'b')
    await b.ready()
    const seen = recorder()
    b.subscribe(seen.listener)
    b.watchUser('u1')
    b.watchUser('u1') // idempotent: one subscription, one hint
    await vi.waitFor(() => expect(seen.events).toHaveLength(1))
    expect(seen.events[0]).toEqual({ type: 'claims-changed', userId: 'u1', version: 0, origin: HINT })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(seen.events).toHaveLength(1)
  })

  it('stops delivering after unwatchUser (the last socket of the user closed)', async () => {
    const channel = uniqueChannel('unwatch')
    const [a, b] = [worker(channel, 'a'), worker(channel, 'b')]
    await Promise.all([a.ready(), b.ready()])
    const seen = recorder()
    b.subscribe(seen.listener)
    await watch(b, seen, 'u1', 'barrier')
    b.unwatchUser('u1')
    await a.publish(claims('u1', 2))
    await a.publish(claims('barrier', 2))
    // One subscriber connection receives in publish order: u1 would have come before the barrier.
    await vi.waitFor(() => expect(remote(seen.events)).toEqual(['barrier:2']))
    expect(b.stats()).toMatchObject({ received: 1, watchedUsers: 1 })
  })

  it('resubscribes every watched user after the subscriber reconnects, and resyncs', async () => {
    const channel = uniqueChannel('resubscribe')
    const [a, b] = [worker(channel, 'a'), worker(channel, 'b-resub')]
    await Promise.all([a.ready(), b.ready()])
    const seen = recorder()
    b.subscribe(seen.listener)
    const resync = vi.fn()
    b.onResync(resync)
    await watch(b, seen, 'u1', 'u2')

    const admin = raw()
    const line = String(await admin.client('LIST')).split('\n').find((l) => l.includes('name=wire-auth:b-resub:sub'))
    const id = /\bid=(\d+)/.exec(line ?? '')?.[1]
    expect(id).toBeDefined()
    await admin.client('KILL', 'ID', id as string)
    await vi.waitFor(() => expect(resync).toHaveBeenCalledTimes(1), { timeout: 10_000 })
    // After an outage the resync re-checks every socket: no per-user hints on top.
    expect(seen.events.filter((e) => e.origin === HINT)).toHaveLength(2)

    await a.publish(claims('u2', 5))
    await a.publish(claims('u1', 5))
    await vi.waitFor(() => expect(remote(seen.events)).toEqual(['u2:5', 'u1:5']))
  })

  it("drops a message on a user's channel that names another user (or is a resync) as malformed", async () => {
    const channel = uniqueChannel('mismatch')
    const b = worker(channel, 'b')
    await b.ready()
    const seen = recorder()
    b.subscribe(seen.listener)
    await watch(b, seen, 'u1')
    const client = raw()
    await client.publish(`${channel}:u:u1`, JSON.stringify({ type: 'claims-changed', userId: 'admin', version: 1, origin: 'x' }))
    await client.publish(`${channel}:u:u1`, JSON.stringify({ type: 'resync', origin: 'x' }))
    await client.publish(`${channel}:u:u1`, JSON.stringify({ type: 'claims-changed', userId: 'u1', version: 1, origin: 'x' }))
    await vi.waitFor(() => expect(remote(seen.events)).toEqual(['u1:1']))
    expect(b.stats()).toMatchObject({ malformed: 2, received: 1 })
  })

  it('checks the routing option at construction (ERR_INVALID_OPTION)', () => {
    expect(() => new RedisAuthChannel({ url: REDIS_URL, routing: 'sharded' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
  })
})
