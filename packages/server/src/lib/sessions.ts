import { createHash, randomBytes } from 'node:crypto'
// The cookie codec itself, not @fastify/cookie's parse/serialize: those work only once that
// copy of @fastify/cookie was registered, and a host may register another copy (regression).
import { parseCookie, stringifySetCookie } from 'cookie'
import { ANONYMOUS, createPrincipal, deepFreeze, type ClaimsPrincipal } from '@wire-auth/core'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ResolvedOptions } from './options.js'
import { sessionIdOf, setPrincipal, setSessionId } from './request-state.js'
import type { AuthStore, SessionProvider, SessionRecord, UserRecord } from './store/auth-store.js'

const parseCookies = (header: string) => parseCookie(header)
const serializeCookie = (name: string, value: string, attributes: Omit<Parameters<typeof stringifySetCookie>[0], 'name' | 'value'>) => stringifySetCookie({ name, value, ...attributes })

/** Result of resolving a session id. */
export interface ResolvedSession {
  session: SessionRecord
  principal: ClaimsPrincipal
}

/**
 * Sessions: rows in the store, opaque id in an HttpOnly cookie.
 * @internal
 */
export interface SessionManager {
  /**
   * Signs `user` in: destroys the request's current session (if any),
   * creates a fresh row with a new random id, sets the cookie, and sets
   * `request.user` / `request.sessionId`. `provider`: the OpenID payload of
   * this sign-in, kept with the session (`principal.raw.provider`).
   */
  start(request: FastifyRequest, reply: FastifyReply, user: UserRecord, provider?: SessionProvider): Promise<SessionRecord>
  /** Deletes the request's session and clears the cookie. */
  destroy(request: FastifyRequest, reply: FastifyReply): Promise<void>
  /**
   * Resolves a session hash to a principal, enforcing idle and absolute
   * expiry (expired rows are deleted). Null when missing / expired.
   */
  load(sessionHash: string, now?: number): Promise<ResolvedSession | null>
  /** SHA-256 hex of a raw cookie session id. */
  hash(rawId: string): string
  /** The raw session id in the request's Cookie header when it has the shape of one, else null. */
  readRawId(request: FastifyRequest): string | null
  /** Renews the idle expiry once `touchIntervalMs` has passed since the last renewal; never brings a deleted row back. */
  touchIfDue(resolved: ResolvedSession, now: number): Promise<void>
  /** The session cookie name in use. */
  readonly cookieName: string
}

/** What {@link createSessionManager} needs. @internal */
export interface SessionManagerDeps {
  store: AuthStore
  options: ResolvedOptions
  /** Clock, for expiry tests. Default `Date.now`. */
  now?: () => number
  /**
   * Told when `start` replaced a live session of the same browser (signing in
   * again), after its row was deleted: the plugin publishes the revocation so
   * that sockets opened with it go anonymous at once (issue 13 F7). Must not
   * throw.
   */
  onReplaced?: (userId: string, sessionHash: string, userVersion: number) => Promise<void>
}

/** SHA-256 hex of a raw session id: the store never sees the cookie value. @internal */
export function hashSessionId(rawId: string): string {
  return createHash('sha256').update(rawId).digest('hex')
}

/** Raw ids are 32 random bytes, base64url (43 characters). */
const RAW_ID = /^[A-Za-z0-9_-]{43}$/

/**
 * Sessions as store rows with an opaque id in an HttpOnly cookie: a new id at
 * every sign-in (a planted id stops working), idle and absolute expiry,
 * rolling renewal that never resurrects a deleted row.
 * @internal
 */
