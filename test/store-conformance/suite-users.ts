import { describe, expect, it } from 'vitest'
import { c, claimSet, email, expectCode, newUser, sessionFor, type StoreContext } from './harness.js'

/** Users, claims, session snapshots and concurrent claim changes. */
export function userSuites(ctx: StoreContext): void {

  describe('users', () => {
    it('createUser returns the full record at version 1', async () => {
      const before = Date.now()
      const addr = email()
      const user = await ctx.store.createUser({ email: addr, name: 'Ada', passwordHash: '$argon2id$x', claims: [c('role', 'admin')] })
      expect(typeof user.id).toBe('string')
      expect(user.id.length).toBeGreaterThan(0)
      expect(user).toMatchObject({ email: addr, name: 'Ada', passwordHash: '$argon2id$x', disabled: false, version: 1 })
      expect(user.claims).toEqual([c('role', 'admin')])
      expect(user.createdAt).toBeGreaterThanOrEqual(before)
      expect(user.updatedAt).toBe(user.createdAt)
      expect(await ctx.store.getUser(user.id)).toEqual(user)
    })

    it('createUser de-duplicates the initial claims and keeps their order', async () => {
      const user = await newUser(ctx.store, [c('b', '2'), c('a', '1'), c('b', '2')])
      expect(user.claims).toEqual([c('b', '2'), c('a', '1')])
    })

    it('a duplicate e-mail throws ERR_ACCOUNT_EXISTS (409) and stores nothing', async () => {
      const addr = email()
      await ctx.store.createUser({ email: addr, name: 'A', passwordHash: null })
      const err = await expectCode(ctx.store.createUser({ email: addr, name: 'B', passwordHash: null }), 'ERR_ACCOUNT_EXISTS', 409)
      expect(err.message).not.toContain(addr)
      expect(await ctx.store.listUsers()).toHaveLength(1)
    })

    it('many users may have no e-mail (provider-only)', async () => {
      const a = await ctx.store.createUser({ email: null, name: 'A', passwordHash: null })
      const b = await ctx.store.createUser({ email: null, name: 'B', passwordHash: null })
      expect(a.id).not.toBe(b.id)
      expect(a.email).toBeNull()
      expect(a.passwordHash).toBeNull()
    })

    it('getUser / getUserByEmail find the user; unknown ones give null', async () => {
      const user = await newUser(ctx.store, [c('role', 'x')])
      expect(await ctx.store.getUser(user.id)).toEqual(user)
      expect(await ctx.store.getUserByEmail(user.email!)).toEqual(user)
      expect(await ctx.store.getUser('no-such-id')).toBeNull()
      expect(await ctx.store.getUserByEmail('nobody@example.test')).toBeNull()
    })

    it('returns fresh copies: mutating a result does not change the store', async () => {
      const user = await newUser(ctx.store, [c('role', 'x')])
      user.claims.push(c('role', 'forged'))
      user.name = 'Mallory'
      const again = await ctx.store.getUser(user.id)
      expect(again!.claims).toEqual([c('role', 'x')])
      expect(again!.name).toBe('Ada')
      const change = await ctx.store.addClaim(user.id, c('a', '1'))
      change.user.claims.length = 0
      expect((await ctx.store.getUser(user.id))!.claims).toHaveLength(2)
    })

    it('listUsers pages with limit / offset without overlap', async () => {
      const ids = new Set<string>()
      for (let i = 0; i < 5; i++) ids.add((await newUser(ctx.store)).id)
      const all = await ctx.store.listUsers()
      expect(new Set(all.map((u) => u.id))).toEqual(ids)
      const pages = [
        await ctx.store.listUsers({ limit: 2, offset: 0 }),
        await ctx.store.listUsers({ limit: 2, offset: 2 }),
        await ctx.store.listUsers({ limit: 2, offset: 4 }),
      ]
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1])
      expect(pages.flat().map((u) => u.id)).toEqual(all.map((u) => u.id))
      expect(await ctx.store.listUsers({ limit: 2, offset: 5 })).toEqual([])
    })

    it('updateUser changes fields, bumps version once and refreshes session names', async () => {
      const user = await newUser(ctx.store, [c('role', 'x')])
      const session = sessionFor(user)
      await ctx.store.createSession(session)
      const renamed = await ctx.store.updateUser(user.id, { name: 'Grace' })
      expect(renamed).toMatchObject({ name: 'Grace', version: 2 })
      expect(renamed.updatedAt).toBeGreaterThanOrEqual(user.updatedAt)
      expect(await ctx.store.getSession(session.id)).toMatchObject({ name: 'Grace', userVersion: 2, claims: [c('role', 'x')] })

      const disabled = await ctx.store.updateUser(user.id, { disabled: true, passwordHash: null })
      expect(disabled).toMatchObject({ disabled: true, passwordHash: null, version: 3, name: 'Grace' })
      expect(await ctx.store.getUser(user.id)).toEqual(disabled)
    })

    it('updateUser({ revokeAccessTokens: true }) bumps the version and raises tokensMinVersion to it, atomically', async () => {
      const user = await newUser(ctx.store)
      expect(user.tokensMinVersion).toBe(0)
      await ctx.store.addClaim(user.id, c('role', 'x'))
      const revoked = await ctx.store.updateUser(user.id, { revokeAccessTokens: true })
      expect(revoked).toMatchObject({ version: 3, tokensMinVersion: 3 })
      expect(await ctx.store.getUser(user.id)).toEqual(revoked)
      const again = await ctx.store.updateUser(user.id, { revokeAccessTokens: true, name: 'N' })
      expect(again).toMatchObject({ version: 4, tokensMinVersion: 4, name: 'N' })
      // Later changes leave it alone.
      expect((await ctx.store.addClaim(user.id, c('role', 'y'))).user).toMatchObject({ version: 5, tokensMinVersion: 4 })
      await expectCode(ctx.store.updateUser(user.id, { revokeAccessTokens: false as unknown as true }), 'ERR_VALIDATION', 400)
    })

    it('updateUser without a real change does not bump the version', async () => {
      const user = await newUser(ctx.store)
      expect((await ctx.store.updateUser(user.id, { name: user.name })).version).toBe(1)
      expect((await ctx.store.updateUser(user.id, {})).version).toBe(1)
      expect((await ctx.store.updateUser(user.id, { disabled: false })).version).toBe(1)
    })

    it('updateUser of an unknown user throws ERR_USER_NOT_FOUND (404)', async () => {
      await expectCode(ctx.store.updateUser('no-such-id', { name: 'x' }), 'ERR_USER_NOT_FOUND', 404)
    })
  })

  describe('claims', () => {
    it('addClaim adds, bumps the version and rewrites every session snapshot', async () => {
      const user = await newUser(ctx.store, [c('role', 'reader')])
      const s1 = sessionFor(user)
      const s2 = sessionFor(user)
      await ctx.store.createSession(s1)
      await ctx.store.createSession(s2)
      const change = await ctx.store.addClaim(user.id, c('role', 'admin'))
      expect(change.user.version).toBe(2)
      expect(change.user.claims).toEqual([c('role', 'reader'), c('role', 'admin')])
      expect([...change.sessionIds].sort()).toEqual([s1.id, s2.id].sort())
      for (const id of [s1.id, s2.id]) {
        expect(await ctx.store.getSession(id)).toMatchObject({ userVersion: 2, claims: change.user.claims, name: user.name })
      }
      expect(await ctx.store.getUser(user.id)).toEqual(change.user)
    })

    it('addClaim of a claim already held is a no-op without a version bump', async () => {
      const user = await newUser(ctx.store, [c('role', 'admin')])
      const change = await ctx.store.addClaim(user.id, c('role', 'admin'))
      expect(change.user.version).toBe(1)
      expect(change.user.claims).toEqual([c('role', 'admin')])
    })

    it('removeClaim by type removes every value; by type and value only that one', async () => {
      const user = await newUser(ctx.store, [c('role', 'a'), c('role', 'b'), c('team', 'x'), c('team', 'y')])
      const session = sessionFor(user)
      await ctx.store.createSession(session)
      const one = await ctx.store.removeClaim(user.id, 'team', 'x')
      expect(one.user.claims).toEqual([c('role', 'a'), c('role', 'b'), c('team', 'y')])
      expect(one.user.version).toBe(2)
      const all = await ctx.store.removeClaim(user.id, 'role')
      expect(all.user.claims).toEqual([c('team', 'y')])
      expect(all.user.version).toBe(3)
      expect(all.sessionIds).toEqual([session.id])
      expect(await ctx.store.getSession(session.id)).toMatchObject({ userVersion: 3, claims: [c('team', 'y')] })
    })

    it('removeClaim of a claim not held does not bump the version', async () => {
      const user = await newUser(ctx.store, [c('role', 'a')])
      expect((await ctx.store.removeClaim(user.id, 'role', 'b')).user.version).toBe(1)
      expect((await ctx.store.removeClaim(user.id, 'team')).user.version).toBe(1)
    })

    it('replaceClaimTypes replaces only the given types and keeps the others', async () => {
      const user = await newUser(ctx.store, [c('local', 'keep'), c('groups', 'a'), c('groups', 'b'), c('email_verified', 'false')])
      const session = sessionFor(user)
      await ctx.store.createSession(session)
      const change = await ctx.store.replaceClaimTypes(user.id, ['groups', 'email_verified'], [c('groups', 'b'), c('groups', 'c'), c('email_verified', 'true')])
      expect(change.user.version).toBe(2)
      expect(claimSet(change.user.claims)).toEqual(claimSet([c('local', 'keep'), c('groups', 'b'), c('groups', 'c'), c('email_verified', 'true')]))
      expect(change.user.claims.slice(0, 2)).toEqual([c('local', 'keep'), c('groups', 'b')])
      expect(await ctx.store.getSession(session.id)).toMatchObject({ userVersion: 2, claims: change.user.claims })

      const same = await ctx.store.replaceClaimTypes(user.id, ['groups'], [c('groups', 'c'), c('groups', 'b')])
      expect(same.user.version).toBe(2)
      const cleared = await ctx.store.replaceClaimTypes(user.id, ['groups'], [])
      expect(cleared.user.version).toBe(3)
      expect(claimSet(cleared.user.claims)).toEqual(claimSet([c('local', 'keep'), c('email_verified', 'true')]))
    })

    it('a session created from a stale read is brought up to date', async () => {
      const user = await newUser(ctx.store, [c('role', 'a')])
      await ctx.store.addClaim(user.id, c('role', 'b'))
      const stale = sessionFor(user)
      await ctx.store.createSession(stale)
      expect(await ctx.store.getSession(stale.id)).toMatchObject({ userVersion: 2, claims: [c('role', 'a'), c('role', 'b')] })
    })

    it('claim changes of an unknown user throw ERR_USER_NOT_FOUND (404)', async () => {
      await expectCode(ctx.store.addClaim('no-such-id', c('role', 'a')), 'ERR_USER_NOT_FOUND', 404)
      await expectCode(ctx.store.removeClaim('no-such-id', 'role'), 'ERR_USER_NOT_FOUND', 404)
      await expectCode(ctx.store.replaceClaimTypes('no-such-id', ['role'], []), 'ERR_USER_NOT_FOUND', 404)
    })

    it('malformed claims throw ERR_INVALID_CLAIM (400)', async () => {
      const user = await newUser(ctx.store)
      await expectCode(ctx.store.addClaim(user.id, { type: '', value: 'x' }), 'ERR_INVALID_CLAIM', 400)
      await expectCode(ctx.store.addClaim(user.id, { type: 'role', value: 7 as unknown as string }), 'ERR_INVALID_CLAIM', 400)
      await expectCode(ctx.store.addClaim(user.id, { type: { $ne: 1 } as unknown as string, value: 'x' }), 'ERR_INVALID_CLAIM', 400)
      expect((await ctx.store.getUser(user.id))!.version).toBe(1)
    })

    it('claim values that look like operators or field paths are stored literally', async () => {
      const user = await newUser(ctx.store, [c('role', '$claims')])
      const change = await ctx.store.replaceClaimTypes(user.id, ['role'], [c('role', '$claims'), c('role', '$$ROOT'), c('$where', '{"$ne":1}')])
      expect(claimSet(change.user.claims)).toEqual(claimSet([c('role', '$claims'), c('role', '$$ROOT'), c('$where', '{"$ne":1}')]))
      expect((await ctx.store.removeClaim(user.id, 'role', '$$ROOT')).user.claims).toHaveLength(2)
    })
  })

  describe('concurrent claim changes', () => {
    it('50 concurrent addClaim / removeClaim on one user end exactly right, snapshots included', async () => {
      const initial = Array.from({ length: 25 }, (_, i) => c('old', `o${i}`))
      const user = await newUser(ctx.store, initial)
      const sessions = [sessionFor(user), sessionFor(user)]
      for (const s of sessions) await ctx.store.createSession(s)
      const ops = Array.from({ length: 25 }, (_, i) => [
        ctx.store.addClaim(user.id, c('new', `n${i}`)),
        ctx.store.removeClaim(user.id, 'old', `o${i}`),
      ]).flat()
      const changes = await Promise.all(ops)
      const expected = claimSet(Array.from({ length: 25 }, (_, i) => c('new', `n${i}`)))
      const final = (await ctx.store.getUser(user.id))!
      expect(claimSet(final.claims)).toEqual(expected)
      // Every operation changed something, so every one bumped the version once.
      expect(final.version).toBe(user.version + 50)
      expect(new Set(changes.map((ch) => ch.user.version)).size).toBe(50)
      for (const s of sessions) {
        const row = (await ctx.store.getSession(s.id))!
        expect(row.userVersion).toBe(final.version)
        expect(claimSet(row.claims)).toEqual(expected)
      }
    })

    it('session touches racing claim changes never bring back old claims', async () => {
      // A store that renews a session by writing the whole row back (a
      // read-modify-write, as FerretDB applies every update) could restore
      // the claims it read before a concurrent change.
      const user = await newUser(ctx.store)
      const session = sessionFor(user)
      await ctx.store.createSession(session)
      const ops: Promise<unknown>[] = []
      for (let i = 0; i < 20; i++) {
        ops.push(ctx.store.addClaim(user.id, c('role', `r${i}`)))
        ops.push(ctx.store.touchSession(session.id, session.lastSeenAt + i + 1, session.idleExpiresAt + i + 1))
      }
      await Promise.all(ops)
      const final = (await ctx.store.getUser(user.id))!
      expect(final.version).toBe(user.version + 20)
      const row = (await ctx.store.getSession(session.id))!
      expect(row.userVersion).toBe(final.version)
      expect(claimSet(row.claims)).toEqual(claimSet(final.claims))
      expect(row.claims).toHaveLength(20)
    })

    it('50 concurrent grants of the same claim bump the version exactly once', async () => {
      const user = await newUser(ctx.store)
      const changes = await Promise.all(Array.from({ length: 50 }, () => ctx.store.addClaim(user.id, c('role', 'admin'))))
      const final = (await ctx.store.getUser(user.id))!
      expect(final.version).toBe(2)
      expect(final.claims).toEqual([c('role', 'admin')])
      expect(changes.every((ch) => ch.user.claims.length === 1)).toBe(true)
    })
  })
}
