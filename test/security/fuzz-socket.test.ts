// Property-based fuzzing of the live socket protocol (checklist 19, 20, 23):
// random text and binary frames, malformed and random JSON, messages of
// every type with random fields and random guard specs, unicode edge cases,
// oversized frames and floods, from anonymous, signed-in and admin sockets.
// The process never crashes; every server message is a known one and every
// error is coded; a socket is either still answering or closed with 1008 /
// 1009; no socket ever receives what its principal may not see, whatever
// its element attributes say; and sockets write nothing to the store.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { anyJson, budget, edgyString, FRAGMENTS, MALFORMED_JSON, randomRegion } from './support/fuzz.js'
import { securityApp, SITE, type SecurityApp } from './support/security-app.js'
import { storeSnapshot } from './support/store-snapshot.js'
import { SocketClient } from '../support/socket-client.js'

/** What only a principal allowed to see it may ever receive (markers in the demo's fragments). */
const SECRETS = {
  admin: ['admin-users-table', 'The board approved the budget'],
  beta: ['data-testid="beta-panel"'],
  signedIn: ['data-testid="hello-card"'],
}
const MAX_MESSAGE_BYTES = 8 * 1024

let product: SecurityApp
let url: string
let access: string
const principals: Record<'anonymous' | 'user' | 'admin', { cookie?: string; forbidden: string[] }> = {
  anonymous: { forbidden: [...SECRETS.admin, ...SECRETS.beta, ...SECRETS.signedIn] },
  user: { forbidden: [...SECRETS.admin, ...SECRETS.beta] },
  admin: { forbidden: [] },
}

