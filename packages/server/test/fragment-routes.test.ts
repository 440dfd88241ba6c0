// The route options of POST /auth/fragments and GET /auth/fragments/:name
// (fragment-routes.ts): schemas, body limit, JSON parser, rate-limit key,
// render budget and the boot-time warning. Each test names the option whose
// loss it catches (issue 21: found by mutation testing).
import { html, type WireAuthErrorCode } from '@wire-auth/core'
import Fastify, { type FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { connectAuth } from '../src/index.js'
import type { LiveOptions } from '../src/lib/options.js'
import { appsPerTest, signedInUser } from './support/app.js'

const apps = appsPerTest()

afterEach(() => {
  vi.useRealTimers()
})

async function start(live: LiveOptions = {}): Promise<FastifyInstance> {
  const app = await apps.build({ live })
  app.fragment('news', { public: true }, () => html`<p>news</p>`)
  app.fragment('members', { authenticated: true }, () => html`<p>members</p>`)
  return app
}

const code = (response: { json(): unknown }) => (response.json() as { error: { code: WireAuthErrorCode } }).error.code

function post(server: FastifyInstance, payload: string | object, extra: { remoteAddress?: string; cookie?: string } = {}) {
  return server.inject({
    method: 'POST',
    url: '/auth/fragments',
    payload,
    headers: { 'content-type': 'application/json', ...(extra.cookie === undefined ? {} : { cookie: extra.cookie }) },
    ...(extra.remoteAddress === undefined ? {} : { remoteAddress: extra.remoteAddress }),
  })
}

describe('POST /auth/fragments: body', () => {
  it('an empty list of regions answers 200 with no regions (it costs no render budget)', async () => {
    const server = await start({ rendersPerSecond: 1 })
    const response = await post(server, { regions: [] })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ principal: { authenticated: false, id: null, name: null }, regions: [] })
    // The budget of 1 is still whole.
    expect((await post(server, { regions: [{ id: 'a', fragment: 'news' }] })).statusCode).toBe(200)
  })

  it('refuses a body without regions with 400 ERR_VALIDATION, no-store', async () => {
    const server = await start()
    for (const body of [{}, { region: [] }]) {
      const response = await post(server, body)
      expect(response.statusCode).toBe(400)
      expect(code(response)).toBe('ERR_VALIDATION')
      expect(response.headers['cache-control']).toBe('no-store')
    }
  })

  it('refuses text that is not JSON with 400 ERR_VALIDATION', async () => {
    const server = await start()
    for (const text of ['{"regions": [', 'regions', '']) {
      const response = await post(server, text)
      expect(response.statusCode).toBe(400)
      expect(code(response)).toBe('ERR_VALIDATION')
    }
  })

  it('parses `__proto__` as a plain key, so the params rule refuses it with its own code (ERR_PARAMS_INVALID)', async () => {
    const server = await start()
    const response = await post(server, '{"regions":[{"id":"a","fragment":"news","params":{"__proto__":{"polluted":true}}}]}')
    expect(response.statusCode).toBe(400)
    expect(code(response)).toBe('ERR_PARAMS_INVALID')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('the body limit follows live.maxMessageBytes when it is above 1 MiB', async () => {
    const server = await start({ maxMessageBytes: 2 * 1024 * 1024 })
    // Whitespace is valid JSON: 1.5 MiB of it around one small region.
    const padded = `{"regions":[{"id":"a","fragment":"news"}]${' '.repeat(1.5 * 1024 * 1024)}}`
    const response = await post(server, padded)
    expect(response.statusCode).toBe(200)
    expect(response.json().regions).toEqual([{ id: 'a', status: 'allowed', html: '<p>news</p>' }])
    const over = await post(server, `{"regions":[]${' '.repeat(2 * 1024 * 1024)}}`)
    expect(over.statusCode).toBe(413)
  })

  it('the body limit is 1 MiB when live.maxMessageBytes is smaller', async () => {
    const server = await start({ maxMessageBytes: 1024 })
    const padded = `{"regions":[{"id":"a","fragment":"news"}]${' '.repeat(512 * 1024)}}`
    expect((await post(server, padded)).statusCode).toBe(200)
    expect((await post(server, `{"regions":[]${' '.repeat(1024 * 1024)}}`)).statusCode).toBe(413)
  })

  it('params of all regions together over live.maxParamsBytesPerSocket answer 400; exactly at the limit they fit', async () => {
    const server = await start()
    const one = { id: 'a', fragment: 'news', params: { p: 'x' } }
    const fits = await post(server, { regions: [one] })
    expect(fits.statusCode).toBe(200)
    // Measure what one region's params cost, then set the limit to exactly two of them.
    const bytes = Buffer.byteLength(JSON.stringify(one.params))
    await server.close()
    const tight = await start({ maxParamsBytesPerSocket: 2 * bytes })
    const two = [one, { id: 'b', fragment: 'news', params: { p: 'y' } }]
    expect((await post(tight, { regions: two })).statusCode).toBe(200)
    const three = [...two, { id: 'c', fragment: 'news', params: { p: 'z' } }]
    const refused = await post(tight, { regions: three })
    expect(refused.statusCode).toBe(400)
    expect(code(refused)).toBe('ERR_PARAMS_TOO_LARGE')
    expect(refused.headers['cache-control']).toBe('no-store')
  })
})

describe('POST /auth/fragments: per-client limits', () => {
  it('the request rate limit is per client address bucket: another address is not refused, the same IPv6 /64 is', async () => {
    const server = await start({ messagesPerSecond: 2 })
    vi.useFakeTimers({ toFake: ['Date'] })
    const body = { regions: [{ id: 'n', fragment: 'news' }] }
    const a = '2001:db8:1:1::1'
    expect((await post(server, body, { remoteAddress: a })).statusCode).toBe(200)
    expect((await post(server, body, { remoteAddress: a })).statusCode).toBe(200)
    const refused = await post(server, body, { remoteAddress: '2001:db8:1:1::2' })
    expect(refused.statusCode).toBe(429)
    expect(code(refused)).toBe('ERR_RATE_LIMITED')
    expect((await post(server, body, { remoteAddress: '2001:db8:1:2::1' })).statusCode).toBe(200)
    expect((await post(server, body, { remoteAddress: '192.0.2.7' })).statusCode).toBe(200)
  })

  it('the render budget is per client address bucket too', async () => {
    const server = await start({ rendersPerSecond: 2 })
    vi.useFakeTimers({ toFake: ['Date'] })
    const two = { regions: [{ id: 'a', fragment: 'news' }, { id: 'b', fragment: 'news', params: { x: 1 } }] }
    expect((await post(server, two, { remoteAddress: '2001:db8:1:1::1' })).statusCode).toBe(200)
    expect((await post(server, { regions: [{ id: 'a', fragment: 'news' }] }, { remoteAddress: '2001:db8:1:1::2' })).statusCode).toBe(429)
    expect((await post(server, two, { remoteAddress: '2001:db8:1:2::1' })).statusCode).toBe(200)
  })

  it('a request for more regions than the whole budget answers 429 with Retry-After 1 and takes nothing', async () => {
    const server = await start({ rendersPerSecond: 2 })
    vi.useFakeTimers({ toFake: ['Date'] })
    const three = { regions: [{ id: 'a', fragment: 'news' }, { id: 'b', fragment: 'news', params: { x: 1 } }, { id: 'c', fragment: 'news', params: { x: 2 } }] }
    const refused = await post(server, three)
    expect(refused.statusCode).toBe(429)
    expect(code(refused)).toBe('ERR_RATE_LIMITED')
    expect(refused.headers['retry-after']).toBe('1')
    expect(refused.headers['cache-control']).toBe('no-store')
    // Nothing was taken: two regions still fit in this second.
    expect((await post(server, { regions: three.regions.slice(0, 2) })).statusCode).toBe(200)
  })

  it('Retry-After after the budget ran out is the rest of the second, in whole seconds', async () => {
    const server = await start({ rendersPerSecond: 1 })
    vi.useFakeTimers({ toFake: ['Date'] })
    expect((await post(server, { regions: [{ id: 'a', fragment: 'news' }] })).statusCode).toBe(200)
    vi.setSystemTime(Date.now() + 400)
    const refused = await server.inject({ url: '/auth/fragments/news' })
    expect(refused.statusCode).toBe(429)
    expect(refused.headers['retry-after']).toBe('1')
    expect(refused.headers['cache-control']).toBe('no-store')
  })
})

describe('GET /auth/fragments/:name: per-client limits', () => {
  it('the request rate limit applies to GET too, per client address bucket', async () => {
    const server = await start({ messagesPerSecond: 2 })
    vi.useFakeTimers({ toFake: ['Date'] })
    const get = (remoteAddress: string) => server.inject({ url: '/auth/fragments/news', remoteAddress })
    expect((await get('2001:db8:1:1::1')).statusCode).toBe(200)
    expect((await get('2001:db8:1:1::1')).statusCode).toBe(200)
    const refused = await get('2001:db8:1:1::2')
    expect(refused.statusCode).toBe(429)
    expect(code(refused)).toBe('ERR_RATE_LIMITED')
    expect((await get('2001:db8:1:2::1')).statusCode).toBe(200)
  })
})

describe('GET /auth/fragments/:name: query and params', () => {
  it('kind=region is the default kind, spelled out', async () => {
    const server = await start()
    expect((await server.inject({ url: '/auth/fragments/news?kind=region' })).body).toBe('<p>news</p>')
    const denied = await server.inject({ url: '/auth/fragments/members?kind=region' })
    expect(denied.statusCode).toBe(403)
    expect(code(denied)).toBe('ERR_UNAUTHENTICATED')
  })

  it('a denied region with else html answers it as text/html', async () => {
    const server = await start()
    server.fragment('teaser', { authenticated: true, else: () => html`<p>sign in</p>` }, () => html`<p>inside</p>`)
    const response = await server.inject({ url: '/auth/fragments/teaser' })
    expect(response.statusCode).toBe(403)
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(response.body).toBe('<p>sign in</p>')
  })

  it('a name over 128 characters is refused by the schema (400), one of 128 is looked up (404)', async () => {
    // Fastify's own maxParamLength (100) would answer 414 first: a host may raise it.
    const server = Fastify({ logger: false, maxParamLength: 1000 })
    apps.track(server)
    await connectAuth(server, { sqlitePath: apps.sqlitePath() })
    const long = await server.inject({ url: `/auth/fragments/${'a'.repeat(129)}` })
    expect(long.statusCode).toBe(400)
    expect(code(long)).toBe('ERR_VALIDATION')
    expect(long.headers['cache-control']).toBe('no-store')
    const max = await server.inject({ url: `/auth/fragments/${'a'.repeat(128)}` })
    expect(max.statusCode).toBe(404)
    expect(code(max)).toBe('ERR_FRAGMENT_NOT_FOUND')
    expect(max.headers['cache-control']).toBe('no-store')
  })

  it('params over 8192 characters are refused by the schema before they are parsed (ERR_VALIDATION, not ERR_PARAMS_*)', async () => {
    const server = await start()
    const text = encodeURIComponent(JSON.stringify({ blob: 'x'.repeat(8200) }))
    const response = await server.inject({ url: `/auth/fragments/news?params=${text}` })
    expect(response.statusCode).toBe(400)
    expect(code(response)).toBe('ERR_VALIDATION')
  })

  it('redirect and returnTo over 2048 characters are refused (400 ERR_VALIDATION)', async () => {
    const server = await start()
    const long = encodeURIComponent(`/${'a'.repeat(2048)}`)
    for (const field of ['redirect', 'returnTo']) {
      const response = await server.inject({ url: `/auth/fragments/members?kind=guard&${field}=${long}` })
      expect(response.statusCode).toBe(400)
      expect(code(response)).toBe('ERR_VALIDATION')
    }
  })

  it('kind=guard answers a redirect where the default kind (region) answers 403', async () => {
    const server = await start()
    const region = await server.inject({ url: '/auth/fragments/members' })
    expect(region.statusCode).toBe(403)
    expect(code(region)).toBe('ERR_UNAUTHENTICATED')
    expect(region.headers['x-wire-auth-code']).toBe('ERR_UNAUTHENTICATED')
    // A coded JSON error is no-store like every error of these routes.
    expect(region.headers['cache-control']).toBe('no-store')
    const guard = await server.inject({ url: `/auth/fragments/members?kind=guard&returnTo=${encodeURIComponent('/members')}` })
    expect(guard.statusCode).toBe(303)
    expect(guard.headers.location).toBe('/login?returnTo=%2Fmembers')
    expect(guard.headers['x-wire-auth-code']).toBe('ERR_UNAUTHENTICATED')
    expect(guard.body).toBe('')
  })

  it('an empty params object is accepted; a params text of the wrong shape answers its own code with no-store', async () => {
    const server = await start()
    expect((await server.inject({ url: '/auth/fragments/news?params=%7B%7D' })).statusCode).toBe(200)
    const bad = await server.inject({ url: '/auth/fragments/news?params=1' })
    expect(bad.statusCode).toBe(400)
    expect(code(bad)).toBe('ERR_PARAMS_INVALID')
    expect(bad.headers['cache-control']).toBe('no-store')
  })

  it('an unsafe redirect of the element is a region problem only when it is no string the rules accept (400 ERR_VALIDATION, no-store)', async () => {
    const server = await start()
    const response = await server.inject({ url: '/auth/fragments/members?kind=guard&redirect=' })
    expect(response.statusCode).toBe(400)
    expect(code(response)).toBe('ERR_VALIDATION')
    expect(response.headers['cache-control']).toBe('no-store')
  })

  it('a signed-in user gets the html; Vary appends Cookie, Authorization to the Origin of CORS', async () => {
    const server = await start()
    const { cookie } = await signedInUser(server, 'ada@example.com', 'Ada')
    const response = await server.inject({ url: '/auth/fragments/members', headers: { cookie } })
    expect(response.statusCode).toBe(200)
    expect(response.headers.vary).toBe('Origin, Cookie, Authorization')
    expect(response.headers['x-wire-auth-code']).toBeUndefined()
    expect(response.body).toBe('<p>members</p>')
  })
})

describe('route set-up', () => {
  it('both routes are declared guarded (the route table of the security review reads it)', async () => {
    const server = apps.track(Fastify({ logger: false }))
    const declared: Record<string, unknown> = {}
    server.addHook('onRoute', (route) => {
      if (route.url.startsWith('/auth/fragments') && route.method !== 'OPTIONS' && route.method !== 'HEAD') declared[`${String(route.method)} ${route.url}`] = (route.config as { wireAuth?: unknown } | undefined)?.wireAuth
    })
    await connectAuth(server, { sqlitePath: apps.sqlitePath() })
    await server.ready()
    expect(declared).toEqual({ 'POST /auth/fragments': 'guarded', 'GET /auth/fragments/:name': 'guarded' })
  })

  it('renders are counted in the metrics when they are on', async () => {
    const registry = new Registry()
    const server = await apps.build({ metrics: { registry, path: false } })
    server.fragment('news', { public: true }, () => html`<p>news</p>`)
    expect((await server.inject({ url: '/auth/fragments/news' })).statusCode).toBe(200)
    expect(await registry.metrics()).toMatch(/^wire_auth_renders_total\{outcome="ok"\} 1$/m)
  })
})

describe('boot-time check of fragment guards', () => {
  it('warns once per fragment whose policy does not exist when the app is ready; not for known policies or other guards', async () => {
    const lines: string[] = []
    const server = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => void lines.push(line) } } })
    apps.track(server)
    await connectAuth(server, { sqlitePath: apps.sqlitePath() })
    server.authEngine.addPolicy('Known', () => true)
    server.fragment('ghost', { policy: 'Missing' }, () => html`<p>never</p>`)
    server.fragment('fine', { policy: 'Known' }, () => html`<p>fine</p>`)
    server.fragment('claims', { claims: [['role', 'admin']] }, () => html`<p>claims</p>`)
    server.fragment('open', { public: true }, () => html`<p>open</p>`)
    await server.ready()
    const warned = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.code === 'ERR_POLICY_NOT_FOUND')
    expect(warned).toHaveLength(1)
    expect(warned[0]).toMatchObject({ level: 40, fragment: 'ghost', policy: 'Missing' })
  })
})
