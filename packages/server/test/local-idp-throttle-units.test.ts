// LoginThrottle on its own, over a real SQLite store and a frozen clock:
// each limit at its boundary, what a refusal, a failure, a success and a
// cancel leave in the store, and the keys it writes (issue 21: found by
// mutation testing; local-idp-throttle.test.ts covers it through signIn).
import { createHash } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { accountDelayMs, clientBucket, LoginThrottle, type ThrottleReservation } from '../src/lib/local-idp/throttle.js'
import { frozenClock, tempStore } from './local-idp-harness.js'

const WINDOW = 60_000
const EMAIL = 'victim@example.com'
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

let env: Awaited<ReturnType<typeof tempStore>>
let clock: ReturnType<typeof frozenClock>
let throttle: LoginThrottle

beforeEach(async () => {
  env = await tempStore()
  clock = frozenClock()
  throttle = new LoginThrottle(env.store, { maxFailuresPerAccount: 2, maxFailuresPerClient: 3, windowMs: WINDOW }, clock.now)
})
afterEach(async () => {
  await env.cleanup()
})

async function reserved(account: string | null, ip: string, deviceId: string | null = null): Promise<ThrottleReservation> {
  const result = await throttle.reserve(account, ip, deviceId)
  if (!result.ok) throw new Error(`expected a reservation, got ${JSON.stringify(result.verdict)}`)
  return result.reservation
}

const count = (key: string) => env.store.countFailures(key, 0)

describe('clientBucket', () => {
  it.each([
    ['::FFFF:192.0.2.1', '192.0.2.1'],
    ['::ffff:198.51.100.200', '198.51.100.200'],
    ['2001:0db8:0000:00ab::1', '2001:db8:0:ab::/64'],
    ['::ffff:c000:201', '0:0:0:0::/64'],
    ['1::ffff:192.0.2.1', '1:0:0:0::/64'],
    ['2001:db8:1000:0:0:0:0:1', '2001:db8:1000:0::/64'],
    ['2001:db8:a:b:c:d:e:f', '2001:db8:a:b::/64'],
    ['2001:db8::', '2001:db8:0:0::/64'],
    ['fe80::1:2:3:4', 'fe80:0:0:0::/64'],
    ['1:2:3:4:5::', '1:2:3:4::/64'],
    ['1::2:3:4:5:6:7', '1:0:2:3::/64'],
    ['::', '0:0:0:0::/64'],
  ])('buckets %s as %s', (ip, bucket) => {
    expect(clientBucket(ip)).toBe(bucket)
  })

  it('answers repeated and alternating addresses alike (the last answer is remembered)', () => {
    for (let i = 0; i < 3; i++) {
      expect(clientBucket('2001:db8:a:b:c:d:e:f')).toBe('2001:db8:a:b::/64')
      expect(clientBucket('2001:db8:a:b:c:d:e:f')).toBe('2001:db8:a:b::/64')
      expect(clientBucket('::ffff:192.0.2.1')).toBe('192.0.2.1')
      expect(clientBucket('192.0.2.7')).toBe('192.0.2.7')
    }
  })

  it('keeps at most 64 characters of something that is no address', () => {
    expect(clientBucket('x'.repeat(100))).toBe('x'.repeat(64))
    expect(clientBucket('unix-socket')).toBe('unix-socket')
    expect(clientBucket('::ffff:999.0.0.1')).toBe('::ffff:999.0.0.1')
    expect(clientBucket('::ffff:192.0.2.1x')).toBe('::ffff:192.0.2.1x')
  })
})

describe('keys', () => {
  it('hash the e-mail; the pair key tells a device id from an address, and one /64 is one address', () => {
    expect(throttle.accountKey(EMAIL)).toBe(`login:acct:${sha256(EMAIL)}`)
    expect(throttle.clientKey('2001:db8::1')).toBe('login:ip:2001:db8:0:0::/64')
    expect(throttle.pairKey(EMAIL, { ip: '192.0.2.1' })).toBe(`login:pair:${sha256(`${sha256(EMAIL)}\nip:192.0.2.1`)}`)
    expect(throttle.pairKey(EMAIL, { ip: '192.0.2.1', deviceId: 'd1' })).toBe(`login:pair:${sha256(`${sha256(EMAIL)}\ndev:d1`)}`)
    expect(throttle.pairKey(EMAIL, { ip: '2001:db8::1' })).toBe(throttle.pairKey(EMAIL, { ip: '2001:db8::2', deviceId: null }))
    expect(throttle.deviceTag(EMAIL)).toBe(sha256(EMAIL).slice(0, 32))
  })
})

