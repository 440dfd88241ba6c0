// RefreshTokens on its own, over a real SQLite store and a frozen clock: the
// rows it writes, expiry at its boundary, the family's absolute end, reuse
// detection and the race guard of a successor (issue 21: found by mutation
// testing; local-idp-token-routes.test.ts covers it through /auth/local/token).
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { familyEnd, hashRefreshToken, looksLikeRefreshToken, RefreshTokens } from '../src/lib/local-idp/refresh-tokens.js'
import type { RefreshTokenRecord } from '../src/lib/store/auth-store.js'
import { frozenClock, tempStore } from './local-idp-harness.js'

const TTL_SECONDS = 600
const FAMILY_SECONDS = 3600

let env: Awaited<ReturnType<typeof tempStore>>
let clock: ReturnType<typeof frozenClock>
let tokens: RefreshTokens
let userId: string

beforeEach(async () => {
  env = await tempStore()
  clock = frozenClock()
  tokens = new RefreshTokens(env.store, TTL_SECONDS, FAMILY_SECONDS, clock.now)
  userId = (await env.store.createUser({ email: 'ada@example.com', name: 'Ada', passwordHash: null })).id
})
afterEach(async () => {
  await env.cleanup()
})

const row = async (raw: string) => env.store.getRefreshToken(hashRefreshToken(raw))

async function used(raw: string): Promise<RefreshTokenRecord> {
  const outcome = await tokens.use(raw)
  if (!outcome.ok) throw new Error(`expected a valid token, got ${outcome.reason}`)
  return outcome.record
}

describe('issue', () => {
  it('stores only the hash, with the lifetimes of the token and of a new family', async () => {
    const start = clock.now()
    const issued = await tokens.issue(userId)
    expect(looksLikeRefreshToken(issued.token)).toBe(true)
    expect(issued).toMatchObject({ expiresAt: start + TTL_SECONDS * 1000, familyExpiresAt: start + FAMILY_SECONDS * 1000 })
    expect(issued.familyId).toMatch(/^[0-9a-f-]{36}$/)
    expect(await row(issued.token)).toEqual({
      id: hashRefreshToken(issued.token),
      familyId: issued.familyId,
      userId,
      createdAt: start,
      expiresAt: start + TTL_SECONDS * 1000,
      usedAt: null,
      revokedAt: null,
      familyExpiresAt: start + FAMILY_SECONDS * 1000,
    })
    // Every sign-in starts a family of its own.
    expect((await tokens.issue(userId)).familyId).not.toBe(issued.familyId)
  })

  it('reads the system clock by default', async () => {
    const system = new RefreshTokens(env.store, TTL_SECONDS, FAMILY_SECONDS)
    const before = Date.now()
    const issued = await system.issue(userId)
    const after = Date.now()
    expect(issued.expiresAt).toBeGreaterThanOrEqual(before + TTL_SECONDS * 1000)
    expect(issued.expiresAt).toBeLessThanOrEqual(after + TTL_SECONDS * 1000)
  })

  it('a given family id is kept; a successor keeps its predecessor family and end, and never outlives it', async () => {
    // A family of 900 s and tokens of 600 s: the successor of one used at 500 s ends with the family.
    const short = new RefreshTokens(env.store, 600, 900, clock.now)
    const first = await short.issue(userId, undefined, 'family-1')
    expect(first.familyId).toBe('family-1')
    expect(first.familyExpiresAt).toBe(clock.now() + 900_000)
    clock.advance(500_000)
    const predecessor = await used(first.token)
    const next = await short.issue(userId, predecessor, 'ignored-family')
    expect(next).toMatchObject({ familyId: 'family-1', familyExpiresAt: first.familyExpiresAt, expiresAt: first.familyExpiresAt })
    expect(await row(next.token)).toMatchObject({ familyId: 'family-1', expiresAt: first.familyExpiresAt, familyExpiresAt: first.familyExpiresAt })
  })

  it('a row written before families had an end ends its family at its own expiry', () => {
    const old: RefreshTokenRecord = { id: 'x', familyId: 'f', userId: 'u', createdAt: 1, expiresAt: 500, usedAt: null, revokedAt: null }
    expect(familyEnd(old)).toBe(500)
    expect(familyEnd({ ...old, familyExpiresAt: null })).toBe(500)
    expect(familyEnd({ ...old, familyExpiresAt: 400 })).toBe(400)
  })
})

