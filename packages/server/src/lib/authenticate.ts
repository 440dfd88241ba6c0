import { ANONYMOUS } from '@wire-auth/core'
import type { FastifyRequest } from 'fastify'
import { OriginNotAllowed } from './errors.js'
import type { TokenVerifier } from './local-idp/local-idp.js'
import { foreignUnsafeRequest } from './origin-check.js'
import { setPrincipal, setSessionId } from './request-state.js'
import type { SessionManager } from './sessions.js'

/** What {@link createAuthentication} needs. @internal */
export interface AuthenticationDeps {
  sessions: Pick<SessionManager, 'readRawId' | 'hash' | 'load' | 'touchIfDue'>
  /** Verifies bearer tokens; null when the local IdP is off (a bearer token then leaves the request anonymous). */
  tokens: TokenVerifier | null
  isAllowedOrigin(origin: string | undefined): boolean
}

/**
 * The two `onRequest` hooks that authenticate a request. The plugin adds
 * {@link Authentication.authenticate} to the host's routes and
 * {@link Authentication.checkOriginThenAuthenticate} to its own (to every
 * route under `createServer`).
 * @internal
 */
export interface Authentication {
  /**
   * Resolves the request's principal: a bearer token, else the session
   * cookie. An unsafe request from a foreign origin is not refused here (on
   * the host's routes its CORS and partners are the host's business), but
   * the cookie does not authenticate it: cross-site request forgery gains
   * nobody's principal.
   */
  authenticate(request: FastifyRequest): Promise<void>
  /**
   * CSRF: refuses a state-changing browser request from a foreign origin
   * (login CSRF included, so not only requests that carry the cookie), then
   * {@link Authentication.authenticate}.
   * @throws `ERR_ORIGIN_NOT_ALLOWED`
   */
  checkOriginThenAuthenticate(request: FastifyRequest): Promise<void>
}

/**
 * Builds the authentication hooks over the session manager and the token
 * verifier. Sets `request.user` / `request.sessionId` (through
 * `request-state.ts`); leaves them anonymous when nothing valid is presented.
 * @internal
 */
export function createAuthentication({ sessions, tokens, isAllowedOrigin }: AuthenticationDeps): Authentication {
  async function authenticate(request: FastifyRequest): Promise<void> {
    const authorization = request.headers.authorization
    if (typeof authorization === 'string' && /^bearer /i.test(authorization)) {
      if (tokens === null) return
      setPrincipal(request, (await tokens.verifyAccessToken(authorization.slice(7).trim())) ?? ANONYMOUS)
      return
    }
    const raw = sessions.readRawId(request)
    if (raw === null) return
    const foreign = foreignUnsafeRequest(request, isAllowedOrigin)
    if (foreign !== null) {
      request.log.debug({ code: 'ERR_ORIGIN_NOT_ALLOWED' }, 'session cookie ignored on a foreign state-changing request')
      return
    }
    const now = Date.now()
    const resolved = await sessions.load(sessions.hash(raw), now)
    if (resolved === null) return
    setPrincipal(request, resolved.principal)
    setSessionId(request, resolved.session.id)
    await sessions.touchIfDue(resolved, now)
  }

  async function checkOriginThenAuthenticate(request: FastifyRequest): Promise<void> {
    const foreign = foreignUnsafeRequest(request, isAllowedOrigin)
    if (foreign !== null) throw new OriginNotAllowed(foreign)
    await authenticate(request)
  }

  return { authenticate, checkOriginThenAuthenticate }
}