describe('reserve', () => {
  it('lets exactly maxFailuresPerClient attempts of one address through, then refuses for the window + 1 s', async () => {
    for (let i = 0; i < 3; i++) await reserved(null, '192.0.2.1')
    expect(await throttle.reserve(null, '192.0.2.1')).toEqual({ ok: false, verdict: { scope: 'client', retryAfterSeconds: 61 } })
    // The refused attempt was handed back: three units stay counted.
    expect(await count(throttle.clientKey('192.0.2.1'))).toBe(3)
    // A malformed identifier holds no account units.
    expect(await count(throttle.accountKey(EMAIL))).toBe(0)
  })

  it('lets exactly maxFailuresPerAccount attempts of one client on one account through; the refusal hands back the client unit too', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await reserved(EMAIL, '192.0.2.1')
      expect(r).toEqual({ at: clock.now(), account: EMAIL, pairKey: throttle.pairKey(EMAIL, { ip: '192.0.2.1' }), clientKey: throttle.clientKey('192.0.2.1'), gateKey: null })
    }
    expect(await throttle.reserve(EMAIL, '192.0.2.1')).toEqual({ ok: false, verdict: { scope: 'account', retryAfterSeconds: 61 } })
    expect(await count(throttle.pairKey(EMAIL, { ip: '192.0.2.1' }))).toBe(2)
    expect(await count(throttle.clientKey('192.0.2.1'))).toBe(2)
  })

  it('Retry-After is whole seconds of the window plus one', async () => {
    const odd = new LoginThrottle(env.store, { maxFailuresPerAccount: 1, maxFailuresPerClient: 1, windowMs: 1500 }, clock.now)
    const first = await odd.reserve(null, '192.0.2.9')
    expect(first.ok).toBe(true)
    expect(await odd.reserve(null, '192.0.2.9')).toEqual({ ok: false, verdict: { scope: 'client', retryAfterSeconds: 2 } })
    // The window is 1500 ms: 1501 ms later the unit no longer counts.
    clock.advance(1501)
    expect((await odd.reserve(null, '192.0.2.9')).ok).toBe(true)
  })

  it('a client with the account device id holds no address unit and its own pair unit; a device id without an account is ignored', async () => {
    const trusted = await reserved(EMAIL, '192.0.2.1', 'dev-1')
    expect(trusted).toMatchObject({ clientKey: null, pairKey: throttle.pairKey(EMAIL, { ip: '192.0.2.1', deviceId: 'dev-1' }), gateKey: null })
    expect(await count(throttle.clientKey('192.0.2.1'))).toBe(0)
    const malformed = await reserved(null, '192.0.2.1', 'dev-1')
    expect(malformed).toMatchObject({ account: null, pairKey: null, clientKey: throttle.clientKey('192.0.2.1'), gateKey: null })
    expect(await count(throttle.clientKey('192.0.2.1'))).toBe(1)
  })

  it('an account under attack spaces attempts of clients without the device id, from exactly maxFailuresPerAccount failures', async () => {
    // One failure from each of two addresses: the soft signal reaches the threshold (2).
    await throttle.fail(await reserved(EMAIL, '198.51.100.1'))
    expect((await reserved(EMAIL, '198.51.100.2')).gateKey).toBeNull()
    await throttle.fail(await reserved(EMAIL, '198.51.100.3'))
    expect(await count(throttle.accountKey(EMAIL))).toBe(2)
    const gated = await reserved(EMAIL, '198.51.100.4')
    expect(gated.gateKey).toBe(`login:gate:${sha256(EMAIL)}`)
    // The next one within the 1 s spacing is refused (and hands its units back); the device id passes.
    expect(await throttle.reserve(EMAIL, '198.51.100.5')).toEqual({ ok: false, verdict: { scope: 'delay', retryAfterSeconds: 1 } })
    expect(await count(throttle.clientKey('198.51.100.5'))).toBe(0)
    expect(await count(throttle.pairKey(EMAIL, { ip: '198.51.100.5' }))).toBe(0)
    expect((await reserved(EMAIL, '198.51.100.5', 'dev-1')).gateKey).toBeNull()
    // 999 ms later still spaced; at 1000 ms the next one is let in.
    clock.advance(999)
    expect((await throttle.reserve(EMAIL, '198.51.100.6')).ok).toBe(false)
    clock.advance(1)
    expect((await reserved(EMAIL, '198.51.100.6')).gateKey).not.toBeNull()
  })

  it('the spacing doubles per failure past the threshold and its Retry-After rounds up to whole seconds', async () => {
    for (let i = 0; i < 4; i++) await env.store.recordFailure(throttle.accountKey(EMAIL), clock.now(), WINDOW)
    // 4 failures, threshold 2: 4 s.
    await reserved(EMAIL, '198.51.100.1')
    expect(await throttle.reserve(EMAIL, '198.51.100.2')).toEqual({ ok: false, verdict: { scope: 'delay', retryAfterSeconds: 4 } })
    // Failures older than the window no longer count.
    clock.advance(WINDOW + 1)
    expect((await reserved(EMAIL, '198.51.100.3')).gateKey).toBeNull()
  })
})