describe('use', () => {
  it('refuses what is not a token of ours without a lookup, and unknown tokens', async () => {
    for (const raw of [undefined, null, 42, '', 'short', `${'a'.repeat(43)}=`]) expect(await tokens.use(raw)).toEqual({ ok: false, reason: 'invalid' })
    expect(await tokens.use('a'.repeat(43))).toEqual({ ok: false, reason: 'invalid' })
  })

  it('a token is valid until the last millisecond before its expiry', async () => {
    const a = await tokens.issue(userId)
    const b = await tokens.issue(userId)
    clock.advance(TTL_SECONDS * 1000 - 1)
    expect((await tokens.use(a.token)).ok).toBe(true)
    clock.advance(1)
    expect(await tokens.use(b.token)).toEqual({ ok: false, reason: 'invalid' })
    // An expired token is no reuse: its family stays as it was.
    expect((await row(b.token))!.revokedAt).toBeNull()
  })

  it('marks the token used at the current time and answers its row as it was', async () => {
    const issued = await tokens.issue(userId)
    clock.advance(1234)
    const record = await used(issued.token)
    expect(record).toMatchObject({ id: hashRefreshToken(issued.token), usedAt: null, revokedAt: null })
    expect((await row(issued.token))!.usedAt).toBe(clock.now())
  })

  it('a second use is reuse: the whole family is revoked at that moment, other families are not', async () => {
    const first = await tokens.issue(userId)
    const other = await tokens.issue(userId)
    const predecessor = await used(first.token)
    const successor = await tokens.issue(userId, predecessor)
    clock.advance(5000)
    const reuse = await tokens.use(first.token)
    expect(reuse).toMatchObject({ ok: false, reason: 'reuse', record: { id: hashRefreshToken(first.token), familyId: first.familyId } })
    expect((await row(successor.token))!.revokedAt).toBe(clock.now())
    expect((await row(first.token))!.revokedAt).toBe(clock.now())
    expect((await row(other.token))!.revokedAt).toBeNull()
    // Revoked now: plainly invalid, no second revocation.
    expect(await tokens.use(successor.token)).toEqual({ ok: false, reason: 'invalid' })
    expect((await tokens.use(other.token)).ok).toBe(true)
  })
})

describe('successorHolds', () => {
  it('is true while the used token stands; after a concurrent reuse it revokes the family and is false', async () => {
    const first = await tokens.issue(userId)
    const predecessor = await used(first.token)
    const successor = await tokens.issue(userId, predecessor)
    expect(await tokens.successorHolds(predecessor)).toBe(true)
    expect((await row(successor.token))!.revokedAt).toBeNull()
    await env.store.revokeRefreshFamily(first.familyId, clock.now())
    const late = await tokens.issue(userId, predecessor)
    clock.advance(10)
    expect(await tokens.successorHolds(predecessor)).toBe(false)
    expect((await row(late.token))!.revokedAt).toBe(clock.now())
  })

  it('a used token whose row is gone holds nothing: the family is revoked', async () => {
    const issued = await tokens.issue(userId)
    const ghost: RefreshTokenRecord = { id: hashRefreshToken('b'.repeat(43)), familyId: issued.familyId, userId, createdAt: 0, expiresAt: 0, usedAt: null, revokedAt: null }
    expect(await tokens.successorHolds(ghost)).toBe(false)
    expect((await row(issued.token))!.revokedAt).toBe(clock.now())
  })
})

describe('revoke', () => {
  it('revokes the family of a token of ours and answers its row; null for anything else', async () => {
    const issued = await tokens.issue(userId)
    const other = await tokens.issue(userId)
    expect(await tokens.revoke('not a token')).toBeNull()
    for (const raw of [undefined, null, 42, { token: issued.token }]) expect(await tokens.revoke(raw)).toBeNull()
    expect(await tokens.revoke('c'.repeat(43))).toBeNull()
    clock.advance(77)
    expect(await tokens.revoke(issued.token)).toMatchObject({ id: hashRefreshToken(issued.token), familyId: issued.familyId, revokedAt: null })
    expect((await row(issued.token))!.revokedAt).toBe(clock.now())
    expect((await row(other.token))!.revokedAt).toBeNull()
  })
})
