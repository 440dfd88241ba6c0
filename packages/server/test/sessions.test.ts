// The session manager (sessions.ts) on its own: a real SQLite store, real
// Fastify requests through inject, a frozen clock. The cookie it reads and
// writes, the row it stores, expiry and renewal at their boundaries, and who
// is told when a sign-in replaces a live session (issue 21: found by
// mutation testing; session-cookies.test.ts and revocation.test.ts cover it through
// the plugin).
import { createHash } from 'node:crypto'
import { fastifyCookie } from '@fastify/cookie'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { resolveOptions, type SessionOptions } from '../src/lib/options.js'
import { principalOf, sessionIdOf, setPrincipal, setSessionId } from '../src/lib/request-state.js'
import { createSessionManager, hashSessionId } from '../src/lib/sessions.js'
import type { SessionProvider, UserRecord } from '../src/lib/store/auth-store.js'
import type { SqliteAuthStore } from '../src/lib/store/sqlite-store.js'
import { frozenClock, tempStore } from './local-idp-harness.js'

const MINUTE = 60_000
const IDLE = 30 * MINUTE
const ABSOLUTE = 12 * 60 * MINUTE
const TOUCH = MINUTE

let env: Awaited<ReturnType<typeof tempStore>>
let clock: ReturnType<typeof frozenClock>
let app: FastifyInstance
let manager: ReturnType<typeof createSessionManager>
let replaced: Array<[string, string, number]>
let user: UserRecord

async function start(session: SessionOptions = {}, publicUrl = 'http://localhost:3000', listen = true): Promise<void> {
  const options = resolveOptions({ publicUrl, session: { idleTimeoutMs: IDLE, absoluteTimeoutMs: ABSOLUTE, touchIntervalMs: TOUCH, ...session } })
  replaced = []
  manager = createSessionManager({
    store: freshObjects(env.store),
    options,
    now: clock.now,
    ...(listen
      ? {
          onReplaced: async (userId: string, sessionHash: string, version: number) => {
            replaced.push([userId, sessionHash, version])
          },
        }
      : {}),
  })
  app = Fastify({ logger: false })
  // As the plugin does: @fastify/cookie 11 loads its cookie codec (used by sessions.ts) when registered.
  await app.register(fastifyCookie)
  // What the plugin's principal hook does with a presented cookie (it also
  // ignores the cookie of a foreign state-changing request: x-unresolved here).
  app.addHook('onRequest', async (request) => {
    // light-my-request always sends a user agent: x-no-user-agent takes it away.
    if (request.headers['x-no-user-agent'] !== undefined) delete request.headers['user-agent']
    if (request.headers['x-unresolved'] !== undefined) return
    const raw = manager.readRawId(request)
    if (raw === null) return
    const resolved = await manager.load(manager.hash(raw))
    if (resolved === null) return
    setPrincipal(request, resolved.principal)
    setSessionId(request, resolved.session.id)
    await manager.touchIfDue(resolved, clock.now())
  })
  app.post<{ Body: { provider?: SessionProvider } }>('/start', async (request, reply) => {
    const session = await manager.start(request, reply, user, request.body?.provider)
    return { session, sessionId: sessionIdOf(request), principal: principalOf(request).toSummary() }
  })
  // Signing in twice, then out, inside one request: each step acts on the session the previous one made.
  app.post('/churn', async (request, reply) => {
    const first = await manager.start(request, reply, user)
    const second = await manager.start(request, reply, user)
    await manager.destroy(request, reply)
    return { first: first.id, second: second.id }
  })
  app.post('/destroy', async (request, reply) => {
    await manager.destroy(request, reply)
    return { sessionId: sessionIdOf(request), principal: principalOf(request).toSummary() }
  })
  app.get('/me', async (request) => {
    const principal = principalOf(request)
    const provider = principal.raw.provider as Record<string, unknown> | undefined
    return {
      sessionId: sessionIdOf(request),
      principal: principal.toSummary(),
      raw: principal.raw,
      hasProvider: 'provider' in principal.raw,
      frozen: provider === undefined ? null : { top: Object.isFrozen(provider), claims: Object.isFrozen(provider.claims), nested: Object.isFrozen((provider.claims as { address: object }).address) },
    }
  })
}

/**
 * The SQLite store, answering each session read with a fresh, unfrozen copy
 * as the MongoDB store does (the SQLite store's own cache hands out frozen
 * rows, which would hide whether the manager freezes the provider payload).
 */
