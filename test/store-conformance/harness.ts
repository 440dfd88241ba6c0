import { randomUUID } from 'node:crypto'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { WireAuthError, type Claim } from '@wire-auth/core'
import type { AuthStore, SessionRecord, UserRecord } from '../../packages/server/src/lib/store/auth-store.js'

/** What a runner hands to {@link runStoreConformance} for each test. */
export interface StoreHarness {
  store: AuthStore
  /** Closes nothing: opens a second store on the same data (after the first was closed). */
  reopen?: () => Promise<AuthStore>
  /** Closes every store it made and deletes the data. */
  cleanup: () => Promise<void>
}

export type MakeStore = () => Promise<StoreHarness>

/** The store of the running test. */
export interface StoreContext {
  readonly store: AuthStore
  readonly harness: StoreHarness
}

/** A fresh, initialised store for every test, cleaned up afterwards. */
export function useStore(makeStore: MakeStore): StoreContext {
  let harness: StoreHarness | null = null
  beforeEach(async () => {
    harness = await makeStore()
    await harness.store.init()
  })
  afterEach(async () => {
    const h = harness
    harness = null
    await h?.cleanup()
  })
  return {
    get store() {
      if (harness === null) throw new Error('the store is only available inside a test')
      return harness.store
    },
    get harness() {
      if (harness === null) throw new Error('the store is only available inside a test')
      return harness
    },
  }
}

/** Awaits `promise` and asserts it rejected with a WireAuthError of `code` (and `status`). */
export async function expectCode(promise: Promise<unknown>, code: string, status?: number): Promise<WireAuthError> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )
  if (outcome.ok) throw new Error(`expected a rejection with ${code}, got a resolved promise`)
  const err = outcome.error
  expect(err, `expected a WireAuthError with ${code}`).toBeInstanceOf(WireAuthError)
  expect((err as WireAuthError).code).toBe(code)
  if (status !== undefined) expect((err as WireAuthError).statusCode).toBe(status)
  return err as WireAuthError
}

/** A unique canonical e-mail. */
export function email(tag = 'user'): string {
  return `${tag}-${randomUUID().slice(0, 8)}@example.test`
}

export function newUser(store: AuthStore, claims: Claim[] = [], name: string | null = 'Ada'): Promise<UserRecord> {
  return store.createUser({ email: email(), name, passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', claims })
}

/** A session row for `user` at its current version. */
export function sessionFor(user: UserRecord, overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now()
  return {
    id: randomUUID().replaceAll('-', '') + randomUUID().replaceAll('-', ''),
    userId: user.id,
    name: user.name,
    claims: user.claims.map((c) => ({ ...c })),
    userVersion: user.version,
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: now + 30 * 60_000,
    absoluteExpiresAt: now + 12 * 3600_000,
    ip: '203.0.113.7',
    userAgent: 'conformance',
    ...overrides,
  }
}

/** Claims as sorted `type=value` strings, for order-free comparison. */
export function claimSet(claims: readonly Claim[]): string[] {
  return claims.map((c) => `${c.type}=${c.value}`).sort()
}

export const c = (type: string, value: string): Claim => ({ type, value })

/** A single-use record of the store (an account token, an authorization code) and its two operations. */
export interface SingleUseRecords<R extends { id: string; createdAt: number }> {
  /** Names the record in the test titles (`token`, `code`). */
  noun: string
  /** Names a use of it in the test titles (`uses`, `exchanges`). */
  uses: string
  make(userId: string): R
  create(record: R): Promise<unknown>
  consume(id: string, at: number): Promise<{ firstUse: boolean; record: { usedAt: number | null } } | null>
}

/**
 * The single-use contract, one test each: a second consumer sees
 * `firstUse: false` and the first use time; of 20 concurrent uses exactly one is first.
 */
export function singleUseTests<R extends { id: string; createdAt: number }>(ctx: StoreContext, records: SingleUseRecords<R>): void {
  it(`a ${records.noun} is consumed once: the second consumer sees firstUse false and the first use time`, async () => {
    const user = await newUser(ctx.store)
    const record = records.make(user.id)
    await records.create(record)
    await records.consume(record.id, record.createdAt + 1)
    const again = await records.consume(record.id, record.createdAt + 2)
    expect(again?.firstUse).toBe(false)
    expect(again?.record.usedAt).toBe(record.createdAt + 1)
  })

  it(`20 concurrent ${records.uses} of one ${records.noun}: exactly one is first`, async () => {
    const user = await newUser(ctx.store)
    const record = records.make(user.id)
    await records.create(record)
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => records.consume(record.id, record.createdAt + i)))
    expect(results.filter((r) => r?.firstUse)).toHaveLength(1)
  })
}
