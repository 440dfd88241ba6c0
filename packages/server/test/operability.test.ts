// Operable (issue 12, item 7): GET /auth/health and opt-in Prometheus
// metrics (prom-client), scraped from the route the host chose.
import Fastify from 'fastify'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { connectAuth, LocalAuthChannel } from '../src/index.js'
import { liveHarness, MOUNT, SITE } from './live-harness.js'
import { signedInUser, tempDir } from './support/app.js'

/** Sample values of a text exposition, by `name{labels}`. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    samples.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return samples
}

/** A channel that reports itself disconnected, as RedisAuthChannel does during an outage. */
class DownChannel extends LocalAuthChannel {
  connected = false
}

describe('GET /auth/health', () => {
  const live = liveHarness()

  it('200 { status: "ok" } while the store and the channel are reachable', async () => {
    const app = await live.start()
    const response = await app.inject({ url: '/auth/health' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ status: 'ok' })
    expect(response.headers['cache-control']).toBe('no-store')
  })

  it('503 ERR_STORE_UNAVAILABLE when the store is down, with no internals in the body', async () => {
    const app = await live.start()
    await app.authStore.close()
    const response = await app.inject({ url: '/auth/health' })
    expect(response.statusCode).toBe(503)
    expect(response.json()).toEqual({ error: { code: 'ERR_STORE_UNAVAILABLE', message: expect.any(String) } })
    expect(response.body).not.toMatch(/sqlite|SQLITE|database|\.ts|\/tmp\//i)
  })

  it('503 ERR_CHANNEL_UNAVAILABLE when the channel says it is disconnected', async () => {
    const app = await live.start({ channel: new DownChannel() })
    const response = await app.inject({ url: '/auth/health' })
    expect(response.statusCode).toBe(503)
    expect(response.json().error.code).toBe('ERR_CHANNEL_UNAVAILABLE')
  })
})

describe('Prometheus metrics (options.metrics)', () => {
  const live = liveHarness()

  it('are off by default: no route', async () => {
    const app = await live.start()
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(404)
  })

  it('count sockets, regions, renders, fan-out latency, logins and throttles, on the route the host chose', async () => {
    const app = await live.start({ metrics: { path: '/internal/metrics' }, localIdp: { rateLimitPerMinute: 3, argon2: { memoryCost: 19456, timeCost: 2, parallelism: 1 } } })
    const scrape = async () => {
      const response = await app.inject({ url: '/internal/metrics' })
      expect(response.statusCode).toBe(200)
      expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
      return parse(response.body)
    }
    const before = await scrape()
    expect(before.get('wire_auth_sockets_open')).toBe(0)
    expect(before.get('wire_auth_regions_mounted')).toBe(0)

    // Two sockets of one user, three regions each.
    const { user, cookie } = await signedInUser(app)
    const a = await live.connect(cookie)
    const b = await live.connect(cookie)
    for (const client of [a, b]) {
      client.send(MOUNT)
      await client.render()
    }
    let now = await scrape()
    expect(now.get('wire_auth_sockets_open')).toBe(2)
    expect(now.get('wire_auth_regions_mounted')).toBe(6)
    const rendersBefore = now.get('wire_auth_renders_total{outcome="ok"}') ?? 0
    expect(rendersBefore).toBeGreaterThan(0)

    // A grant fans out to both sockets: two latency observations, more renders.
    await app.auth.grantTo(user.id, 'role', 'beta')
    await a.render()
    await b.render()
    await new Promise((resolve) => setTimeout(resolve, 50))
    now = await scrape()
    expect(now.get('wire_auth_fanout_seconds_count')).toBe(2)
    expect(now.get('wire_auth_renders_total{outcome="ok"}')).toBeGreaterThan(rendersBefore)

    // Logins through the local IdP: one success, one failure; then the rate limit throttles.
    await app.localIdp!.createUser({ email: 'metrics@example.com', password: 'a long enough password 1' })
    const login = (password: string) => app.inject({ method: 'POST', url: '/auth/local/login', headers: { origin: SITE }, payload: { email: 'metrics@example.com', password } })
    expect((await login('a long enough password 1')).statusCode).toBe(200)
    expect((await login('wrong password, clearly')).statusCode).toBe(401)
    expect((await login('wrong password, clearly')).statusCode).toBe(401)
    expect((await login('wrong password, clearly')).statusCode).toBe(429)
    now = await scrape()
    expect(now.get('wire_auth_logins_total{outcome="success",via="local"}')).toBe(1)
    expect(now.get('wire_auth_logins_total{outcome="failure",via="local"}')).toBe(2)
    expect(now.get('wire_auth_throttled_total{scope="http"}')).toBe(1)

    a.close()
    b.close()
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect((await scrape()).get('wire_auth_sockets_open')).toBe(0)
  })

  it("join the host's own registry (one scrape for both), with path: false", async () => {
    const registry = new Registry()
    const app = await live.start({ metrics: { registry, path: false } })
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(404)
    expect(await registry.metrics()).toMatch(/^wire_auth_sockets_open 0$/m)
  })

  it('bad metrics options are ERR_INVALID_OPTION', async () => {
    const dir = tempDir()
    for (const metrics of [{ path: 'metrics' }, { prefix: 'has space' }, { registry: {} }, { pth: '/m' }, 'yes']) {
      const app = Fastify({ logger: false })
      await expect(connectAuth(app, { sqlitePath: `${dir.dir}/auth.sqlite`, metrics: metrics as never })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' })
      await app.close().catch(() => undefined)
    }
    dir.cleanup()
  })
})