function freshObjects(store: SqliteAuthStore): SqliteAuthStore {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'getSession') return async (id: string) => structuredClone(await target.getSession(id))
      const value = Reflect.get(target, key, target) as unknown
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
}

beforeEach(async () => {
  env = await tempStore()
  clock = frozenClock()
  const created = await env.store.createUser({ email: 'ada@example.com', name: 'Ada', passwordHash: null })
  await env.store.addClaim(created.id, { type: 'role', value: 'admin' })
  user = (await env.store.getUser(created.id))!
})
afterEach(async () => {
  await app?.close()
  await env.cleanup()
})

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

function cookieOf(response: { headers: Record<string, unknown> }): { pair: string; raw: string; attributes: string } {
  const header = response.headers['set-cookie']
  const line = String(Array.isArray(header) ? header[0] : header)
  const [pair = '', ...attributes] = line.split('; ')
  return { pair, raw: pair.slice(pair.indexOf('=') + 1), attributes: attributes.join('; ') }
}

async function signIn(headers: Record<string, string> = {}, payload?: object) {
  const response = await app.inject({ method: 'POST', url: '/start', headers, ...(payload === undefined ? {} : { payload }) })
  expect(response.statusCode).toBe(200)
  return { response, cookie: cookieOf(response), body: response.json() as { session: Record<string, unknown>; sessionId: string; principal: Record<string, unknown> } }
}

describe('start', () => {
  it('stores a row under the SHA-256 of a fresh 43-character id and sets the HttpOnly cookie for the absolute lifetime', async () => {
    await start()
    const { cookie, body } = await signIn({ 'user-agent': 'Test Browser/1.0' })
    expect(cookie.pair).toMatch(/^wa_sid=[A-Za-z0-9_-]{43}$/)
    expect(cookie.attributes).toBe(`Max-Age=${ABSOLUTE / 1000}; Path=/; HttpOnly; SameSite=Lax`)
    const id = sha256(cookie.raw)
    expect(manager.hash(cookie.raw)).toBe(id)
    expect(hashSessionId(cookie.raw)).toBe(id)
    const at = clock.now()
    const row = await env.store.getSession(id)
    expect(row).toMatchObject({
      id,
      userId: user.id,
      name: 'Ada',
      claims: [{ type: 'role', value: 'admin' }],
      userVersion: user.version,
      createdAt: at,
      lastSeenAt: at,
      idleExpiresAt: at + IDLE,
      absoluteExpiresAt: at + ABSOLUTE,
      ip: '127.0.0.1',
      userAgent: 'Test Browser/1.0',
    })
    expect(row!.provider ?? null).toBeNull()
    expect(body.sessionId).toBe(id)
    expect(body.principal).toEqual({ authenticated: true, id: user.id, name: 'Ada' })
  })

  it('a secure cookie carries Secure and the configured SameSite; Max-Age is whole seconds', async () => {
    await start({ secure: true, sameSite: 'strict', absoluteTimeoutMs: ABSOLUTE + 1500 }, 'https://app.example.com')
    const { cookie } = await signIn()
    expect(cookie.pair).toMatch(/^__Host-wa_sid=/)
    expect(cookie.attributes).toBe(`Max-Age=${ABSOLUTE / 1000 + 1}; Path=/; HttpOnly; Secure; SameSite=Strict`)
  })

  it('keeps at most 256 characters of the user agent, and none that is not one string', async () => {
    await start()
    const long = 'B'.repeat(300)
    const { cookie } = await signIn({ 'user-agent': long })
    expect((await env.store.getSession(sha256(cookie.raw)))!.userAgent).toBe(long.slice(0, 256))
    const none = await app.inject({ method: 'POST', url: '/start', headers: { 'x-no-user-agent': '1' } })
    expect((await env.store.getSession(sha256(cookieOf(none).raw)))!.userAgent).toBeNull()
  })

  it('keeps the provider payload, frozen all the way down, on the principal only', async () => {
    await start()
    const provider: SessionProvider = { name: 'acme', issuer: 'https://idp.example', subject: 's-1', claims: { email: 'ada@example.com', address: { city: 'London' } } }
    const { cookie } = await signIn({}, { provider })
    const me = await app.inject({ url: '/me', headers: { cookie: cookie.pair } })
    const body = me.json() as { raw: Record<string, unknown>; frozen: Record<string, boolean>; principal: Record<string, unknown> }
    expect(body.raw).toEqual({ sessionId: sha256(cookie.raw), userVersion: user.version, provider })
    expect(body.frozen).toEqual({ top: true, claims: true, nested: true })
    expect(body.principal).toEqual({ authenticated: true, id: user.id, name: 'Ada' })
  })

  it('a session without a provider has no provider key in raw', async () => {
    await start()
    const { cookie } = await signIn()
    const me = await app.inject({ url: '/me', headers: { cookie: cookie.pair } })
    expect(me.json().raw).toEqual({ sessionId: sha256(cookie.raw), userVersion: user.version })
    expect(me.json().hasProvider).toBe(false)
  })

  it('signing in again replaces the live session: its row is deleted and its owner, hash and version are reported', async () => {
    await start()
    const first = await signIn()
    const firstId = sha256(first.cookie.raw)
    const second = await signIn({ cookie: first.cookie.pair })
    expect(second.cookie.raw).not.toBe(first.cookie.raw)
    expect(await env.store.getSession(firstId)).toBeNull()
    expect(await env.store.getSession(sha256(second.cookie.raw))).not.toBeNull()
    expect(replaced).toEqual([[user.id, firstId, user.version]])
  })

  it('replacing a live session needs no listener', async () => {
    await start({}, 'http://localhost:3000', false)
    const first = await signIn()
    const second = await signIn({ cookie: first.cookie.pair })
    expect(await env.store.getSession(sha256(first.cookie.raw))).toBeNull()
    expect(await env.store.getSession(sha256(second.cookie.raw))).not.toBeNull()
  })

  it("a presented id that is not this request's session is deleted if it exists, and its owner is told (its sockets must not stay signed in)", async () => {
    await start()
    const first = await signIn()
    const firstId = sha256(first.cookie.raw)
    // Not resolved for this request (as a foreign-origin one, or one signed in by a bearer
    // token): start still deletes the presented row — and reports it (regression: nobody was
    // told, so the sockets of that session stayed signed in).
    await signIn({ cookie: first.cookie.pair, 'x-unresolved': '1' })
    expect(await env.store.getSession(firstId)).toBeNull()
    expect(replaced).toEqual([[user.id, firstId, user.version]])
    // A planted, unknown id: nothing to delete, nothing to tell.
    await signIn({ cookie: `wa_sid=${'p'.repeat(43)}` })
    expect(replaced).toEqual([[user.id, firstId, user.version]])
  })
})