describe('clock', () => {
  it('reads the system clock by default', async () => {
    const system = new LoginThrottle(env.store, { maxFailuresPerAccount: 2, maxFailuresPerClient: 3, windowMs: WINDOW })
    const before = Date.now()
    const result = await system.reserve(EMAIL, '192.0.2.1')
    const after = Date.now()
    if (!result.ok) throw new Error('expected a reservation')
    expect(result.reservation.at).toBeGreaterThanOrEqual(before)
    expect(result.reservation.at).toBeLessThanOrEqual(after)
  })
})

describe('settling a reservation', () => {
  it('fail counts the account failure at the reservation time; a malformed identifier counts nothing more', async () => {
    const r = await reserved(EMAIL, '192.0.2.1')
    clock.advance(5000)
    await throttle.fail(r)
    expect(await env.store.countFailures(throttle.accountKey(EMAIL), r.at)).toBe(1)
    expect(await env.store.countFailures(throttle.accountKey(EMAIL), r.at + 1)).toBe(0)
    await throttle.fail(await reserved(null, '192.0.2.1'))
    expect(await count(throttle.accountKey(EMAIL))).toBe(1)
    expect(await count(throttle.clientKey('192.0.2.1'))).toBe(2)
  })

  it('succeed clears the account, pair and gate counters and hands back only the address unit', async () => {
    await throttle.fail(await reserved(EMAIL, '198.51.100.1'))
    await throttle.fail(await reserved(EMAIL, '198.51.100.1'))
    await reserved(null, '192.0.2.1')
    clock.advance(2000)
    const r = await reserved(EMAIL, '192.0.2.1')
    expect(r.gateKey).not.toBeNull()
    await throttle.succeed(r)
    expect(await count(throttle.accountKey(EMAIL))).toBe(0)
    expect(await count(throttle.pairKey(EMAIL, { ip: '198.51.100.1' }))).toBe(2)
    expect(await count(throttle.pairKey(EMAIL, { ip: '192.0.2.1' }))).toBe(0)
    expect(await count(r.gateKey!)).toBe(0)
    // The earlier unit of the address (another attempt) stays.
    expect(await count(throttle.clientKey('192.0.2.1'))).toBe(1)
  })

  it('succeed of a trusted or malformed reservation touches only what it holds', async () => {
    await reserved(null, '192.0.2.1')
    const trusted = await reserved(EMAIL, '192.0.2.1', 'dev-1')
    await throttle.succeed(trusted)
    expect(await count(throttle.clientKey('192.0.2.1'))).toBe(1)
    const malformed = await reserved(null, '192.0.2.1')
    await throttle.succeed(malformed)
    expect(await count(throttle.clientKey('192.0.2.1'))).toBe(1)
  })

  it('cancel hands back every unit it holds', async () => {
    for (let i = 0; i < 2; i++) await env.store.recordFailure(throttle.accountKey(EMAIL), clock.now(), WINDOW)
    const r = await reserved(EMAIL, '192.0.2.1')
    expect(r.gateKey).not.toBeNull()
    await throttle.cancel(r)
    expect(await count(throttle.clientKey('192.0.2.1'))).toBe(0)
    expect(await count(r.pairKey!)).toBe(0)
    expect(await count(r.gateKey!)).toBe(0)
    // The soft signal is not the reservation's to hand back.
    expect(await count(throttle.accountKey(EMAIL))).toBe(2)
  })
})

describe('accountDelayMs', () => {
  it.each([
    [0, 0],
    [4, 0],
    [5, 1000],
    [6, 2000],
    [10, 32_000],
    [11, 60_000],
    [5 + 16, 60_000],
    [5000, 60_000],
  ])('%i failures past a threshold of 5 space attempts by %i ms', (failures, delay) => {
    expect(accountDelayMs(failures, 5)).toBe(delay)
  })
})
