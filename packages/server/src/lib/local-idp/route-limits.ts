import type { FastifyReply } from 'fastify'
import { codedError } from '../errors.js'
import type { ResolvedLocalIdpOptions } from './local-idp.js'
import type { ThrottleVerdict } from './throttle.js'

/** Body cap of the local IdP's routes: a maximal password, JSON-escaped, fits. @internal */
export const BODY_LIMIT = 64 * 1024
const ONE_MINUTE = 60_000

/**
 * Route options of the local IdP's public routes, rate-limited per client
 * address: `strict` (`rateLimitPerMinute`) where a password or a grant is
 * presented, `lenient` (ten times that) for revocation, introspection and the
 * authorization endpoint.
 * @internal
 */
export function routeLimits(options: ResolvedLocalIdpOptions) {
  return {
    strict: { config: { wireAuth: 'public' as const, rateLimit: { max: options.rateLimitPerMinute, timeWindow: ONE_MINUTE } } },
    lenient: { config: { wireAuth: 'public' as const, rateLimit: { max: options.rateLimitPerMinute * 10, timeWindow: ONE_MINUTE } } },
  }
}

/**
 * The schema's bound on a password field: four times `passwordMaxLength`,
 * loose on purpose, so that a password just over the limit reaches the
 * hasher's exact check and gets `ERR_PASSWORD_TOO_LONG` rather than a schema
 * error.
 * @internal
 */
export function passwordFieldMax(options: ResolvedLocalIdpOptions): number {
  return options.passwordMaxLength * 4
}

/** The 429 of a login throttle, with its `retry-after`. @internal */
export function throttled(reply: FastifyReply, verdict: ThrottleVerdict): Error {
  reply.header('retry-after', String(verdict.retryAfterSeconds))
  return codedError('ERR_RATE_LIMITED', `too many failed attempts, retry in ${verdict.retryAfterSeconds} s`)
}
