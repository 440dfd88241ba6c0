import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isWireAuthError } from '@wire-auth/core'
import { RedisAuthChannel } from '@wire-auth/server/redis'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AuthEvent } from '../src/lib/channel/auth-channel.js'
import { memoryLogger, rawClient, recorder, REDIS_URL, uniqueChannel, withoutOrigin } from './redis-channel-helpers.js'

// Two RedisAuthChannel instances on one Redis stand for two workers.

const open: Array<{ close(): Promise<unknown> }> = []
function track<T extends { close(): Promise<unknown> }>(value: T): T {
  open.push(value)
  return value
}
function trackRedis(client: Redis): Redis {
  open.push({ close: () => client.quit().catch(() => undefined) })
  return client
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((item) => item.close()))
})

function worker(channel: string, extra: Partial<ConstructorParameters<typeof RedisAuthChannel>[0]> = {}): RedisAuthChannel {
  return track(new RedisAuthChannel({ routing: 'broadcast', url: REDIS_URL, channel, logger: memoryLogger().logger, ...extra }))
}

const claims = (userId: string, version: number): AuthEvent => ({ type: 'claims-changed', userId, version })

describe('RedisAuthChannel between two workers', () => {
  it('delivers each event once to every worker: locally at once, remotely through Redis', async () => {
    const channel = uniqueChannel('fanout')
    const a = worker(channel, { workerId: 'worker-a' })
    const b = worker(channel, { workerId: 'worker-b' })
    await Promise.all([a.ready(), b.ready()])
    const seenA = recorder()
    const seenB = recorder()
    a.subscribe(seenA.listener)
    b.subscribe(seenB.listener)

    const published = a.publish(claims('u1', 1))
    // Local delivery is synchronous: the publishing worker never waits for Redis.
    expect(seenA.events.map(withoutOrigin)).toEqual([claims('u1', 1)])
    await published
    await vi.waitFor(() => expect(seenB.events).toHaveLength(1))
    expect(seenB.events[0]).toEqual({ ...claims('u1', 1), origin: 'worker-a' })

    // B answers only after it saw A's event; Redis delivers in publish order,
    // so once A has B's event its own echo has been processed (and ignored).
    await b.publish({ type: 'sessions-revoked', userId: 'u2', version: 4, sessionIds: ['s1'], all: false })
    await vi.waitFor(() => expect(seenA.events).toHaveLength(2))
    expect(seenA.events.map(withoutOrigin)).toEqual([
      claims('u1', 1),
      { type: 'sessions-revoked', userId: 'u2', version: 4, sessionIds: ['s1'], all: false },
    ])
    expect(seenA.events[1].origin).toBe('worker-b')
    expect(seenB.events).toHaveLength(2)
    expect(a.stats()).toMatchObject({ published: 1, received: 1, dropped: 0, malformed: 0 })
    expect(b.stats()).toMatchObject({ published: 1, received: 1, dropped: 0, malformed: 0 })
  })

  it('delivers every well-formed event whatever its version: the channel never orders or drops by it (checklist 29)', async () => {
    const channel = uniqueChannel('versions')
    const a = worker(channel, { workerId: 'worker-a' })
    const b = worker(channel, { workerId: 'worker-b' })
    await Promise.all([a.ready(), b.ready()])
    const seenB = recorder()
    b.subscribe(seenB.listener)
    const raw = trackRedis(rawClient())
    const send = (event: AuthEvent) => raw.publish(channel, JSON.stringify({ ...event, origin: 'worker-x' }))

    await send(claims('u1', Number.MAX_SAFE_INTEGER)) // forged: must not hide what follows
    await a.publish(claims('u1', 5))
    await send(claims('u1', 3)) // older: delivered, listeners re-read the store anyway
    await send({ type: 'sessions-revoked', userId: 'u1', version: 2, sessionIds: ['s1'] })
    await vi.waitFor(() => expect(seenB.events).toHaveLength(4))
    expect(seenB.events.map((e) => `${e.type}:${e.userId}:${e.version}`)).toEqual([
      `claims-changed:u1:${Number.MAX_SAFE_INTEGER}`,
      'claims-changed:u1:5',
      'claims-changed:u1:3',
      'sessions-revoked:u1:2',
    ])
    expect(b.stats()).not.toHaveProperty('stale')

    // Local delivery is not filtered either: a worker's own later event always reaches its listeners.
    await vi.waitFor(() => expect(a.stats().received).toBe(3))
    const seenA = recorder()
    a.subscribe(seenA.listener)
    await a.publish(claims('u1', 4))
    expect(seenA.events.map((e) => e.version)).toEqual([4])
  })

  it('ignores malformed messages published by hand, logs them with a code and keeps working', async () => {
    const channel = uniqueChannel('malformed')
    const log = memoryLogger()
    const b = worker(channel, { workerId: 'worker-b', logger: log.logger })
    await b.ready()
    const seen = recorder()
    b.subscribe(seen.listener)
    const raw = trackRedis(rawClient())
    const bad: Array<string | Buffer> = [
      'not json',
      '',
      'null',
      '42',
      '"claims-changed"',
      '[]',
      '{}',
      '{"type":"claims-changed"}',
      '{"type":"claims-changed","userId":"u1"}',
      '{"type":"claims-changed","userId":"u1","version":-1}',
      '{"type":"claims-changed","userId":"u1","version":1.5}',
      '{"type":"claims-changed","userId":"u1","version":"7"}',
      '{"type":"claims-changed","userId":"","version":1}',
      '{"type":"claims-changed","userId":{"$ne":null},"version":1}',
      `{"type":"claims-changed","userId":"${'x'.repeat(300)}","version":1}`,
      '{"type":"claims-changed","userId":"u1","version":1e400}',
      '{"type":"user-deleted","userId":"u1","version":1}',
      '{"type":"sessions-revoked","userId":"u1","version":1}',
      '{"type":"sessions-revoked","userId":"u1","version":1,"sessionIds":"s1"}',
      '{"type":"sessions-revoked","userId":"u1","version":1,"sessionIds":[1,2]}',
      '{"type":"sessions-revoked","userId":"u1","version":1,"all":"yes"}',
      '{"type":"claims-changed","userId":"u1","version":1,"origin":5}',
      '{"__proto__":{"polluted":true},"type":"claims-changed","userId":"u1","version":1,"origin":""}',
      `{"type":"claims-changed","userId":"u1","version":1,"pad":"${'x'.repeat(1024 * 1024)}"}`,
      Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
    ]
    for (const payload of bad) await raw.publish(channel, payload)
    await raw.publish(channel, JSON.stringify({ type: 'claims-changed', userId: 'u1', version: 1, origin: 'worker-x', extra: 'ignored' }))

    await vi.waitFor(() => expect(seen.events).toHaveLength(1))
    expect(seen.events[0]).toEqual({ type: 'claims-changed', userId: 'u1', version: 1, origin: 'worker-x' })
    expect(Object.isFrozen(seen.events[0])).toBe(true)
    expect(b.stats().malformed).toBe(bad.length)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    const warnings = log.lines.filter((line) => line.obj.code === 'ERR_CHANNEL_MESSAGE_INVALID')
    expect(warnings.length).toBeGreaterThanOrEqual(1)
    expect(warnings[0].level).toBe('warn')
    expect(b.connected).toBe(true)
  })

  // Was ERR_VALIDATION with status 500, while ERR_VALIDATION is a client's 400 everywhere else (issue 20):
  // a malformed event is the publisher's fault, the code of a malformed channel message.
  it('rejects a malformed event on publish with ERR_CHANNEL_MESSAGE_INVALID (500) and delivers nothing', async () => {
    const a = worker(uniqueChannel('invalid-publish'))
    const seen = recorder()
    a.subscribe(seen.listener)
    const attempts: unknown[] = [
      null,
      { type: 'claims-changed', userId: 'u1' },
      { type: 'claims-changed', userId: '', version: 1 },
      { type: 'nope', userId: 'u1', version: 1 },
      { type: 'sessions-revoked', userId: 'u1', version: 1 },
    ]
    for (const attempt of attempts) {
      const err = await a.publish(attempt as AuthEvent).then(() => null, (e: unknown) => e)
      expect(isWireAuthError(err, 'ERR_CHANNEL_MESSAGE_INVALID')).toBe(true)
      expect((err as { statusCode: number }).statusCode).toBe(500)
    }
    expect(seen.events).toEqual([])
  })

  it('sends what a short-lived process published before its first connect when it closes (the CLI case)', async () => {
    const channel = uniqueChannel('short-lived')
    const b = worker(channel, { workerId: 'worker-b' })
    await b.ready()
    const seenB = recorder()
    b.subscribe(seenB.listener)

    const cli = new RedisAuthChannel({ routing: 'broadcast', url: REDIS_URL, channel, workerId: 'cli', logger: memoryLogger().logger })
    await cli.publish(claims('u1', 1))
    await cli.publish({ type: 'sessions-revoked', userId: 'u1', version: 1, all: true })
    await cli.close()

    await vi.waitFor(() => expect(seenB.events).toHaveLength(2))
    expect(seenB.events.map((e) => e.type)).toEqual(['claims-changed', 'sessions-revoked'])
    expect(cli.stats()).toMatchObject({ published: 2, dropped: 0 })
  })

  it('keeps delivering to the other listeners when one throws', async () => {
    const log = memoryLogger()
    const a = worker(uniqueChannel('throwing'), { logger: log.logger })
    const seen = recorder()
    a.subscribe(() => {
      throw new Error('listener bug')
    })
    a.subscribe(seen.listener)
    await a.publish(claims('u1', 1))
    expect(seen.events).toHaveLength(1)
    expect(log.lines.some((line) => line.level === 'error' && line.obj.code === 'ERR_INTERNAL')).toBe(true)
  })

  it('stops delivering to an unsubscribed listener', async () => {
    const a = worker(uniqueChannel('unsubscribe'))
    const seen = recorder()
    const off = a.subscribe(seen.listener)
    await a.publish(claims('u1', 1))
    off()
    await a.publish(claims('u1', 2))
    expect(seen.events).toHaveLength(1)
  })
})

