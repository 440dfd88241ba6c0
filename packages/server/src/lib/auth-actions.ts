import { CLAIM_RULES, createPrincipal, isClaimType, type ClaimsPrincipal } from '@wire-auth/core'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { ALL_USERS, type AuthChannel, type AuthEvent } from './channel/auth-channel.js'
import { checkEvent } from './channel/event-check.js'
import type { AuthContext } from './context.js'
import { hasControlChars } from './control-chars.js'
import { codedError, InvalidClaim, Unauthenticated, UserDisabled, UserNotFound } from './errors.js'
import type { AuditRecord, ClaimChange, SessionRecord, UserRecord } from './store/auth-store.js'
import { principalOf, sessionIdOf, setPrincipal } from './request-state.js'
import { isWellFormed } from './well-formed.js'

function checkClaim(type: unknown, value: unknown, valueRequired: boolean): void {
  // The claim rules are core's (CLAIM_RULES): a grantable type, a bounded value.
  if (!isClaimType(type)) {
    throw new InvalidClaim('claim type must be 1-128 characters of [A-Za-z0-9_.:/-]')
  }
  if (value === undefined && !valueRequired) return
  // Control characters are refused (checklist 30): claim values reach terminals, logs and attributes.
  if (typeof value !== 'string' || value.length > CLAIM_RULES.maxGrantedValue || !isWellFormed(value) || hasControlChars(value)) {
    throw new InvalidClaim(`claim value must be a well-formed string of at most ${CLAIM_RULES.maxGrantedValue} characters, without control characters`)
  }
}

function userIdOf(user: ClaimsPrincipal | string): string {
  const id = typeof user === 'string' ? user : user.userId
  if (typeof id !== 'string' || id.length === 0) throw new Unauthenticated('the principal is anonymous')
  return id
}

/**
 * Changes to users that take effect everywhere at once: each writes the user
 * row and the snapshot of every session of that user in one store operation,
 * then publishes one event on the channel so every open socket of that user,
 * on every worker, re-renders. Decorated as `app.auth`.
 *
 * @example
 * ```ts
 * app.post('/beta/join', async (request) => {
 *   await app.auth.grant(request.user, request, 'role', 'beta')
 *   return { ok: true }
 * })
 * ```
 */
export interface AuthActions {
  /**
   * Signs a user in on this request with a fresh session id (for a site's own
   * login flow; the local IdP and OIDC providers use it too).
   * @throws `ERR_USER_NOT_FOUND`, `ERR_USER_DISABLED`
   */
  signIn(request: FastifyRequest, reply: FastifyReply, user: UserRecord | string): Promise<SessionRecord>
  /** Ends the request's session, clears the cookie, and turns its sockets anonymous. */
  signOut(request: FastifyRequest, reply: FastifyReply): Promise<void>
  /**
   * Grants a claim to `user` (usually `request.user`). Returns the updated
   * principal; when `user` is the request's own user, `request.user` follows.
   * @throws `ERR_INVALID_CLAIM`, `ERR_UNAUTHENTICATED` (anonymous), `ERR_USER_NOT_FOUND`, `ERR_STORE_UNAVAILABLE`
   */
  grant(user: ClaimsPrincipal, request: FastifyRequest | null, type: string, value: string): Promise<ClaimsPrincipal>
  /** Revokes the claims of `type` (only `value` when given). Same rules as {@link AuthActions.grant}. */
  revokeClaim(user: ClaimsPrincipal, request: FastifyRequest | null, type: string, value?: string): Promise<ClaimsPrincipal>
  /** Ends the request's own session everywhere (its sockets turn anonymous). */
  revokeSession(user: ClaimsPrincipal, request: FastifyRequest): Promise<void>
  /** Admin form of grant: targets a user id. Returns the user row. */
  grantTo(userId: string, type: string, value: string, request?: FastifyRequest | null): Promise<UserRecord>
  /** Admin form of revokeClaim. */
  revokeFrom(userId: string, type: string, value?: string, request?: FastifyRequest | null): Promise<UserRecord>
  /** Ends every session of the user (“sign out everywhere”). Returns how many. */
  revokeAllSessions(userId: string, request?: FastifyRequest | null): Promise<number>
  /** Ends one session of the user by its id; false when it was not theirs or gone. */
  revokeSessionById(userId: string, sessionId: string, request?: FastifyRequest | null): Promise<boolean>
  /** Disables (or re-enables) a user; disabling signs them out everywhere. */
  setDisabled(userId: string, disabled: boolean, request?: FastifyRequest | null): Promise<UserRecord>
  /** The sessions of a user, newest first. */
  listSessions(userId: string): Promise<SessionRecord[]>
  /**
   * Data that policies, `load` or `render` read has changed (a document's
   * access list, a price…): every worker re-evaluates the mounted regions
   * that match and sends each socket only what changed. Filters combine
   * (all given must match); none means every mounted region.
   * Claims and sessions need no call: `grant`, `revokeClaim`… refresh by themselves.
   * @throws `ERR_VALIDATION` for a malformed filter.
   * @example
   * ```ts
   * await saveAccessList(docId, readers)
   * await app.auth.refresh({ fragment: 'document', params: { docId } })
   * ```
   */
  refresh(filter?: RefreshFilter): Promise<void>
}

