import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { LocalIdp } from '../src/lib/local-idp/local-idp.js'
import { clientBucket } from '../src/lib/local-idp/throttle.js'
import { frozenClock, makeIdp, tempStore } from './local-idp-harness.js'

const PASSWORD = 'a long and unusual passphrase'
const WINDOW = 15 * 60_000

let env: Awaited<ReturnType<typeof tempStore>>
let clock: ReturnType<typeof frozenClock>
let idp: LocalIdp

beforeEach(async () => {
  env = await tempStore()
  clock = frozenClock()
  idp = await makeIdp(env.store, clock.now, { maxFailuresPerAccount: 3, maxFailuresPerClient: 8, lockoutWindowMs: WINDOW })
  await idp.createUser({ email: 'victim@example.com', password: PASSWORD })
})
afterEach(async () => {
  await env.cleanup()
})

// Each attacker attempt comes from its own address unless said otherwise,
// so only the per-account counter is in play.
let nextIp = 1
const freshIp = () => `198.51.100.${nextIp++ % 250}`

describe('credential stuffing is throttled (checklist 2)', () => {
  const attacker = '203.0.113.66'

  it('throttles one client on an account after maxFailuresPerAccount failures, even for the right password', async () => {
    for (let i = 0; i < 3; i++) expect(await idp.signIn('victim@example.com', `wrong-${i}-password`, attacker)).toMatchObject({ ok: false, reason: 'invalid' })
    const blocked = await idp.signIn('victim@example.com', PASSWORD, attacker)
    expect(blocked).toMatchObject({ ok: false, reason: 'throttled', verdict: { scope: 'account' } })
    if (blocked.ok || blocked.reason !== 'throttled') throw new Error('unreachable')
    expect(blocked.verdict.retryAfterSeconds).toBeGreaterThan(0)
    expect(blocked.verdict.retryAfterSeconds).toBeLessThanOrEqual(WINDOW / 1000 + 1)
    // Retry-After is an upper bound: waiting exactly that long is enough.
    clock.advance(blocked.verdict.retryAfterSeconds * 1000)
    expect(await idp.signIn('victim@example.com', PASSWORD, attacker)).toMatchObject({ ok: true })
  })

  it('counts case and padding variants of the identifier as the same account', async () => {
    await idp.signIn('VICTIM@example.com', 'wrong-password-1', attacker)
    await idp.signIn('  Victim@Example.COM ', 'wrong-password-2', attacker)
    await idp.signIn('victim@EXAMPLE.com', 'wrong-password-3', attacker)
    expect(await idp.signIn('victim@example.com', PASSWORD, attacker)).toMatchObject({ ok: false, reason: 'throttled', verdict: { scope: 'account' } })
  })

  it('counts unknown accounts the same way, so throttling reveals nothing', async () => {
    for (let i = 0; i < 3; i++) expect(await idp.signIn('Nobody@Example.com', `wrong-${i}-password`, attacker)).toMatchObject({ ok: false, reason: 'invalid' })
    expect(await idp.signIn('nobody@example.com', 'whatever-password', attacker)).toMatchObject({ ok: false, reason: 'throttled', verdict: { scope: 'account' } })
  })

  it('throttles one client across many accounts', async () => {
    const ip = '203.0.113.7'
    for (let i = 0; i < 8; i++) await idp.signIn(`user${i}@example.com`, 'wrong-password', ip)
    expect(await idp.signIn('victim@example.com', PASSWORD, ip)).toMatchObject({ ok: false, reason: 'throttled', verdict: { scope: 'client' } })
    // Another client is not affected, and the victim's account is not throttled.
    expect(await idp.signIn('victim@example.com', PASSWORD, '203.0.113.8')).toMatchObject({ ok: true })
  })

  it('counts malformed identifiers against the client', async () => {
    const ip = '203.0.113.9'
    for (let i = 0; i < 8; i++) expect(await idp.signIn(`not an e-mail ${i}`, 'wrong-password', ip)).toMatchObject({ ok: false, reason: 'invalid' })
    expect(await idp.signIn('victim@example.com', PASSWORD, ip)).toMatchObject({ ok: false, reason: 'throttled', verdict: { scope: 'client' } })
  })

  it('treats a whole IPv6 /64 as one client', async () => {
    for (let i = 0; i < 8; i++) await idp.signIn(`user${i}@example.com`, 'wrong-password', `2001:db8:1:2::${(i + 1).toString(16)}`)
    expect(await idp.signIn('victim@example.com', PASSWORD, '2001:db8:1:2:ffff::1')).toMatchObject({ ok: false, reason: 'throttled', verdict: { scope: 'client' } })
    expect(await idp.signIn('victim@example.com', PASSWORD, '2001:db8:1:3::1')).toMatchObject({ ok: true })
  })

  it('a success resets the account counter', async () => {
    await idp.signIn('victim@example.com', 'wrong-password-1', attacker)
    await idp.signIn('victim@example.com', 'wrong-password-2', attacker)
    expect(await idp.signIn('victim@example.com', PASSWORD, attacker)).toMatchObject({ ok: true })
    await idp.signIn('victim@example.com', 'wrong-password-3', attacker)
    await idp.signIn('victim@example.com', 'wrong-password-4', attacker)
    expect(await idp.signIn('victim@example.com', PASSWORD, attacker)).toMatchObject({ ok: true })
    expect(await env.store.countFailures(idp.throttle.accountKey('victim@example.com'), 0)).toBe(0)
  })

  it('a success costs the client nothing of its budget across accounts', async () => {
    const ip = '203.0.113.20'
    for (let i = 0; i < 20; i++) expect(await idp.signIn('victim@example.com', PASSWORD, ip)).toMatchObject({ ok: true })
    expect(await env.store.countFailures(idp.throttle.clientKey(ip), 0)).toBe(0)
  })

  it('throttling ends when the window slides past the failures: an attacker cannot lock the victim out for good', async () => {
    for (let i = 0; i < 3; i++) await idp.signIn('victim@example.com', `wrong-${i}-password`, attacker)
    // Hammering while throttled is refused without being counted.
    for (let i = 0; i < 20; i++) {
      clock.advance(30_000)
      expect(await idp.signIn('victim@example.com', 'still-wrong-password', attacker)).toMatchObject({ ok: false, reason: 'throttled' })
    }
    clock.advance(WINDOW - 20 * 30_000 + 1)
    expect(await idp.signIn('victim@example.com', PASSWORD, attacker)).toMatchObject({ ok: true })
  })

  it('a disabled account answers like a wrong password and counts as a failure', async () => {
    const user = await env.store.getUserByEmail('victim@example.com')
    await env.store.updateUser(user!.id, { disabled: true })
    expect(await idp.signIn('victim@example.com', PASSWORD, freshIp())).toMatchObject({ ok: false, reason: 'disabled' })
    expect(await env.store.countFailures(idp.throttle.accountKey('victim@example.com'), 0)).toBe(1)
  })

  it('keeps no e-mail address in the failure keys', () => {
    expect(idp.throttle.accountKey('victim@example.com')).not.toContain('victim')
    expect(idp.throttle.accountKey('victim@example.com')).toMatch(/^login:acct:[0-9a-f]{64}$/)
    expect(idp.throttle.pairKey('victim@example.com', { ip: attacker })).toMatch(/^login:pair:[0-9a-f]{64}$/)
  })

  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:DB8:0001:0002:0003:0004:0005:0006', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('buckets client %s as %s', (ip, bucket) => {
    expect(clientBucket(ip)).toBe(bucket)
  })
})

