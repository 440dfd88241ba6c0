import { ERROR_TABLE, MAX_REGION_URL, errorBody, isRegionProblem, parseParamsText, parseRegionRequest, parseRegionRequests, regionRequestSchema, type WireAuthErrorCode } from '@wire-auth/core'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuthContext } from '../context.js'
import { principalOf } from '../request-state.js'
import { strictValidatorCompiler } from '../strict-validator.js'
import { FRAGMENT_NAME } from './fragment-definition.js'
import { FragmentRegistry } from './fragment-registry.js'
import { clientBucket } from '../local-idp/throttle.js'
import { distinctRegions, regionDigest } from './region-digest.js'
import { codedError } from '../errors.js'

/** Body limit of `POST /auth/fragments` unless `live.maxMessageBytes` is larger (Fastify's default). */
const HTTP_BODY_LIMIT = 1024 * 1024

/** Codes that mean a fault of the server, not a denial. */
const SERVER_FAULTS = new Set<WireAuthErrorCode>(['ERR_FRAGMENT_RENDER_FAILED', 'ERR_INTERNAL'])

/** Takes `count` renders from the client's budget, all or none. */
function chargeAll(registry: FragmentRegistry, client: string, count: number): boolean {
  if (count === 0) return true
  if (count > registry.renders.perSecond) return false
  return registry.renders.take(client, count) === count
}

/** A refused request: thrown to the error handler (status by code, from the table), never cached. */
function rejectRequest(reply: FastifyReply, code: WireAuthErrorCode, message: string): never {
  reply.header('cache-control', 'no-store')
  throw codedError(code, message)
}

function rateLimited(reply: FastifyReply, registry: FragmentRegistry, client: string): never {
  reply.header('retry-after', String(Math.max(1, Math.ceil(registry.renders.retryAfterMs(client) / 1000))))
  return rejectRequest(reply, 'ERR_RATE_LIMITED', `at most ${registry.renders.perSecond} region evaluations per second from one client`)
}

/**
 * A verdict, not a thrown error: a denial answers ERR_DENIED's status and
 * message whatever its reason code (ERR_UNAUTHENTICATED, ERR_POLICY_TIMEOUT…),
 * a server fault its own code's (logged where it happened, so not thrown to
 * the handler to be logged twice); the body is the one error body.
 */
function sendVerdict(reply: FastifyReply, code: WireAuthErrorCode): FastifyReply {
  const { status, message } = SERVER_FAULTS.has(code) ? ERROR_TABLE[code] : ERROR_TABLE.ERR_DENIED
  return reply.code(status).header('cache-control', 'no-store').send(errorBody(code, message))
}

/**
 * Creates the fragment registry behind `app.fragment` (decorated by the plugin).
 * @internal
 */
export function createFragmentRegistry(ctx: AuthContext): FragmentRegistry {
  return new FragmentRegistry({
    engine: ctx.engine,
    log: ctx.log,
    safeRedirect: ctx.safeRedirect,
    loginUrl: ctx.options.loginUrl,
    timeoutMs: ctx.options.policyTimeoutMs,
    rendersPerSecond: ctx.options.live.rendersPerSecond,
    onRender: ctx.metrics === null ? undefined : ctx.metrics.render,
  })
}

/**
 * Mounts `POST /auth/fragments` and `GET /auth/fragments/:name`
 * (docs/protocol.md) on wire-auth's scope.
 * @internal
 */