/** Which mounted regions {@link AuthActions.refresh} re-evaluates. */
export interface RefreshFilter {
  /** Regions of this fragment (a name given to `app.fragment`). */
  fragment?: string
  /** Regions whose fragment's guard or element `policy` names this policy (in-place regions of pages included). */
  policy?: string
  /** Regions whose params hold these values (each key compared as JSON; in-place regions: the params written in the page). */
  params?: Record<string, unknown>
  /** Only the sockets of this user (default: every socket, anonymous ones included). */
  userId?: string
}

/** @internal */
export function createAuthActions(ctx: Pick<AuthContext, 'store' | 'channel' | 'audit' | 'log' | 'sessions'>): AuthActions {
  const { store, channel } = ctx

  async function publish(event: AuthEvent): Promise<void> {
    try {
      await channel.publish(event)
    } catch (err) {
      // The write is committed; a failed fan-out is healed by the channel's resync.
      ctx.log.warn({ code: 'ERR_CHANNEL_UNAVAILABLE', err }, 'auth event not published')
    }
  }

  /** The audit record of a claim change, written by the store with the change itself. */
  function claimAudit(userId: string, request: FastifyRequest | null | undefined, action: string, detail: Record<string, unknown>): AuditRecord {
    return { at: Date.now(), action, actorId: request ? principalOf(request).userId : null, targetId: userId, detail, ip: request?.ip ?? null }
  }

  async function claimChanged(change: ClaimChange, action: string): Promise<UserRecord> {
    if (change.auditError !== undefined) ctx.log.warn({ code: 'ERR_STORE_UNAVAILABLE', action, err: change.auditError }, 'audit record not written')
    await publish({ type: 'claims-changed', userId: change.user.id, version: change.user.version })
    return change.user
  }

  function principalFrom(user: UserRecord, previous: ClaimsPrincipal, request: FastifyRequest | null): ClaimsPrincipal {
    const next = createPrincipal({ userId: user.id, name: user.name, claims: user.claims, raw: { ...previous.raw, userVersion: user.version } })
    if (request !== null && principalOf(request).userId === user.id) setPrincipal(request, next)
    return next
  }

  async function revokeSessions(userId: string, ids: string[], all: boolean, request: FastifyRequest | null | undefined, action = 'session.revoke', actorId = request ? principalOf(request).userId : null): Promise<void> {
    const user = await store.getUser(userId)
    await publish({ type: 'sessions-revoked', userId, version: user?.version ?? 0, sessionIds: ids, all })
    await ctx.audit(request ?? null, { action, actorId, targetId: userId, detail: { count: ids.length, all } })
  }

  const REFRESH_KEYS = new Set(['fragment', 'policy', 'params', 'userId'])

  const actions: AuthActions = {
    async refresh(filter = {}) {
      if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) throw codedError('ERR_VALIDATION', 'refresh() takes a filter object')
      for (const key of Object.keys(filter)) {
        if (!REFRESH_KEYS.has(key)) throw codedError('ERR_VALIDATION', `refresh(): unknown filter "${key.slice(0, 64)}"`)
      }
      const { fragment, policy, params, userId } = filter
      if (userId !== undefined && (typeof userId !== 'string' || userId === '' || userId === ALL_USERS)) {
        throw codedError('ERR_VALIDATION', 'refresh(): "userId" must be a user id')
      }
      const checked = checkEvent({ type: 'data-changed', userId: userId ?? ALL_USERS, version: 0, fragment, policy, params })
      if (!checked.ok) throw codedError('ERR_VALIDATION', `refresh(): ${checked.reason}`)
      await publish(checked.event)
    },

    async signIn(request, reply, userOrId) {
      const user = typeof userOrId === 'string' ? await store.getUser(userOrId) : userOrId
      if (user === null) throw new UserNotFound()
      if (user.disabled) throw new UserDisabled()
      return ctx.sessions.start(request, reply, user)
    },

    async signOut(request, reply) {
      const user = principalOf(request)
      const sessionId = sessionIdOf(request)
      await ctx.sessions.destroy(request, reply)
      if (user?.isAuthenticated && user.userId !== null && sessionId !== null) {
        // destroy() made request.user anonymous: the actor is who was signed in.
        await revokeSessions(user.userId, [sessionId], false, request, 'logout', user.userId)
      }
    },

    async grant(user, request, type, value) {
      checkClaim(type, value, true)
      const updated = await actions.grantTo(userIdOf(user), type, value, request)
      return principalFrom(updated, user, request)
    },

    async revokeClaim(user, request, type, value) {
      checkClaim(type, value, false)
      const updated = await actions.revokeFrom(userIdOf(user), type, value, request)
      return principalFrom(updated, user, request)
    },

    async revokeSession(user, request) {
      const userId = userIdOf(user)
      const sessionId = sessionIdOf(request)
      if (!sessionId) return
      const deleted = await store.deleteSession(sessionId)
      if (deleted) await revokeSessions(userId, [sessionId], false, request)
    },

    async grantTo(userId, type, value, request) {
      checkClaim(type, value, true)
      const id = userIdOf(userId)
      const change = await store.addClaim(id, { type, value }, claimAudit(id, request, 'claim.grant', { type, value }))
      return claimChanged(change, 'claim.grant')
    },

    async revokeFrom(userId, type, value, request) {
      checkClaim(type, value, false)
      const id = userIdOf(userId)
      const change = await store.removeClaim(id, type, value, claimAudit(id, request, 'claim.revoke', value === undefined ? { type } : { type, value }))
      return claimChanged(change, 'claim.revoke')
    },

    async revokeAllSessions(userId, request) {
      // Refresh tokens first, then the version bump that cuts off access tokens
      // issued until now. The other order lets a refresh in flight read the
      // bumped version and mint an access token that survives (C5); in this
      // order a refresh either read the old version (its token is cut off by
      // the bump) or finds its token revoked when it checks its successor.
      await store.revokeUserRefreshTokens(userIdOf(userId), Date.now())
      await store.updateUser(userIdOf(userId), { revokeAccessTokens: true })
      const ids = await store.deleteUserSessions(userId)
      await revokeSessions(userId, ids, true, request)
      return ids.length
    },

    async revokeSessionById(userId, sessionId, request) {
      const session = await store.getSession(sessionId)
      if (session === null || session.userId !== userId) return false
      const deleted = await store.deleteSession(sessionId)
      if (deleted) await revokeSessions(userId, [sessionId], false, request)
      return deleted
    },

    async setDisabled(userId, disabled, request) {
      const user = await store.updateUser(userIdOf(userId), { disabled })
      if (disabled) {
        const ids = await store.deleteUserSessions(userId)
        await store.revokeUserRefreshTokens(userId, Date.now())
        await publish({ type: 'sessions-revoked', userId, version: user.version, sessionIds: ids, all: true })
      } else {
        await publish({ type: 'claims-changed', userId, version: user.version })
      }
      await ctx.audit(request ?? null, { action: disabled ? 'user.disable' : 'user.enable', actorId: request ? principalOf(request).userId : null, targetId: userId, detail: {} })
      return user
    },

    async listSessions(userId) {
      const sessions = await store.listSessions(userIdOf(userId))
      return sessions.sort((a, b) => b.createdAt - a.createdAt)
    },
  }
  return actions
}

