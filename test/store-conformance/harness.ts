import { randomUUID } from 'node:crypto'
import { afterEach, beforeEach, expect } from 'vitest'
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