// F2 and F3 of the outside review (issue 13), checklist 27.
describe('throttles are atomic and cannot be turned against the owner (checklist 27)', () => {
  let strict: LocalIdp
  beforeEach(async () => {
    strict = await makeIdp(env.store, clock.now, { maxFailuresPerAccount: 5, maxFailuresPerClient: 50, lockoutWindowMs: WINDOW })
  })

  it('15 concurrent wrong passwords from one client: only 5 are verified, the rest are throttled (F2, check-then-act race)', async () => {
    const results = await Promise.all(Array.from({ length: 15 }, (_, i) => strict.signIn('victim@example.com', `wrong-${i}-password`, '203.0.113.30')))
    expect(results.filter((r) => !r.ok && r.reason === 'invalid')).toHaveLength(5)
    expect(results.filter((r) => !r.ok && r.reason === 'throttled')).toHaveLength(10)
    // Refused attempts hand their units back: only the 5 verified failures stay counted.
    expect(await env.store.countFailures(strict.throttle.pairKey('victim@example.com', { ip: '203.0.113.30' }), 0)).toBe(5)
    expect(await env.store.countFailures(strict.throttle.clientKey('203.0.113.30'), 0)).toBe(5)
  })

  it('concurrent attempts across accounts cannot overrun the per-client budget (F2)', async () => {
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => strict.signIn(`user${i}@example.com`, 'wrong-password', '203.0.113.31')))
    expect(results.filter((r) => !r.ok && r.reason === 'invalid')).toHaveLength(50)
    expect(results.filter((r) => !r.ok && r.reason === 'throttled')).toHaveLength(10)
  })

  it('someone who knows only the e-mail cannot lock its owner out: other clients failures never refuse the right password for long (F3)', async () => {
    // One wrong guess every 3 minutes from rotating addresses, for two hours: the old throttle kept the account locked throughout.
    for (let i = 0; i < 40; i++) {
      await strict.signIn('victim@example.com', `guess-${i}-password`, freshIp())
      clock.advance(3 * 60_000)
    }
    // The owner, from an address the attacker never used and without a device cookie, signs in.
    expect(await strict.signIn('victim@example.com', PASSWORD, '192.0.2.200')).toMatchObject({ ok: true })
    for (let i = 0; i < 40; i++) {
      await strict.signIn('victim@example.com', `guess-${i}-again`, freshIp())
      clock.advance(3 * 60_000)
    }
    // Right after a guess, the owner waits at most one spacing (≤ 60 s), never the window.
    expect(await strict.signIn('victim@example.com', 'one-more-guess', freshIp())).toMatchObject({ ok: false, reason: 'invalid' })
    const spaced = await strict.signIn('victim@example.com', PASSWORD, '192.0.2.200')
    expect(spaced).toMatchObject({ ok: false, reason: 'throttled', verdict: { scope: 'delay' } })
    if (spaced.ok || spaced.reason !== 'throttled') throw new Error('unreachable')
    expect(spaced.verdict.retryAfterSeconds).toBeLessThanOrEqual(60)
    clock.advance(spaced.verdict.retryAfterSeconds * 1000)
    expect(await strict.signIn('victim@example.com', PASSWORD, '192.0.2.200')).toMatchObject({ ok: true })
  })

  it('the account-wide counter is a soft signal: a growing delay, capped, taken one attempt at a time', async () => {
    const retries: number[] = []
    for (let i = 0; i < 12; i++) {
      const r = await strict.signIn('victim@example.com', `guess-${i}-password`, freshIp())
      if (!r.ok && r.reason === 'throttled') retries.push(r.verdict.retryAfterSeconds)
      // Wait out any spacing so that every guess is verified and counted.
      clock.advance(61_000)
    }
    expect(retries).toEqual([])
    expect(await env.store.countFailures(strict.throttle.accountKey('victim@example.com'), 0)).toBe(12)
    // 12 failures past a threshold of 5: spacing 2^7 s, capped at 60 s; 15 concurrent clients → one is verified.
    const burst = await Promise.all(Array.from({ length: 15 }, (_, i) => strict.signIn('victim@example.com', `burst-${i}-password`, `198.18.0.${i + 1}`)))
    expect(burst.filter((r) => !r.ok && r.reason === 'invalid')).toHaveLength(1)
    const refused = burst.filter((r) => !r.ok && r.reason === 'throttled')
    expect(refused).toHaveLength(14)
    for (const r of refused) expect(r).toMatchObject({ verdict: { scope: 'delay', retryAfterSeconds: 60 } })
  })

  it('waiting exactly the Retry-After of a spacing refusal is enough', async () => {
    for (let i = 0; i < 12; i++) {
      await strict.signIn('victim@example.com', `guess-${i}-password`, freshIp())
      clock.advance(61_000)
    }
    expect(await strict.signIn('victim@example.com', 'guess-right-now', freshIp())).toMatchObject({ ok: false, reason: 'invalid' })
    const spaced = await strict.signIn('victim@example.com', PASSWORD, '192.0.2.201')
    if (spaced.ok || spaced.reason !== 'throttled') throw new Error('expected a spacing refusal')
    expect(spaced.verdict).toEqual({ scope: 'delay', retryAfterSeconds: 60 })
    clock.advance(59_999)
    expect(await strict.signIn('victim@example.com', PASSWORD, '192.0.2.201')).toMatchObject({ ok: false, reason: 'throttled' })
    clock.advance(1)
    expect(await strict.signIn('victim@example.com', PASSWORD, '192.0.2.201')).toMatchObject({ ok: true })
  })

  it('a device cookie of a client that signed in before is not blocked by other clients failures, even from the same address (F3)', async () => {
    const home = '198.51.100.77'
    const signedIn = await strict.signIn('victim@example.com', PASSWORD, home)
    if (!signedIn.ok) throw new Error('expected a sign-in')
    const device = signedIn.device
    // The attacker shares the owner's address (NAT) and exhausts every limit that address has.
    for (let i = 0; i < 60; i++) await strict.signIn(i % 2 === 0 ? 'victim@example.com' : `other${i}@example.com`, `guess-${i}-password`, home)
    expect(await strict.signIn('victim@example.com', PASSWORD, home)).toMatchObject({ ok: false, reason: 'throttled' })
    // The owner's browser presents its device cookie: signed in at once.
    const back = await strict.signIn('victim@example.com', PASSWORD, home, device)
    expect(back).toMatchObject({ ok: true })
    // The same device id is kept; a device cookie of another account does not exempt anyone.
    if (!back.ok) throw new Error('unreachable')
    expect(back.device).toBe(device)
    await strict.createUser({ email: 'mallory@example.com', password: 'mallory owns this passphrase' })
    const mallory = await strict.signIn('mallory@example.com', 'mallory owns this passphrase', '192.0.2.99')
    if (!mallory.ok) throw new Error('expected a sign-in')
    expect(await strict.signIn('victim@example.com', PASSWORD, home, mallory.device)).toMatchObject({ ok: false, reason: 'throttled' })
  })

  it('a device cookie has its own hard limit: guessing with it is throttled like any client', async () => {
    const signedIn = await strict.signIn('victim@example.com', PASSWORD, '198.51.100.78')
    if (!signedIn.ok) throw new Error('expected a sign-in')
    for (let i = 0; i < 5; i++) expect(await strict.signIn('victim@example.com', `guess-${i}-password`, freshIp(), signedIn.device)).toMatchObject({ ok: false, reason: 'invalid' })
    expect(await strict.signIn('victim@example.com', PASSWORD, freshIp(), signedIn.device)).toMatchObject({ ok: false, reason: 'throttled', verdict: { scope: 'account' } })
  })
})