describe('RedisAuthChannel resync', () => {
  it('does not resync on the first connect', async () => {
    const channel = uniqueChannel('first-connect')
    const a = worker(channel)
    const onResync = vi.fn()
    a.onResync(onResync)
    await a.ready()
    const seen = recorder()
    a.subscribe(seen.listener)
    // A round trip through Redis after the subscription was confirmed.
    await trackRedis(rawClient()).publish(channel, JSON.stringify(claims('u1', 1)))
    await vi.waitFor(() => expect(seen.events).toHaveLength(1))
    expect(onResync).not.toHaveBeenCalled()
    expect(a.stats().resyncs).toBe(0)
  })

  it('resyncs when another worker asks (it lost publishes), but not on its own notice', async () => {
    const channel = uniqueChannel('peer-resync')
    const a = worker(channel, { workerId: 'worker-a' })
    await a.ready()
    const onResync = vi.fn()
    a.onResync(onResync)
    const seen = recorder()
    a.subscribe(seen.listener)
    const raw = trackRedis(rawClient())
    await raw.publish(channel, JSON.stringify({ type: 'resync', origin: 'worker-a' }))
    await raw.publish(channel, JSON.stringify({ type: 'resync', origin: 'worker-b' }))
    await raw.publish(channel, JSON.stringify({ ...claims('u1', 1), origin: 'worker-b' }))
    await vi.waitFor(() => expect(seen.events).toHaveLength(1))
    expect(onResync).toHaveBeenCalledTimes(1)
  })

  it('merges a burst of resync requests into one immediate and one trailing resync', async () => {
    const channel = uniqueChannel('resync-burst')
    const a = worker(channel, { workerId: 'worker-a', resyncMinIntervalMs: 500 })
    await a.ready()
    const onResync = vi.fn()
    a.onResync(onResync)
    const burst = trackRedis(rawClient()).pipeline()
    for (let i = 0; i < 20; i++) burst.publish(channel, JSON.stringify({ type: 'resync', origin: `worker-${i}` }))
    await burst.exec()
    await vi.waitFor(() => expect(onResync).toHaveBeenCalledTimes(2))
    expect(a.stats().resyncs).toBe(2)
  })
})

