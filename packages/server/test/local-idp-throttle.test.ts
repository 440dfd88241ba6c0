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
  it('throttles an account after maxFailuresPerAccount failures, even for the right password', async () => {
    for (let i = 0; i < 3; i++) expect(await idp.signIn('victim@example.com', `wrong-${i}-password`, freshIp())).toMatchObject({ ok: false, reason: 'invalid' })
    const blocked = await idp.signIn('victim@example.com', PASSWORD, freshIp())
    expect(blocked).toMatchObject({ ok: false, reason: 'throttled', verdict: { scope: 'account' } })
    if (blocked.ok || blocked.reason !== 'throttled') throw new Error('unreachable')
    expect(blocked.verdict.retryAfterSeconds).toBeGreaterThan(0)
    expect(blocked.verdict.retryAfterSeconds).toBeLessThanOrEqual(WINDOW / 1000)
  })

  it('counts case and padding variants of the identifier as the same account', async () => {
    await idp.signIn('VICTIM@example.com', 'wrong-password-1', freshIp())
    await idp.signIn('  Victim@Example.COM ', 'wrong-password-2', freshIp())
    await idp.signIn('victim@EXAMPLE.com', 'wrong-password-3', freshIp())
    expect(await idp.signIn('victim@example.com', PASSWORD, freshIp())).toMatchObject({ ok: false, reason: 'throttled' })
  })

  it('counts unknown accounts the same way, so throttling reveals nothing', async () => {
    for (let i = 0; i < 3; i++) expect(await idp.signIn('Nobody@Example.com', `wrong-${i}-password`, freshIp())).toMatchObject({ ok: false, reason: 'invalid' })
    expect(await idp.signIn('nobody@example.com', 'whatever-password', freshIp())).toMatchObject({ ok: false, reason: 'throttled', verdict: { scope: 'account' } })
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
    await idp.signIn('victim@example.com', 'wrong-password-1', freshIp())
    await idp.signIn('victim@example.com', 'wrong-password-2', freshIp())
    expect(await idp.signIn('victim@example.com', PASSWORD, freshIp())).toMatchObject({ ok: true })
    await idp.signIn('victim@example.com', 'wrong-password-3', freshIp())
    await idp.signIn('victim@example.com', 'wrong-password-4', freshIp())
    expect(await idp.signIn('victim@example.com', PASSWORD, freshIp())).toMatchObject({ ok: true })
  })

  it('throttling ends when the window slides past the failures: an attacker cannot lock the victim out for good', async () => {
    for (let i = 0; i < 3; i++) await idp.signIn('victim@example.com', `wrong-${i}-password`, freshIp())
    // Hammering while throttled is refused without being counted.
    for (let i = 0; i < 20; i++) {
      clock.advance(30_000)
      expect(await idp.signIn('victim@example.com', 'still-wrong-password', freshIp())).toMatchObject({ ok: false, reason: 'throttled' })
    }
    clock.advance(WINDOW - 20 * 30_000 + 1)
    expect(await idp.signIn('victim@example.com', PASSWORD, freshIp())).toMatchObject({ ok: true })
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