beforeAll(async () => {
  product = await securityApp({ config: { live: { maxMessageBytes: MAX_MESSAGE_BYTES, messagesPerSecond: 40 }, localIdp: { rateLimitPerMinute: 1000, grants: ['authorization_code', 'refresh_token', 'password'] } } })
  const { app } = product
  const bob = await app.authStore.createUser({ email: 'bob@example.com', name: 'Bob', passwordHash: null })
  const root = await app.authStore.createUser({ email: 'root@example.com', name: 'Root', passwordHash: null, claims: [{ type: 'role', value: 'admin' }, { type: 'role', value: 'beta' }] })
  principals.user.cookie = await product.signIn(bob.id)
  principals.admin.cookie = await product.signIn(root.id)
  expect((await app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'pat@example.com', password: 'correct horse battery staple' } })).statusCode).toBe(201)
  access = (await app.inject({ method: 'POST', url: '/auth/local/token', payload: { grant_type: 'password', username: 'pat@example.com', password: 'correct horse battery staple' } })).json().access_token
  await app.listen({ port: 0, host: '127.0.0.1' })
  url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/auth/live`
}, 60_000)

afterAll(async () => {
  await product?.close()
})

type Frame = { text: string } | { binary: Buffer }

/** One frame a hostile or broken client may send. */
const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 2, arbitrary: edgyString.map((text) => ({ text })) },
  { weight: 2, arbitrary: anyJson.map((v) => ({ text: JSON.stringify(v) })) },
  { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_JSON).map((text) => ({ text })) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('mount'), regions: fc.oneof(fc.array(randomRegion, { maxLength: 8 }), anyJson) }).map((m) => ({ text: JSON.stringify(m) })) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('unmount'), ids: fc.oneof(fc.array(fc.oneof(edgyString, anyJson), { maxLength: 5 }), anyJson) }).map((m) => ({ text: JSON.stringify(m) })) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('auth'), token: fc.oneof(edgyString, anyJson, fc.constant('x'.repeat(9000)), fc.constant('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.')) }).map((m) => ({ text: JSON.stringify(m) })) },
  { weight: 1, arbitrary: fc.record({ t: fc.oneof(fc.constantFrom('mount', 'unmount', 'auth', 'render', 'principal', 'error', '__proto__'), edgyString), extra: anyJson }, { requiredKeys: ['t'] }).map((m) => ({ text: JSON.stringify(m) })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ binary: Buffer.from(bytes) })) },
  { weight: 1, arbitrary: fc.constantFrom(MAX_MESSAGE_BYTES - 20, MAX_MESSAGE_BYTES + 1, MAX_MESSAGE_BYTES * 3).map((n) => ({ text: JSON.stringify({ t: 'mount', regions: [{ id: 'big', fragment: 'x'.repeat(n) }] }) })) },
)

const KNOWN = new Set(['principal', 'render', 'error', 'signed-out'])

function open(who: keyof typeof principals): Promise<SocketClient> {
  const headers: Record<string, string> = { origin: SITE }
  if (principals[who].cookie !== undefined) headers.cookie = principals[who].cookie!
  return SocketClient.connect(url, headers)
}

const isClosed = (session: SocketClient) => session.ws.readyState === WebSocket.CLOSED

/** Waits until the socket answered `probe` (the queue is ordered, so everything before it is done) or closed. */
async function settle(session: SocketClient, probe: string): Promise<void> {
  const deadline = Date.now() + 3000
  while (Date.now() < deadline) {
    if (isClosed(session)) return
    if (session.messages.some((m) => m.t === 'render' && (m.regions as Array<{ id: string }>).some((r) => r.id === probe))) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`no answer to the probe; last messages ${JSON.stringify(session.messages.slice(-3)).slice(0, 500)}`)
}

function checkMessages(session: SocketClient, forbidden: string[], what: string): void {
  for (const message of session.messages) {
    expect(KNOWN.has(String(message.t)), `${what}: unknown message ${JSON.stringify(message).slice(0, 200)}`).toBe(true)
    if (message.t === 'error') expect(message.code, what).toMatch(/^ERR_[A-Z_]+$/)
    if (message.t === 'render') {
      for (const region of message.regions as Array<{ status: string; html?: string; code?: string }>) {
        expect(['allowed', 'denied', 'redirect'], what).toContain(region.status)
        if (region.status !== 'allowed') expect(region.code, what).toMatch(/^ERR_[A-Z_]+$/)
        for (const secret of forbidden) expect(region.html ?? '', `${what}: leaked ${secret}`).not.toContain(secret)
      }
    }
  }
}

describe('fuzzing the live socket', () => {
  it('random frames from any principal: coded answers or a 1008/1009 close, never a leak, never a crash', async () => {
    const before = storeSnapshot(product.sqlitePath)
    let n = 0
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('anonymous' as const, 'user' as const, 'admin' as const), fc.array(frame, { minLength: 1, maxLength: 8 }), fc.nat(9).map((x) => x === 0), async (who, frames, flood) => {
        const session = await open(who)
        try {
          for (const f of frames) {
            if ('binary' in f) session.ws.send(f.binary, { binary: true })
            else session.ws.send(f.text)
          }
          if (flood) for (let i = 0; i < 150; i++) session.ws.send('{"t":"unmount","ids":["x"]}')
          const probe = `probe${n++}`
          const what = `${who} ${JSON.stringify(frames).slice(0, 300)}${flood ? ' + flood' : ''}`
          if (flood) {
            // The excess of a flood is dropped with one ERR_SOCKET_RATE_LIMITED per window (or the socket was closed).
            await expect.poll(() => isClosed(session) || session.messages.some((m) => m.code === 'ERR_SOCKET_RATE_LIMITED'), { timeout: 3000 }).toBe(true)
          } else {
            if (!isClosed(session)) session.ws.send(JSON.stringify({ t: 'mount', regions: [{ id: probe, fragment: 'document', params: { docId: 'welcome' } }] }))
            await settle(session, probe)
          }
          checkMessages(session, principals[who].forbidden, what)
          if (isClosed(session)) expect([1008, 1009], what).toContain((await session.closed).code)
          else if (flood) return
          // Still open: it answered the probe like any other region.
          else expect(session.messages.some((m) => m.t === 'render' && (m.regions as Array<{ id: string }>).some((r) => r.id === probe)), what).toBe(true)
        } finally {
          session.ws.terminate()
        }
      }),
      budget(60, 6000),
    )
    expect(n).toBeGreaterThan(5)
    // Sockets read; they never write.
    expect(storeSnapshot(product.sqlitePath)).toEqual(before)
    // Still serving: a fresh socket and an HTTP request work.
    const control = await open('admin')
    control.ws.send(JSON.stringify({ t: 'mount', regions: [{ id: 'c', fragment: 'admin-console' }] }))
    await settle(control, 'c')
    expect((control.messages.find((m) => m.t === 'render')!.regions as Array<{ status: string }>)[0]!.status).toBe('allowed')
    control.ws.terminate()
    expect((await product.app.inject({ url: '/auth/me' })).statusCode).toBe(200)
  })

  it('an access token in an auth message never grants more than its user may see; garbage tokens leave the socket anonymous', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constant(access), edgyString, fc.constant(`${access.slice(0, -2)}xx`)), fc.array(randomRegion, { minLength: 1, maxLength: 6 }), async (token, regions) => {
        const session = await open('anonymous')
        try {
          session.ws.send(JSON.stringify({ t: 'auth', token }))
          session.ws.send(JSON.stringify({ t: 'mount', regions }))
          session.ws.send(JSON.stringify({ t: 'mount', regions: [{ id: 'probe', fragment: 'document', params: { docId: 'welcome' } }] }))
          await settle(session, 'probe')
          const signedIn = session.messages.some((m) => m.t === 'principal' && (m.user as { authenticated: boolean }).authenticated)
          expect(signedIn).toBe(token === access)
          // Pat is signed in but neither admin nor beta.
          checkMessages(session, token === access ? principals.user.forbidden : principals.anonymous.forbidden, `token ${token.slice(0, 40)} ${JSON.stringify(regions).slice(0, 300)}`)
        } finally {
          session.ws.terminate()
        }
      }),
      budget(30, 6000),
    )
  })
})

describe('element attributes never loosen a fragment guard (checklist 19), whatever they say', () => {
  it('HTTP and socket: random policy / claims / params on protected fragments never allow a user the fragment denies', async () => {
    const spec = fc.record(
      {
        policy: fc.oneof(fc.constantFrom('AdminOnly', 'CanReadDocument', 'NoSuchPolicy'), edgyString.filter((s) => s.length > 0 && s.length <= 256)),
        claims: fc.array(fc.oneof(fc.tuple(fc.constantFrom('role', 'sub', '*', ''), fc.constantFrom('admin', 'beta', '*', '')).map(([t, v]) => [t, v]), fc.constantFrom('role', '*').map((t) => [t])), { minLength: 1, maxLength: 4 }),
        params: fc.dictionary(fc.constantFrom('docId', 'userId', 'role', '__proto__'), fc.oneof(fc.constantFrom('board-minutes', 'welcome', 'admin'), anyJson), { maxKeys: 3 }),
      },
      { requiredKeys: [] },
    )
    const protectedFragment = fc.constantFrom(...FRAGMENTS.filter((f) => f !== 'no-such-fragment'))
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('anonymous' as const, 'user' as const), fc.array(fc.tuple(protectedFragment, spec), { minLength: 1, maxLength: 6 }), async (who, list) => {
        const regions = list.map(([fragment, s], i) => ({ id: `r${i}`, fragment, ...s }))
        const headers = principals[who].cookie === undefined ? {} : { cookie: principals[who].cookie! }
        const response = await product.app.inject({ method: 'POST', url: '/auth/fragments', headers, payload: { regions } })
        expect(response.statusCode).toBeLessThan(500)
        if (response.statusCode === 200) {
          for (const region of response.json().regions as Array<{ html?: string }>) {
            for (const secret of principals[who].forbidden) expect(region.html ?? '').not.toContain(secret)
          }
        }
        const session = await open(who)
        try {
          session.ws.send(JSON.stringify({ t: 'mount', regions: [...regions, { id: 'probe', fragment: 'document', params: { docId: 'welcome' } }] }))
          await settle(session, 'probe')
          checkMessages(session, principals[who].forbidden, `${who} ${JSON.stringify(regions).slice(0, 300)}`)
        } finally {
          session.ws.terminate()
        }
      }),
      budget(40, 8000),
    )
  })
})