describe('RedisAuthChannel options and lifecycle', () => {
  it('checks options at construction with ERR_INVALID_OPTION and never echoes a password', () => {
    const bad: unknown[] = [
      { url: 'http://127.0.0.1:6379' },
      { url: 'not a url :secretpw' },
      { url: 42 },
      { channel: '' },
      { workerId: '' },
      { retry: { initialMs: 0 } },
      { retry: { initialMs: 100, maxMs: 50 } },
      { commandTimeoutMs: -1 },
      { logger: { warn: 1 } },
      { url: REDIS_URL, client: {} },
    ]
    for (const options of bad) {
      let caught: unknown = null
      try {
        track(new RedisAuthChannel(options as ConstructorParameters<typeof RedisAuthChannel>[0]))
      } catch (err) {
        caught = err
      }
      expect(isWireAuthError(caught, 'ERR_INVALID_OPTION')).toBe(true)
      expect((caught as Error).message).not.toContain('secretpw')
    }
  })

  it('copies the settings of a given client and leaves that client open', async () => {
    const client = trackRedis(rawClient())
    const channel = uniqueChannel('client-option')
    const [idA, idB] = [uniqueChannel('a').slice(-12), uniqueChannel('b').slice(-12)]
    const a = track(new RedisAuthChannel({ routing: 'broadcast', client, channel, workerId: idA, logger: memoryLogger().logger }))
    const b = worker(channel, { workerId: idB })
    await Promise.all([a.ready(), b.ready()])
    const seen = recorder()
    b.subscribe(seen.listener)
    await a.publish(claims('u1', 1))
    await vi.waitFor(() => expect(seen.events).toHaveLength(1))
    await a.close()
    expect(await client.ping()).toBe('PONG')
    const names = String(await client.client('LIST'))
    expect(names).toContain(`name=wire-auth:${idB}:sub`)
    expect(names).not.toContain(`name=wire-auth:${idA}:`)
  })

  it('closes idempotently; afterwards publish is a no-op and ready() rejects with ERR_CHANNEL_UNAVAILABLE', async () => {
    const a = worker(uniqueChannel('close'))
    await a.ready()
    const seen = recorder()
    a.subscribe(seen.listener)
    const first = a.close()
    expect(a.close()).toBe(first)
    await first
    await a.close()
    await a.publish(claims('u1', 1))
    expect(seen.events).toEqual([])
    expect(a.connected).toBe(false)
    const err = await a.ready().then(() => null, (e: unknown) => e)
    expect(isWireAuthError(err, 'ERR_CHANNEL_UNAVAILABLE')).toBe(true)
  })
})