describe('reading the cookie', () => {
  it('accepts only a 43-character base64url id under the configured name', async () => {
    await start()
    const { cookie } = await signIn()
    const me = (header: string) => app.inject({ url: '/me', headers: { cookie: header } }).then((r) => r.json().sessionId as string | null)
    const id = sha256(cookie.raw)
    expect(await me(cookie.pair)).toBe(id)
    expect(await me(`theme=dark; ${cookie.pair}; lang=en`)).toBe(id)
    for (const header of [
      `wa_sid=${cookie.raw.slice(1)}`,
      `wa_sid=${cookie.raw}A`,
      `wa_sid=x${cookie.raw}`,
      `wa_sid=${cookie.raw.slice(1)}.`,
      `other_wa_sid=${cookie.raw}`,
      `WA_SID=${cookie.raw}`,
      'wa_sid=',
      'wa_sid',
      'theme=dark',
    ]) {
      expect(await me(header)).toBeNull()
    }
  })

  it('readRawId answers the raw id, or null without a Cookie header', async () => {
    await start()
    const { cookie } = await signIn()
    const raw = manager.readRawId({ headers: { cookie: `a=1; ${cookie.pair}` } } as never)
    expect(raw).toBe(cookie.raw)
    expect(manager.readRawId({ headers: {} } as never)).toBeNull()
    // The whole value is the id: nothing before or after it.
    expect(manager.readRawId({ headers: { cookie: `wa_sid=.${cookie.raw}` } } as never)).toBeNull()
    expect(manager.readRawId({ headers: { cookie: `wa_sid=${cookie.raw}.` } } as never)).toBeNull()
    expect(manager.readRawId({ headers: { cookie: ['wa_sid=x'] } } as never)).toBeNull()
    expect(manager.cookieName).toBe('wa_sid')
  })
})

