import { ANONYMOUS, type ClaimsPrincipal } from '@wire-auth/core'
import type { FastifyRequest } from 'fastify'

/**
 * Where wire-auth keeps a request's principal and session id. Symbols, so
 * that the public names (`request.user`, `request.sessionId` by default,
 * `options.decorators` to rename them) are only views: renaming them, or
 * another plugin owning `request.user` (@fastify/jwt, @fastify/passport),
 * never changes what wire-auth itself reads.
 * @internal
 */
export const kPrincipal: unique symbol = Symbol('wire-auth.principal')
/** @internal */
export const kSessionId: unique symbol = Symbol('wire-auth.sessionId')

interface RequestState {
  [kPrincipal]?: ClaimsPrincipal | null
  [kSessionId]?: string | null
}

/**
 * The principal wire-auth resolved for this request: {@link ANONYMOUS} when
 * nobody is signed in (never null), whatever name `request.user` was given.
 *
 * @example
 * ```ts
 * app.get('/hello', async (request) => `Hello ${principalOf(request).name ?? 'stranger'}`)
 * ```
 */
export function principalOf(request: FastifyRequest): ClaimsPrincipal {
  return (request as RequestState)[kPrincipal] ?? ANONYMOUS
}

/** Hash of the request's valid session, or null (anonymous, or a bearer token). */
export function sessionIdOf(request: FastifyRequest): string | null {
  return (request as RequestState)[kSessionId] ?? null
}

/** @internal */
export function setPrincipal(request: FastifyRequest, principal: ClaimsPrincipal): void {
  ;(request as RequestState)[kPrincipal] = principal
}

/** @internal */
export function setSessionId(request: FastifyRequest, sessionId: string | null): void {
  ;(request as RequestState)[kSessionId] = sessionId
}
