import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { AccountTokenRecord, PasskeyRecord } from '../../packages/server/src/lib/store/auth-store.js'
import { expectCode, newUser, singleUseTests, type StoreContext } from './harness.js'

/** Single-use tokens of the account flows (e-mail verification, password reset). */
export function accountSuites(ctx: StoreContext): void {
  describe('passkeys', () => {
    const passkey = (userId: string, at = Date.now()): PasskeyRecord => ({
      id: randomUUID(),
      userId,
      publicKey: 'pQECAyYgASFYIBoo',
      counter: 0,
      transports: ['internal', 'hybrid'],
      name: 'Laptop',
      createdAt: at,
      lastUsedAt: null,
    })

    it('create / get / list round-trip every field, oldest first, per user', async () => {
      const a = await newUser(ctx.store)
      const b = await newUser(ctx.store)
      const first = passkey(a.id, 1000)
      const second = { ...passkey(a.id, 2000), transports: [], name: 'Phone' }
      await ctx.store.createPasskey(second)
      await ctx.store.createPasskey(first)
      await ctx.store.createPasskey(passkey(b.id))
      expect(await ctx.store.getPasskey(first.id)).toEqual(first)
      expect(await ctx.store.listPasskeys(a.id)).toEqual([first, second])
      expect(await ctx.store.getPasskey('missing')).toBeNull()
      expect(await ctx.store.listPasskeys('nobody')).toEqual([])
    })

    it('usePasskey moves the counter forward only (0 stays usable for authenticators that do not count)', async () => {
      const user = await newUser(ctx.store)
      const zero = passkey(user.id)
      await ctx.store.createPasskey(zero)
      expect(await ctx.store.usePasskey(zero.id, 0, 10)).toBe(true)
      expect((await ctx.store.getPasskey(zero.id))!.lastUsedAt).toBe(10)
      const counting = { ...passkey(user.id), counter: 5 }
      await ctx.store.createPasskey(counting)
      expect(await ctx.store.usePasskey(counting.id, 5, 20)).toBe(false)
      expect(await ctx.store.usePasskey(counting.id, 4, 20)).toBe(false)
      expect(await ctx.store.usePasskey(counting.id, 0, 20)).toBe(false)
      expect(await ctx.store.usePasskey(counting.id, 6, 30)).toBe(true)
      expect(await ctx.store.getPasskey(counting.id)).toMatchObject({ counter: 6, lastUsedAt: 30 })
      expect(await ctx.store.usePasskey('missing', 1, 40)).toBe(false)
      await expectCode(ctx.store.usePasskey(counting.id, -1, 40), 'ERR_VALIDATION', 400)
    })

    it("rename and delete act only on the user's own passkey", async () => {
      const a = await newUser(ctx.store)
      const b = await newUser(ctx.store)
      const pk = passkey(a.id)
      await ctx.store.createPasskey(pk)
      expect(await ctx.store.renamePasskey(b.id, pk.id, 'Stolen')).toBe(false)
      expect(await ctx.store.deletePasskey(b.id, pk.id)).toBe(false)
      expect(await ctx.store.renamePasskey(a.id, pk.id, 'Work laptop')).toBe(true)
      expect((await ctx.store.getPasskey(pk.id))!.name).toBe('Work laptop')
      await expectCode(ctx.store.renamePasskey(a.id, pk.id, ''), 'ERR_VALIDATION', 400)
      expect(await ctx.store.deletePasskey(a.id, pk.id)).toBe(true)
      expect(await ctx.store.getPasskey(pk.id)).toBeNull()
      expect(await ctx.store.deletePasskey(a.id, pk.id)).toBe(false)
    })

    it('an unknown user is refused; a credential id stored twice is ERR_STORE_CONFLICT', async () => {
      const a = await newUser(ctx.store)
      const b = await newUser(ctx.store)
      await expect(ctx.store.createPasskey(passkey('no-such-user'))).rejects.toMatchObject({ code: 'ERR_USER_NOT_FOUND' })
      const pk = passkey(a.id)
      await ctx.store.createPasskey(pk)
      await expectCode(ctx.store.createPasskey({ ...pk, userId: b.id }), 'ERR_STORE_CONFLICT', 409)
      expect((await ctx.store.getPasskey(pk.id))!.userId).toBe(a.id)
    })
  })

  describe('setUserEmail (e-mail change)', () => {
    it('changes the address: found by the new one, not by the old; claims and version stay', async () => {
      const user = await ctx.store.createUser({ email: 'old@example.test', name: 'Ada', passwordHash: null, claims: [{ type: 'email_verified', value: 'true' }] })
      const updated = await ctx.store.setUserEmail(user.id, 'new@example.test')
      expect(updated).toMatchObject({ id: user.id, email: 'new@example.test', claims: user.claims, version: user.version })
      expect((await ctx.store.getUserByEmail('new@example.test'))?.id).toBe(user.id)
      expect(await ctx.store.getUserByEmail('old@example.test')).toBeNull()
      expect((await ctx.store.getUser(user.id))?.email).toBe('new@example.test')
      // The old address is free again.
      await ctx.store.createUser({ email: 'old@example.test', name: null, passwordHash: null })
    })

    it("another user's address is ERR_ACCOUNT_EXISTS and changes nothing; an unknown user ERR_USER_NOT_FOUND", async () => {
      const a = await ctx.store.createUser({ email: 'a@example.test', name: null, passwordHash: null })
      await ctx.store.createUser({ email: 'b@example.test', name: null, passwordHash: null })
      await expectCode(ctx.store.setUserEmail(a.id, 'b@example.test'), 'ERR_ACCOUNT_EXISTS', 409)
      expect((await ctx.store.getUser(a.id))?.email).toBe('a@example.test')
      await expectCode(ctx.store.setUserEmail('no-such-user', 'c@example.test'), 'ERR_USER_NOT_FOUND', 404)
      await expectCode(ctx.store.setUserEmail(a.id, ''), 'ERR_VALIDATION', 400)
      // Setting the address it already has is fine.
      expect((await ctx.store.setUserEmail(a.id, 'a@example.test')).email).toBe('a@example.test')
    })
  })

  describe('account tokens', () => {
    const token = (userId: string, purpose = 'verify-email', at = Date.now()): AccountTokenRecord => ({
      id: randomUUID(),
      userId,
      purpose,
      email: 'ada@example.test',
      createdAt: at,
      expiresAt: at + 60_000,
      usedAt: null,
    })

    it('create / consume round-trips every field; unknown tokens give null', async () => {
      const user = await newUser(ctx.store)
      const t = token(user.id)
      await ctx.store.createAccountToken(t)
      expect(await ctx.store.consumeAccountToken(t.id, t.createdAt + 5)).toEqual({ record: t, firstUse: true })
      expect(await ctx.store.consumeAccountToken('missing', t.createdAt)).toBeNull()
      const none = { ...token(user.id, 'reset-password'), email: null }
      await ctx.store.createAccountToken(none)
      expect((await ctx.store.consumeAccountToken(none.id, none.createdAt))?.record.email).toBeNull()
    })

    singleUseTests(ctx, {
      noun: 'token',
      uses: 'uses',
      make: (userId) => token(userId),
      create: (t) => ctx.store.createAccountToken(t),
      consume: (id, at) => ctx.store.consumeAccountToken(id, at),
    })

    it('a later token of the same user and purpose replaces the earlier; other purposes and users keep theirs', async () => {
      const a = await newUser(ctx.store)
      const b = await newUser(ctx.store)
      const at = Date.now()
      const first = token(a.id, 'verify-email', at)
      const reset = token(a.id, 'reset-password', at)
      const others = token(b.id, 'verify-email', at)
      await ctx.store.createAccountToken(first)
      await ctx.store.createAccountToken(reset)
      await ctx.store.createAccountToken(others)
      const second = token(a.id, 'verify-email', at + 10)
      await ctx.store.createAccountToken(second)
      expect(await ctx.store.consumeAccountToken(first.id, at + 11)).toBeNull()
      expect((await ctx.store.consumeAccountToken(second.id, at + 11))?.firstUse).toBe(true)
      expect((await ctx.store.consumeAccountToken(reset.id, at + 11))?.firstUse).toBe(true)
      expect((await ctx.store.consumeAccountToken(others.id, at + 11))?.firstUse).toBe(true)
    })

    it('a token of an unknown user is refused; a duplicate id is ERR_STORE_CONFLICT; expired tokens are swept', async () => {
      const user = await newUser(ctx.store)
      await expect(ctx.store.createAccountToken(token('no-such-user'))).rejects.toMatchObject({ code: 'ERR_USER_NOT_FOUND' })
      const t = token(user.id, 'verify-email', Date.now() - 120_000)
      await ctx.store.createAccountToken(t)
      // Same id again (another purpose, so the replacement rule does not delete the first).
      await expectCode(ctx.store.createAccountToken({ ...t, purpose: 'reset-password' }), 'ERR_STORE_CONFLICT', 409)
      await ctx.store.deleteExpiredSessions(Date.now())
      expect(await ctx.store.consumeAccountToken(t.id, Date.now())).toBeNull()
    })
  })
}