describe('expiry and renewal', () => {
  it('a session is valid until the last millisecond of its idle time; then its row is deleted', async () => {
    await start({ touchIntervalMs: IDLE })
    const { cookie } = await signIn()
    const id = sha256(cookie.raw)
    clock.advance(IDLE - 1)
    expect(await manager.load(id)).not.toBeNull()
    expect((await manager.load(id, clock.now() + 1))).toBeNull()
    expect(await env.store.getSession(id)).toBeNull()
  })

  it('a session ends at its absolute time however active it is', async () => {
    await start({ idleTimeoutMs: 10 * MINUTE, absoluteTimeoutMs: 20 * MINUTE, touchIntervalMs: MINUTE })
    const { cookie } = await signIn()
    const id = sha256(cookie.raw)
    const born = clock.now()
    // Active every 5 minutes: idle never runs out, the row is renewed up to the absolute end.
    for (let i = 0; i < 3; i++) {
      clock.advance(5 * MINUTE)
      expect((await app.inject({ url: '/me', headers: { cookie: cookie.pair } })).json().sessionId).toBe(id)
    }
    const row = await env.store.getSession(id)
    expect(row!.lastSeenAt).toBe(born + 15 * MINUTE)
    // min(now + idle, absolute end): the absolute end.
    expect(row!.idleExpiresAt).toBe(born + 20 * MINUTE)
    expect(await manager.load(id, born + 20 * MINUTE - 1)).not.toBeNull()
    expect(await manager.load(id, born + 20 * MINUTE)).toBeNull()
    expect(await env.store.getSession(id)).toBeNull()
  })

  it('a row whose idle expiry lies past its absolute end (written elsewhere) still ends at the absolute end', async () => {
    await start()
    const { cookie } = await signIn()
    const id = sha256(cookie.raw)
    const row = (await env.store.getSession(id))!
    await env.store.touchSession(id, row.lastSeenAt, row.absoluteExpiresAt + 10 * MINUTE)
    expect(await manager.load(id, row.absoluteExpiresAt - 1)).not.toBeNull()
    expect(await manager.load(id, row.absoluteExpiresAt)).toBeNull()
    expect(await env.store.getSession(id)).toBeNull()
  })

  it('renews the row only once touchIntervalMs has passed since it was last seen', async () => {
    await start()
    const { cookie } = await signIn()
    const id = sha256(cookie.raw)
    const born = clock.now()
    clock.advance(TOUCH - 1)
    await app.inject({ url: '/me', headers: { cookie: cookie.pair } })
    expect(await env.store.getSession(id)).toMatchObject({ lastSeenAt: born, idleExpiresAt: born + IDLE })
    clock.advance(1)
    await app.inject({ url: '/me', headers: { cookie: cookie.pair } })
    expect(await env.store.getSession(id)).toMatchObject({ lastSeenAt: born + TOUCH, idleExpiresAt: born + TOUCH + IDLE })
  })
})

describe('destroy', () => {
  it('acts on the session the request holds now, not on the cookie it came with', async () => {
    await start()
    const { cookie } = await signIn()
    const response = await app.inject({ method: 'POST', url: '/churn', headers: { cookie: cookie.pair } })
    const { first, second } = response.json() as { first: string; second: string }
    expect(await env.store.getSession(sha256(cookie.raw))).toBeNull()
    expect(await env.store.getSession(first)).toBeNull()
    expect(await env.store.getSession(second)).toBeNull()
  })

  it('deletes the presented session, clears the cookie and leaves the request anonymous', async () => {
    await start()
    const { cookie } = await signIn()
    const other = await signIn()
    const response = await app.inject({ method: 'POST', url: '/destroy', headers: { cookie: cookie.pair } })
    expect(response.json()).toEqual({ sessionId: null, principal: { authenticated: false, id: null, name: null } })
    const cleared = cookieOf(response)
    expect(cleared.pair).toBe('wa_sid=')
    expect(cleared.attributes).toBe('Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax')
    expect(await env.store.getSession(sha256(cookie.raw))).toBeNull()
    expect(await env.store.getSession(sha256(other.cookie.raw))).not.toBeNull()
  })

  it('deletes a presented row that the request did not resolve, and clears the cookie without one', async () => {
    await start()
    const { cookie } = await signIn()
    const id = sha256(cookie.raw)
    // Not resolved for this request, so destroy reads the cookie itself.
    const response = await app.inject({ method: 'POST', url: '/destroy', headers: { cookie: cookie.pair, 'x-unresolved': '1' } })
    expect(await env.store.getSession(id)).toBeNull()
    expect(cookieOf(response).pair).toBe('wa_sid=')
    const bare = await app.inject({ method: 'POST', url: '/destroy' })
    expect(bare.statusCode).toBe(200)
    expect(cookieOf(bare).pair).toBe('wa_sid=')
  })
})
