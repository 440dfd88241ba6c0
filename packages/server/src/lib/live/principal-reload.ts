import { ANONYMOUS, createPrincipal, type ClaimsPrincipal } from '@wire-auth/core'
import type { TokenVerifier } from '../local-idp/local-idp.js'
import type { ResolvedSession, SessionManager } from '../sessions.js'
import type { AuthStore, UserRecord } from '../store/auth-store.js'
import type { RenderBatch } from './render-batch.js'

/** Where a socket's principal is re-read from. @internal */
export interface PrincipalSources {
  sessions: Pick<SessionManager, 'load'>
  store: Pick<AuthStore, 'getUser'>
  /** Null when the local IdP is not mounted. */
  readonly tokens: TokenVerifier | null
  now(): number
}

/** A re-read principal and when it must be re-checked (its expiry). @internal */
export interface ReloadedPrincipal {
  user: ClaimsPrincipal
  checkAt: number
}

const GONE: ReloadedPrincipal = Object.freeze({ user: ANONYMOUS, checkAt: Number.POSITIVE_INFINITY })

/** Token expiry (`raw.exp`, seconds) as epoch ms, or infinity when the verifier gave none. @internal */
export function expiryOf(user: ClaimsPrincipal): number {
  const exp = user.raw.exp
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : Number.POSITIVE_INFINITY
}

/**
 * The principal of a token socket: a still-valid token (signature, expiry,
 * revocation) AND the user's current row, whose claims win over the
 * token's. Null when either fails or the user is disabled. Read once per
 * batch per token and per user.
 * @throws what the store or verifier throws (`ERR_STORE_UNAVAILABLE`).
 * @internal
 */
export function tokenPrincipal(sources: PrincipalSources, token: string, batch: RenderBatch): Promise<ClaimsPrincipal | null> {
  return batch.once(batch.tokens, token, async () => {
    const tokens = sources.tokens
    const verified = tokens === null ? null : await tokens.verifyAccessToken(token)
    if (verified === null || !verified.isAuthenticated || verified.userId === null) return null
    const userId = verified.userId
    const row = await batch.once<UserRecord | null>(batch.users, userId, () => sources.store.getUser(userId))
    if (row === null || row.disabled) return null
    return createPrincipal({ userId: row.id, name: row.name, claims: row.claims, raw: { ...verified.raw, userVersion: row.version } })
  })
}

/**
 * Re-reads the principal of a socket: from its session (gone or expired →
 * anonymous) or its token. Null for a socket with neither (anonymous: nothing
 * can change). Sessions are read once per batch.
 * @throws what the store throws (`ERR_STORE_UNAVAILABLE`).
 * @internal
 */
export async function reloadPrincipal(
  sources: PrincipalSources,
  socket: { readonly sessionHash: string | null; readonly token: string | null },
  batch: RenderBatch,
): Promise<ReloadedPrincipal | null> {
  if (socket.sessionHash !== null) {
    const hash = socket.sessionHash
    const resolved = await batch.once<ResolvedSession | null>(batch.sessions, hash, () => sources.sessions.load(hash, sources.now()))
    if (resolved === null) return GONE
    return { user: resolved.principal, checkAt: Math.min(resolved.session.idleExpiresAt, resolved.session.absoluteExpiresAt) }
  }
  if (socket.token !== null) {
    const user = await tokenPrincipal(sources, socket.token, batch)
    return user === null ? GONE : { user, checkAt: expiryOf(user) }
  }
  return null
}
