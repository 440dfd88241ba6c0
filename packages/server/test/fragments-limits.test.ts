// Issue 13 F6 and checklist 28 over HTTP: POST /auth/fragments is rate
// limited like the socket and the work of one request is bounded — regions,
// params bytes, distinct evaluations (and so the store reads of `load`), and
// region evaluations per client per second across HTTP and the socket.
import { html, type WireAuthErrorCode } from '@wire-auth/core'
import type { FastifyInstance } from 'fastify'
import { describe, expect, it, vi } from 'vitest'
import type { LiveOptions } from '../src/lib/options.js'
import { appsPerTest, signedInUser } from './support/app.js'

const apps = appsPerTest()
let loads = 0

async function start(live: LiveOptions = {}): Promise<FastifyInstance> {
  const app = await apps.build({ allowedOrigins: ['https://www.example.com'], live })
  loads = 0
  const server = app
  // Like the demo's account page: every evaluation reads the store.
  app.fragment('sessions', {
    authenticated: true,
    load: async ({ user }) => {
      loads++
      return server.auth.listSessions(user.userId!)
    },
  }, ({ data }) => html`<p>${String((data as unknown[]).length)} sessions</p>`)
  app.fragment('news', { public: true }, () => html`<p>news</p>`)
  return app
}

function post(server: FastifyInstance, regions: unknown[], cookie?: string) {
  return server.inject({ method: 'POST', url: '/auth/fragments', payload: { regions }, headers: cookie === undefined ? {} : { cookie } })
}

const code = (response: { json(): unknown }) => (response.json() as { error: { code: WireAuthErrorCode } }).error.code

describe('POST /auth/fragments: bounded work per request', () => {
  it('a region repeated 500 times is evaluated once: its load (and store reads) run once (regression: 500 times)', async () => {
    const server = await start()
    const { cookie } = await signedInUser(server, 'ada@example.com', 'Ada')
    const regions = Array.from({ length: 500 }, (_, i) => ({ id: `r${i}`, fragment: 'sessions' }))
    const response = await post(server, regions, cookie)
    expect(response.statusCode).toBe(200)
    const results = response.json().regions as Array<{ id: string; status: string; html: string }>
    expect(results.map((r) => r.id)).toEqual(regions.map((r) => r.id))
    expect(new Set(results.map((r) => `${r.status} ${r.html}`))).toEqual(new Set(['allowed <p>1 sessions</p>']))
    expect(loads).toBe(1)
  })

  it('params over live.maxParamsBytesPerSocket in one request answer 400 ERR_PARAMS_TOO_LARGE and evaluate nothing', async () => {
    const server = await start()
    const { cookie } = await signedInUser(server, 'ada@example.com', 'Ada')
    const regions = Array.from({ length: 20 }, (_, i) => ({ id: `r${i}`, fragment: 'sessions', params: { pad: `${i}`.padEnd(4000, 'x') } }))
    const response = await post(server, regions, cookie)
    expect(response.statusCode).toBe(400)
    expect(code(response)).toBe('ERR_PARAMS_TOO_LARGE')
    expect(loads).toBe(0)
  })

  it('more distinct regions than live.rendersPerSecond answer 429 ERR_RATE_LIMITED with Retry-After, before any evaluation', async () => {
    const server = await start({ rendersPerSecond: 10 })
    const { cookie } = await signedInUser(server, 'ada@example.com', 'Ada')
    const regions = Array.from({ length: 11 }, (_, i) => ({ id: `r${i}`, fragment: 'sessions', params: { n: i } }))
    const response = await post(server, regions, cookie)
    expect(response.statusCode).toBe(429)
    expect(code(response)).toBe('ERR_RATE_LIMITED')
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect(loads).toBe(0)
    // Within the budget it is served.
    expect((await post(server, regions.slice(0, 10).map((r) => ({ ...r, id: `${r.id}b` })), cookie)).statusCode).toBe(200)
  })

  it('more requests per second than live.messagesPerSecond from one client answer 429 ERR_RATE_LIMITED (regression: no limit)', async () => {
    const server = await start({ messagesPerSecond: 5 })
    const responses = await Promise.all(Array.from({ length: 30 }, () => post(server, [{ id: 'n', fragment: 'news' }])))
    const statuses = responses.map((r) => r.statusCode)
    // However the burst falls across one-second windows, at most two windows' worth pass.
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(10)
    const refused = responses.filter((r) => r.statusCode === 429)
    expect(refused.length).toBeGreaterThanOrEqual(20)
    for (const response of refused) {
      expect(code(response)).toBe('ERR_RATE_LIMITED')
      expect(response.headers['retry-after']).toBeDefined()
      expect(response.headers['x-ratelimit-limit']).toBe('5')
    }
    // Within the limit: no limit headers (docs/http.md, "Rate limits").
    for (const response of responses.filter((r) => r.statusCode === 200)) {
      expect(Object.keys(response.headers).filter((h) => h.startsWith('x-ratelimit'))).toEqual([])
    }
  })

  it('GET /auth/fragments/:name draws on the same render budget, which refills each second', async () => {
    // Only Date is frozen: the one-second windows become deterministic.
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const server = await start({ rendersPerSecond: 3 })
      expect((await post(server, [{ id: 'a', fragment: 'news' }, { id: 'b', fragment: 'news', params: { x: 1 } }, { id: 'c', fragment: 'news', params: { x: 2 } }])).statusCode).toBe(200)
      const refused = await server.inject({ method: 'GET', url: '/auth/fragments/news' })
      expect(refused.statusCode).toBe(429)
      expect(code(refused)).toBe('ERR_RATE_LIMITED')
      vi.setSystemTime(Date.now() + 1000)
      expect((await server.inject({ method: 'GET', url: '/auth/fragments/news' })).statusCode).toBe(200)
    } finally {
      vi.useRealTimers()
    }
  })
})