export function registerFragments(app: FastifyInstance, ctx: AuthContext, registry: FragmentRegistry): FragmentRegistry {
  const { live } = ctx.options

  // A policy may be added after the fragment; by boot time it must exist, or the fragment always denies.
  app.addHook('onReady', async () => {
    for (const fragment of registry.fragments()) {
      if (fragment.spec?.kind === 'policy' && !ctx.engine.hasPolicy(fragment.spec.policy)) {
        ctx.log.warn({ code: 'ERR_POLICY_NOT_FOUND', fragment: fragment.name, policy: fragment.spec.policy }, 'fragment guard names an unknown policy: it will always deny')
      }
    }
  })

  // Both routes live in a scope of their own, with a plain JSON parser (as the
  // local IdP's routes have their form parser): Fastify's default parser
  // refuses `__proto__` anywhere in a body with a generic "not valid JSON",
  // while params must be refused by the one params rule of core, with the
  // same code on every transport (issue 13 F8). JSON.parse never invokes the
  // `__proto__` setter, so nothing is polluted on the way.
  app.register(async function fragmentRoutes(scope) {
    scope.removeContentTypeParser('application/json')
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
      try {
        done(null, JSON.parse(typeof body === 'string' ? body : body.toString('utf8')))
      } catch {
        done(codedError('ERR_VALIDATION', 'the body is not valid JSON'))
      }
    })

    scope.post(
      '/auth/fragments',
      {
        // Per client and second, like the socket's live.messagesPerSecond (issue 13 F6).
        config: { wireAuth: 'guarded', rateLimit: { max: live.messagesPerSecond, timeWindow: 1000, keyGenerator: (request: FastifyRequest) => clientBucket(request.ip) } },
        validatorCompiler: strictValidatorCompiler,
        // Up to maxRegionsPerSocket regions of up to ~5 KiB each; never below the socket's message limit.
        bodyLimit: Math.max(live.maxMessageBytes, HTTP_BODY_LIMIT),
        attachValidation: true,
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['regions'],
            properties: { regions: { type: 'array', maxItems: live.maxRegionsPerSocket, items: regionRequestSchema } },
          },
        },
      },
      async (request, reply) => {
        if (request.validationError) return rejectRequest(reply, 'ERR_VALIDATION', request.validationError.message)
        const regions = parseRegionRequests((request.body as { regions: unknown }).regions, live.maxRegionsPerSocket, true)
        if (isRegionProblem(regions)) return rejectRequest(reply, regions.code ?? 'ERR_VALIDATION', regions.id === undefined ? regions.message : `region "${regions.id}": ${regions.message}`)
        // Bounded work per request (issue 13 F6): params bytes as for one socket, and
        // each distinct region evaluated once, out of the client's render budget.
        let paramsBytes = 0
        for (const region of regions) paramsBytes += regionDigest(region).paramsBytes
        if (paramsBytes > live.maxParamsBytesPerSocket) {
          return rejectRequest(reply, 'ERR_PARAMS_TOO_LARGE', `at most ${live.maxParamsBytesPerSocket} bytes of params per request`)
        }
        const client = clientBucket(request.ip)
        if (!chargeAll(registry, client, distinctRegions(regions))) return rateLimited(reply, registry, client)
        const results = await registry.evaluateRegions(regions, principalOf(request), request)
        reply.header('cache-control', 'no-store')
        return { principal: principalOf(request).toSummary(), regions: results }
      },
    )

    scope.get(
      '/auth/fragments/:name',
      {
        config: { wireAuth: 'guarded', rateLimit: { max: live.messagesPerSecond, timeWindow: 1000, keyGenerator: (request: FastifyRequest) => clientBucket(request.ip) } },
        validatorCompiler: strictValidatorCompiler,
        attachValidation: true,
        schema: {
          params: { type: 'object', properties: { name: { type: 'string', maxLength: 128 } } },
          querystring: {
            type: 'object',
            properties: {
              kind: { type: 'string', enum: ['region', 'guard'] },
              params: { type: 'string', maxLength: 8192 },
              redirect: { type: 'string', maxLength: MAX_REGION_URL },
              returnTo: { type: 'string', maxLength: MAX_REGION_URL },
            },
          },
        },
      },
      async (request: FastifyRequest, reply: FastifyReply) => {
        if (request.validationError) return rejectRequest(reply, 'ERR_VALIDATION', request.validationError.message)
        const { name } = request.params as { name: string }
        const query = request.query as { kind?: 'region' | 'guard'; params?: string; redirect?: string; returnTo?: string }
        if (!FRAGMENT_NAME.test(name) || !registry.has(name)) return rejectRequest(reply, 'ERR_FRAGMENT_NOT_FOUND', 'no such fragment')
        let params: Readonly<Record<string, unknown>> | undefined
        if (query.params !== undefined) {
          const parsed = parseParamsText(query.params)
          if (!parsed.ok) return rejectRequest(reply, parsed.code, parsed.message)
          params = parsed.params
        }
        const region = parseRegionRequest({ id: 'get', kind: query.kind ?? 'region', fragment: name, params, redirect: query.redirect, returnTo: query.returnTo }, true)
        if (isRegionProblem(region)) return rejectRequest(reply, region.code ?? 'ERR_VALIDATION', region.message)
        const client = clientBucket(request.ip)
        if (!chargeAll(registry, client, 1)) return rateLimited(reply, registry, client)

        const result = await registry.evaluateRegion(region, principalOf(request), request)
        // Append: CORS may already have set `Vary: Origin`.
        const vary = reply.getHeader('vary')
        reply.header('cache-control', 'private, no-store').header('vary', vary === undefined ? 'Cookie, Authorization' : `${String(vary)}, Cookie, Authorization`)
        if (result.status === 'allowed') return reply.type('text/html; charset=utf-8').send(result.html)
        reply.header('x-wire-auth-code', result.code)
        if (result.status === 'redirect') return reply.code(303).header('location', result.location).send()
        if (result.html !== '' && !SERVER_FAULTS.has(result.code)) return reply.code(ERROR_TABLE.ERR_DENIED.status).type('text/html; charset=utf-8').send(result.html)
        return sendVerdict(reply, result.code)
      },
    )
  })

  return registry
}