describe('the @wire-auth/server/redis subpath', () => {
  const src = fileURLToPath(new URL('../src/', import.meta.url))
  const files = listTs(src).map((file) => ({ path: relative(src, file), text: readFileSync(file, 'utf8') }))
  // Type-only imports are erased at build time, so they load nothing.
  const staticImports = (text: string) => [...text.matchAll(/^\s*(?:import|export)\b(?!\s+type\b)[^'"]*?\bfrom\s+['"]([^'"]+)['"]/gm)].map((m) => m[1])
  // The Redis family: the entry and lib/channel/redis-*.ts.
  const isRedisFamily = (path: string) => path === 'redis.ts' || /^lib\/channel\/redis-[\w-]+\.ts$/.test(path)

  it('is the only way in: no other module imports ioredis or the Redis channel statically', () => {
    for (const { path, text } of files) {
      const imports = staticImports(text)
      if (!isRedisFamily(path)) {
        expect(imports.filter((spec) => spec === 'ioredis'), path).toEqual([])
        expect(imports.filter((spec) => /(^|\/)redis(-[\w-]+)?\.js$/.test(spec)), path).toEqual([])
      }
    }
  })

  it('holds only named re-exports', () => {
    const entry = readFileSync(join(src, 'redis.ts'), 'utf8')
    const statements = entry.split('\n').filter((line) => line.trim() !== '')
    for (const line of statements) expect(line).toMatch(/^export (type )?\{ [\w, ]+ \} from '\.\/lib\/channel\/[\w-]+\.js'$/)
  })
})

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return listTs(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}