export function createSessionManager(deps: SessionManagerDeps): SessionManager {
  const { store, options } = deps
  const now = deps.now ?? Date.now
  const { cookieName, secure, sameSite, idleTimeoutMs, absoluteTimeoutMs, touchIntervalMs } = options.session
  const cookieOptions = { httpOnly: true, secure, sameSite, path: '/' } as const

  function principalOf(session: SessionRecord) {
    return createPrincipal({
      userId: session.userId,
      name: session.name,
      claims: session.claims,
      // The provider payload is for policies and fragments on the server: toSummary() never carries raw.
      raw: session.provider == null ? { sessionId: session.id, userVersion: session.userVersion } : { sessionId: session.id, userVersion: session.userVersion, provider: deepFreeze(session.provider) },
    })
  }

  async function load(sessionHash: string, at = now()): Promise<ResolvedSession | null> {
    const session = await store.getSession(sessionHash)
    if (session === null) return null
    if (at >= session.idleExpiresAt || at >= session.absoluteExpiresAt) {
      await store.deleteSession(sessionHash)
      return null
    }
    return { session, principal: principalOf(session) }
  }

  // The Cookie header is read here, not through @fastify/cookie's request.cookies: the principal is
  // resolved on every route of the host, which may register @fastify/cookie after wire-auth, in
  // another scope, or not at all.
  function readRawId(request: FastifyRequest): string | null {
    const header = request.headers.cookie
    // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): a fast path; parsing a header without the cookie (or none, which throws) also ends in null
    if (typeof header !== 'string' || !header.includes(cookieName)) return null
    let value: string | undefined
    try {
      value = parseCookies(header)[cookieName]
    } catch {
      return null
    }
    // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): the codec's values are strings or undefined, and "undefined" fails RAW_ID
    return typeof value === 'string' && RAW_ID.test(value) ? value : null
  }

  /** The hash of the session the request presented (valid or not), or null. */
  function presentedId(request: FastifyRequest): string | null {
    const current = sessionIdOf(request)
    if (current) return current
    const raw = readRawId(request)
    return raw === null ? null : hashSessionId(raw)
  }

  return {
    cookieName,
    hash: hashSessionId,
    load,
    readRawId,

    async touchIfDue(resolved: ResolvedSession, at: number): Promise<void> {
      const { session } = resolved
      if (at - session.lastSeenAt < touchIntervalMs) return
      // UPDATE … WHERE id = ?: a request in flight during logout cannot bring the row back.
      await store.touchSession(session.id, at, Math.min(at + idleTimeoutMs, session.absoluteExpiresAt))
    },

    async start(request: FastifyRequest, reply: FastifyReply, user: UserRecord, provider?: SessionProvider): Promise<SessionRecord> {
      const previous = presentedId(request)
      // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): a null id reads and deletes nothing
      if (previous !== null) {
        // Whose the presented session is, read before it goes — the request's own, or one the
        // request was not authenticated by (a bearer token, an ignored cross-site cookie) — so
        // that the sockets of a deleted row never stay signed in.
        const owner = await store.getSession(previous)
        // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent but for a race (docs/testing.md): the row read and the row deleted differ only if another request deleted or created it in between
        if ((await store.deleteSession(previous)) && owner !== null) await deps.onReplaced?.(owner.userId, previous, owner.userVersion)
      }
      const rawId = randomBytes(32).toString('base64url')
      const at = now()
      const session: SessionRecord = {
        id: hashSessionId(rawId),
        userId: user.id,
        name: user.name,
        claims: user.claims.map((c) => ({ type: c.type, value: c.value })),
        userVersion: user.version,
        createdAt: at,
        lastSeenAt: at,
        idleExpiresAt: at + idleTimeoutMs,
        absoluteExpiresAt: at + absoluteTimeoutMs,
        ip: request.ip ?? null,
        userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'].slice(0, 256) : null,
        // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): a provider key holding undefined is stored and read as none
        ...(provider === undefined ? {} : { provider }),
      }
      await store.createSession(session)
      // Set-Cookie written directly (Fastify appends it to any other, @fastify/cookie's included):
      // app.auth.signIn() also runs on host routes, which need no cookie plugin.
      reply.header('set-cookie', serializeCookie(cookieName, rawId, { ...cookieOptions, maxAge: Math.floor(absoluteTimeoutMs / 1000) }))
      setPrincipal(request, principalOf(session))
      setSessionId(request, session.id)
      return session
    },

    async destroy(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const id = presentedId(request)
      // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): a null id deletes nothing
      if (id !== null) await store.deleteSession(id)
      reply.header('set-cookie', serializeCookie(cookieName, '', { ...cookieOptions, expires: new Date(0) }))
      setPrincipal(request, ANONYMOUS)
      setSessionId(request, null)
    },
  }
}
