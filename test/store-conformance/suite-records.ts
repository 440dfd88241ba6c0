import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { AuthorizationCodeRecord, RefreshTokenRecord, SigningKeyRecord } from '../../packages/server/src/lib/store/auth-store.js'
import { c, expectCode, newUser, sessionFor, singleUseTests, type StoreContext } from './harness.js'

/** Identities, sessions, keys, tokens, failures, audit, secrets and lifecycle. */
export function recordSuites(ctx: StoreContext): void {

  describe('identities', () => {
    it('links (issuer, subject) to a user and finds it', async () => {
      const user = await newUser(ctx.store)
      await ctx.store.linkIdentity('https://idp.example', 'sub-1', user.id)
      expect(await ctx.store.findIdentity('https://idp.example', 'sub-1')).toBe(user.id)
      expect(await ctx.store.findIdentity('https://idp.example', 'sub-2')).toBeNull()
      expect(await ctx.store.findIdentity('https://other.example', 'sub-1')).toBeNull()
    })

    it('linking again to the same user is a no-op; to another user ERR_STORE_CONFLICT (409)', async () => {
      const a = await newUser(ctx.store)
      const b = await newUser(ctx.store)
      await ctx.store.linkIdentity('https://idp.example', 'sub-1', a.id)
      await ctx.store.linkIdentity('https://idp.example', 'sub-1', a.id)
      await expectCode(ctx.store.linkIdentity('https://idp.example', 'sub-1', b.id), 'ERR_STORE_CONFLICT', 409)
      expect(await ctx.store.findIdentity('https://idp.example', 'sub-1')).toBe(a.id)
    })

    it('linking to an unknown user throws ERR_USER_NOT_FOUND', async () => {
      await expectCode(ctx.store.linkIdentity('https://idp.example', 'sub-1', 'no-such-id'), 'ERR_USER_NOT_FOUND', 404)
      expect(await ctx.store.findIdentity('https://idp.example', 'sub-1')).toBeNull()
    })

    it('listIdentities gives a user\'s own identities, oldest first, and nobody else\'s', async () => {
      const a = await newUser(ctx.store)
      const b = await newUser(ctx.store)
      expect(await ctx.store.listIdentities(a.id)).toEqual([])
      const before = Date.now()
      await ctx.store.linkIdentity('https://idp.example', 'sub-a', a.id)
      await ctx.store.linkIdentity('https://idp.example', 'sub-b', b.id)
      await ctx.store.linkIdentity('https://other.example', 'sub-a2', a.id)
      const listed = await ctx.store.listIdentities(a.id)
      expect(listed.map(({ issuer, subject, userId }) => ({ issuer, subject, userId }))).toEqual([
        { issuer: 'https://idp.example', subject: 'sub-a', userId: a.id },
        { issuer: 'https://other.example', subject: 'sub-a2', userId: a.id },
      ])
      for (const identity of listed) expect(identity.createdAt).toBeGreaterThanOrEqual(before)
      expect(listed[0]!.createdAt).toBeLessThanOrEqual(listed[1]!.createdAt)
      expect((await ctx.store.listIdentities(b.id)).map((i) => i.subject)).toEqual(['sub-b'])
      expect(await ctx.store.listIdentities('no-such-id')).toEqual([])
    })

  })

  describe('sessions', () => {
    it('create / get round-trips every field', async () => {
      const user = await newUser(ctx.store, [c('role', 'a')])
      const session = sessionFor(user, { ip: null, userAgent: null })
      await ctx.store.createSession(session)
      expect(await ctx.store.getSession(session.id)).toEqual(session)
      expect(await ctx.store.getSession('missing')).toBeNull()
    })

    it('the provider payload of an OpenID sign-in round-trips, URL-named and nested claims included', async () => {
      const user = await newUser(ctx.store)
      const provider = { name: 'demo', issuer: 'https://op.example', subject: 's-1', claims: { sub: 's-1', 'https://example.com/roles': ['a', 'b'], address: { country: 'FR' }, $weird: 1, 'a.b': true } }
      const session = { ...sessionFor(user), provider }
      await ctx.store.createSession(session)
      expect((await ctx.store.getSession(session.id))?.provider).toEqual(provider)
      expect((await ctx.store.listSessions(user.id))[0]?.provider).toEqual(provider)
    })

    it('a session of an unknown user is refused with ERR_USER_NOT_FOUND', async () => {
      const user = await newUser(ctx.store)
      await expectCode(ctx.store.createSession(sessionFor({ ...user, id: 'no-such-id' })), 'ERR_USER_NOT_FOUND', 404)
    })

    it('a session of a disabled user is refused with ERR_USER_DISABLED where it is created (C4: sign-in racing "disable user")', async () => {
      const user = await newUser(ctx.store)
      // The sign-in read the user before the disable committed: its snapshot says enabled.
      const session = sessionFor(user)
      await ctx.store.updateUser(user.id, { disabled: true })
      await expectCode(ctx.store.createSession(session), 'ERR_USER_DISABLED', 403)
      expect(await ctx.store.getSession(session.id)).toBeNull()
      expect(await ctx.store.listSessions(user.id)).toEqual([])
    })

    it('touchSession updates lastSeenAt / idleExpiresAt and never creates a row', async () => {
      const user = await newUser(ctx.store)
      const session = sessionFor(user)
      await ctx.store.createSession(session)
      await ctx.store.touchSession(session.id, session.lastSeenAt + 5000, session.idleExpiresAt + 5000)
      expect(await ctx.store.getSession(session.id)).toEqual({ ...session, lastSeenAt: session.lastSeenAt + 5000, idleExpiresAt: session.idleExpiresAt + 5000 })
      await ctx.store.touchSession('missing', 1, 2)
      expect(await ctx.store.getSession('missing')).toBeNull()
    })

    it('deleteSession returns true once, then false', async () => {
      const user = await newUser(ctx.store)
      const session = sessionFor(user)
      await ctx.store.createSession(session)
      expect(await ctx.store.deleteSession(session.id)).toBe(true)
      expect(await ctx.store.deleteSession(session.id)).toBe(false)
      expect(await ctx.store.getSession(session.id)).toBeNull()
    })

    it('listSessions / deleteUserSessions only touch that user', async () => {
      const a = await newUser(ctx.store)
      const b = await newUser(ctx.store)
      const mine = [sessionFor(a), sessionFor(a), sessionFor(a)]
      const theirs = sessionFor(b)
      for (const s of [...mine, theirs]) await ctx.store.createSession(s)
      expect((await ctx.store.listSessions(a.id)).map((s) => s.id).sort()).toEqual(mine.map((s) => s.id).sort())
      expect(await ctx.store.listSessions(b.id)).toEqual([theirs])
      expect((await ctx.store.deleteUserSessions(a.id)).sort()).toEqual(mine.map((s) => s.id).sort())
      expect(await ctx.store.listSessions(a.id)).toEqual([])
      expect(await ctx.store.deleteUserSessions(a.id)).toEqual([])
      expect(await ctx.store.getSession(theirs.id)).toEqual(theirs)
    })

    it('deleteExpiredSessions removes idle- and absolutely-expired rows and counts them', async () => {
      const user = await newUser(ctx.store)
      const now = Date.now()
      const live = sessionFor(user)
      const idle = sessionFor(user, { idleExpiresAt: now - 1 })
      const absolute = sessionFor(user, { absoluteExpiresAt: now - 1 })
      for (const s of [live, idle, absolute]) await ctx.store.createSession(s)
      expect(await ctx.store.deleteExpiredSessions(now)).toBe(2)
      expect((await ctx.store.listSessions(user.id)).map((s) => s.id)).toEqual([live.id])
      expect(await ctx.store.deleteExpiredSessions(now)).toBe(0)
    })
  })

  describe('signing keys', () => {
    const key = (kid: string, createdAt: number, tag = 'first'): SigningKeyRecord => ({
      kid,
      alg: 'EdDSA',
      privateJwk: { kty: 'OKP', crv: 'Ed25519', x: `x-${tag}`, d: `d-${tag}` },
      publicJwk: { kty: 'OKP', crv: 'Ed25519', x: `x-${tag}` },
      createdAt,
    })

    it('putSigningKey is idempotent by kid; listSigningKeys returns every key', async () => {
      const now = Date.now()
      expect(await ctx.store.listSigningKeys()).toEqual([])
      await ctx.store.putSigningKey(key('k1', now))
      await ctx.store.putSigningKey(key('k1', now + 1, 'second'))
      await ctx.store.putSigningKey(key('k2', now + 2))
      const keys = await ctx.store.listSigningKeys()
      expect(keys.map((k) => k.kid).sort()).toEqual(['k1', 'k2'])
      expect(keys.find((k) => k.kid === 'k1')).toEqual(key('k1', now))
      keys[0]!.privateJwk.d = 'tampered'
      expect((await ctx.store.listSigningKeys()).find((k) => k.kid === keys[0]!.kid)!.privateJwk.d).not.toBe('tampered')
    })
  })

  describe('refresh tokens', () => {
    const token = (userId: string, familyId = randomUUID()): RefreshTokenRecord => {
      const now = Date.now()
      return { id: randomUUID(), familyId, userId, createdAt: now, expiresAt: now + 86_400_000, usedAt: null, revokedAt: null, familyExpiresAt: now + 7 * 86_400_000 }
    }

    it('a row without familyExpiresAt reads back with null', async () => {
      const user = await newUser(ctx.store)
      const { familyExpiresAt: _, ...t } = token(user.id)
      await ctx.store.createRefreshToken(t)
      expect((await ctx.store.getRefreshToken(t.id))!.familyExpiresAt).toBeNull()
    })

    it('create / get round-trips; unknown ids give null', async () => {
      const user = await newUser(ctx.store)
      const t = token(user.id)
      await ctx.store.createRefreshToken(t)
      expect(await ctx.store.getRefreshToken(t.id)).toEqual(t)
      expect(await ctx.store.getRefreshToken('missing')).toBeNull()
    })

    it('useRefreshToken succeeds once, then reports reuse', async () => {
      const user = await newUser(ctx.store)
      const t = token(user.id)
      await ctx.store.createRefreshToken(t)
      const at = Date.now()
      expect(await ctx.store.useRefreshToken(t.id, at)).toBe(true)
      expect(await ctx.store.useRefreshToken(t.id, at + 1)).toBe(false)
      expect((await ctx.store.getRefreshToken(t.id))!.usedAt).toBe(at)
      expect(await ctx.store.useRefreshToken('missing', at)).toBe(false)
    })

    it('20 concurrent uses of one token: exactly one wins', async () => {
      const user = await newUser(ctx.store)
      const t = token(user.id)
      await ctx.store.createRefreshToken(t)
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => ctx.store.useRefreshToken(t.id, Date.now() + i)))
      expect(results.filter(Boolean)).toHaveLength(1)
    })

    it('revokeRefreshFamily revokes every token of the family only', async () => {
      const user = await newUser(ctx.store)
      const family = randomUUID()
      const [a, b, other] = [token(user.id, family), token(user.id, family), token(user.id)]
      for (const t of [a, b, other]) await ctx.store.createRefreshToken(t)
      const at = Date.now()
      await ctx.store.revokeRefreshFamily(family, at)
      expect((await ctx.store.getRefreshToken(a.id))!.revokedAt).toBe(at)
      expect(await ctx.store.useRefreshToken(b.id, at)).toBe(false)
      expect((await ctx.store.getRefreshToken(other.id))!.revokedAt).toBeNull()
      await ctx.store.revokeRefreshFamily(family, at + 10)
      expect((await ctx.store.getRefreshToken(a.id))!.revokedAt).toBe(at)
    })

    it('revokeUserRefreshTokens revokes that user\'s tokens only', async () => {
      const a = await newUser(ctx.store)
      const b = await newUser(ctx.store)
      const [ta1, ta2, tb] = [token(a.id), token(a.id), token(b.id)]
      for (const t of [ta1, ta2, tb]) await ctx.store.createRefreshToken(t)
      const at = Date.now()
      await ctx.store.revokeUserRefreshTokens(a.id, at)
      expect(await ctx.store.useRefreshToken(ta1.id, at)).toBe(false)
      expect((await ctx.store.getRefreshToken(ta2.id))!.revokedAt).toBe(at)
      expect(await ctx.store.useRefreshToken(tb.id, at)).toBe(true)
    })

    it('a duplicate token id throws ERR_STORE_CONFLICT', async () => {
      const user = await newUser(ctx.store)
      const t = token(user.id)
      await ctx.store.createRefreshToken(t)
      await expectCode(ctx.store.createRefreshToken({ ...t, familyId: randomUUID() }), 'ERR_STORE_CONFLICT', 409)
    })
  })

  describe('authorization codes', () => {
    const code = (userId: string, at = Date.now()): AuthorizationCodeRecord => ({
      id: randomUUID(),
      clientId: 'page',
      redirectUri: 'https://app.example/cb',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      userId,
      scope: 'openid',
      nonce: null,
      createdAt: at,
      expiresAt: at + 60_000,
      usedAt: null,
    })

    it('create / consume round-trips every field; unknown codes give null', async () => {
      const user = await newUser(ctx.store)
      const ac = { ...code(user.id), nonce: 'n-1' }
      await ctx.store.createAuthorizationCode(ac)
      expect(await ctx.store.consumeAuthorizationCode(ac.id, ac.createdAt + 5)).toEqual({ record: ac, firstUse: true })
      expect(await ctx.store.consumeAuthorizationCode('missing', ac.createdAt)).toBeNull()
    })

    singleUseTests(ctx, {
      noun: 'code',
      uses: 'exchanges',
      make: (userId) => code(userId),
      create: (ac) => ctx.store.createAuthorizationCode(ac),
      consume: (id, at) => ctx.store.consumeAuthorizationCode(id, at),
    })

    it('a code of an unknown user is refused; a duplicate id is ERR_STORE_CONFLICT; expired codes are swept', async () => {
      const user = await newUser(ctx.store)
      await expect(ctx.store.createAuthorizationCode(code('no-such-user'))).rejects.toMatchObject({ code: 'ERR_USER_NOT_FOUND' })
      const ac = code(user.id, Date.now() - 120_000)
      await ctx.store.createAuthorizationCode(ac)
      await expectCode(ctx.store.createAuthorizationCode(ac), 'ERR_STORE_CONFLICT', 409)
      await ctx.store.deleteExpiredSessions(Date.now())
      expect(await ctx.store.consumeAuthorizationCode(ac.id, Date.now())).toBeNull()
    })
  })

  describe('access-token denylist', () => {
    it('revoked jtis are reported, others are not; revoking twice is fine', async () => {
      const now = Date.now()
      await ctx.store.revokeAccessToken('jti-1', now + 60_000)
      await ctx.store.revokeAccessToken('jti-1', now + 60_000)
      expect(await ctx.store.isAccessTokenRevoked('jti-1')).toBe(true)
      expect(await ctx.store.isAccessTokenRevoked('jti-2')).toBe(false)
    })
  })

  describe('failures', () => {
    it('recordFailure counts inside the sliding window, per key', async () => {
      const t0 = Date.now()
      const window = 60_000
      expect(await ctx.store.recordFailure('acct:a', t0, window)).toBe(1)
      expect(await ctx.store.recordFailure('acct:a', t0 + 1000, window)).toBe(2)
      expect(await ctx.store.recordFailure('acct:b', t0 + 1000, window)).toBe(1)
      expect(await ctx.store.recordFailure('acct:a', t0 + 2000, window)).toBe(3)
      expect(await ctx.store.countFailures('acct:a', t0)).toBe(3)
      expect(await ctx.store.countFailures('acct:a', t0 + 1500)).toBe(1)
      // t0 and t0 + 1000 have left the window.
      expect(await ctx.store.recordFailure('acct:a', t0 + window + 1500, window)).toBe(2)
    })

    it('releaseFailure takes back exactly one failure of that key and time (login throttle reservations)', async () => {
      const t0 = Date.now()
      await ctx.store.recordFailure('acct:r', t0, 60_000)
      await ctx.store.recordFailure('acct:r', t0, 60_000)
      await ctx.store.recordFailure('acct:r', t0 + 1, 60_000)
      await ctx.store.recordFailure('acct:s', t0, 60_000)
      await ctx.store.releaseFailure('acct:r', t0)
      expect(await ctx.store.countFailures('acct:r', t0 - 1)).toBe(2)
      await ctx.store.releaseFailure('acct:r', t0 + 5)
      expect(await ctx.store.countFailures('acct:r', t0 - 1)).toBe(2)
      await ctx.store.releaseFailure('acct:r', t0)
      await ctx.store.releaseFailure('acct:r', t0)
      expect(await ctx.store.countFailures('acct:r', t0 - 1)).toBe(1)
      expect(await ctx.store.countFailures('acct:s', t0 - 1)).toBe(1)
    })

    it('clearFailures resets one key', async () => {
      const t0 = Date.now()
      await ctx.store.recordFailure('acct:a', t0, 60_000)
      await ctx.store.recordFailure('acct:b', t0, 60_000)
      await ctx.store.clearFailures('acct:a')
      expect(await ctx.store.countFailures('acct:a', t0 - 1)).toBe(0)
      expect(await ctx.store.countFailures('acct:b', t0 - 1)).toBe(1)
      expect(await ctx.store.recordFailure('acct:a', t0 + 1, 60_000)).toBe(1)
    })
  })

  describe('audit', () => {
    it('appends and lists newest first, filtered by user (actor or target) and action, with a limit', async () => {
      const t0 = Date.now()
      const rows = [
        { at: t0, action: 'login.success', actorId: 'u1', targetId: 'u1', detail: { method: 'local' }, ip: '203.0.113.1' },
        { at: t0 + 1, action: 'claim.grant', actorId: 'admin', targetId: 'u1', detail: { type: 'role', value: 'x' }, ip: null },
        { at: t0 + 2, action: 'claim.grant', actorId: 'admin', targetId: 'u2', detail: {}, ip: null },
        { at: t0 + 3, action: 'login.failure', actorId: null, targetId: null, detail: { reason: 'unknown' }, ip: '203.0.113.2' },
      ]
      for (const r of rows) await ctx.store.appendAudit(r)
      const all = await ctx.store.listAudit()
      expect(all.map((r) => r.at)).toEqual([t0 + 3, t0 + 2, t0 + 1, t0])
      expect(all[3]).toMatchObject(rows[0]!)
      expect(typeof all[0]!.id).toBe('string')
      expect((await ctx.store.listAudit({ userId: 'u1' })).map((r) => r.at)).toEqual([t0 + 1, t0])
      expect((await ctx.store.listAudit({ userId: 'admin' })).map((r) => r.at)).toEqual([t0 + 2, t0 + 1])
      expect((await ctx.store.listAudit({ action: 'claim.grant' })).map((r) => r.targetId)).toEqual(['u2', 'u1'])
      expect((await ctx.store.listAudit({ action: 'claim.grant', userId: 'u2' })).map((r) => r.at)).toEqual([t0 + 2])
      expect((await ctx.store.listAudit({ limit: 2 })).map((r) => r.at)).toEqual([t0 + 3, t0 + 2])
    })

    it('records the audit given to addClaim / removeClaim with the change, and none for a missing user', async () => {
      const user = await ctx.store.createUser({ email: 'audited@example.com', name: 'A' })
      const at = Date.now()
      const grant = { at, action: 'claim.grant', actorId: 'admin', targetId: user.id, detail: { type: 'plan', value: 'pro' }, ip: '203.0.113.9' }
      const added = await ctx.store.addClaim(user.id, { type: 'plan', value: 'pro' }, grant)
      expect(added.auditError).toBeUndefined()
      expect(added.user.claims).toEqual([{ type: 'plan', value: 'pro' }])
      const revoke = { at: at + 1, action: 'claim.revoke', actorId: null, targetId: user.id, detail: { type: 'plan' }, ip: null }
      const removed = await ctx.store.removeClaim(user.id, 'plan', undefined, revoke)
      expect(removed.user.claims).toEqual([])
      expect(await ctx.store.listAudit({ userId: user.id })).toEqual([
        expect.objectContaining(revoke),
        expect.objectContaining(grant),
      ])
      await expect(ctx.store.addClaim('no-such-user', { type: 'plan', value: 'pro' }, { ...grant, targetId: 'no-such-user' })).rejects.toMatchObject({ code: 'ERR_USER_NOT_FOUND' })
      await expect(ctx.store.removeClaim('no-such-user', 'plan', undefined, { ...revoke, targetId: 'no-such-user' })).rejects.toMatchObject({ code: 'ERR_USER_NOT_FOUND' })
      expect(await ctx.store.listAudit({ userId: 'no-such-user' })).toEqual([])
    })
  })

  describe('secrets', () => {
    it('getSecret stores the first generated value and returns it forever', async () => {
      let calls = 0
      const gen = () => `secret-${++calls}`
      const first = await ctx.store.getSecret('cookie-signing', gen)
      expect(first).toBe('secret-1')
      expect(await ctx.store.getSecret('cookie-signing', gen)).toBe('secret-1')
      expect(calls).toBe(1)
      expect(await ctx.store.getSecret('other', () => 'x')).toBe('x')
    })

    it('racing first calls converge on one value', async () => {
      let n = 0
      const values = await Promise.all(Array.from({ length: 10 }, () => ctx.store.getSecret('race', () => `v${n++}`)))
      expect(new Set(values).size).toBe(1)
    })
  })

  describe('lifecycle', () => {
    it('ping resolves and init is idempotent', async () => {
      await ctx.store.ping()
      await ctx.store.init()
      await ctx.store.ping()
    })

    it('calls after close() throw ERR_STORE_UNAVAILABLE (503)', async () => {
      await ctx.store.close()
      await expectCode(ctx.store.ping(), 'ERR_STORE_UNAVAILABLE', 503)
      await expectCode(ctx.store.getUser('x'), 'ERR_STORE_UNAVAILABLE', 503)
    })

    it('everything persists across close and reopen', async (testCtx) => {
      if (ctx.harness.reopen === undefined) {
        testCtx.skip()
        return
      }
      const user = await newUser(ctx.store, [c('role', 'a')])
      const changed = await ctx.store.addClaim(user.id, c('role', 'b'))
      const session = sessionFor(changed.user)
      await ctx.store.createSession(session)
      await ctx.store.linkIdentity('https://idp.example', 'sub', user.id)
      const now = Date.now()
      await ctx.store.putSigningKey({ kid: 'k', alg: 'ES256', privateJwk: { d: 'd' }, publicJwk: { x: 'x' }, createdAt: now })
      await ctx.store.createRefreshToken({ id: 'rt', familyId: 'f', userId: user.id, createdAt: now, expiresAt: now + 60_000, usedAt: null, revokedAt: null })
      await ctx.store.revokeAccessToken('jti', now + 60_000)
      await ctx.store.recordFailure('k', now, 60_000)
      await ctx.store.appendAudit({ at: now, action: 'claim.grant', actorId: null, targetId: user.id, detail: {}, ip: null })
      const secret = await ctx.store.getSecret('s', () => 'kept')
      await ctx.store.close()

      const again = await ctx.harness.reopen()
      await again.init()
      expect(await again.getUser(user.id)).toEqual(changed.user)
      expect(await again.getSession(session.id)).toEqual(session)
      expect(await again.findIdentity('https://idp.example', 'sub')).toBe(user.id)
      expect((await again.listSigningKeys()).map((k) => k.kid)).toEqual(['k'])
      expect(await again.useRefreshToken('rt', now)).toBe(true)
      expect(await again.isAccessTokenRevoked('jti')).toBe(true)
      expect(await again.countFailures('k', now)).toBe(1)
      expect(await again.listAudit({ userId: user.id })).toHaveLength(1)
      expect(await again.getSecret('s', () => 'new')).toBe(secret)
    })
  })
}
