import type { WireAuthErrorCode } from '@wire-auth/core'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuthContext } from '../context.js'
import { strictValidatorCompiler } from '../strict-validator.js'
import { FRAGMENT_NAME, type FragmentOptions, type FragmentRender } from './fragment-definition.js'
import { FragmentRegistry } from './fragment-registry.js'
import { isRegionProblem, parseRegionRequest, parseRegionRequests, regionRequestSchema } from './region-request.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Registers a server-side HTML fragment behind a guard. `load` and
     * `render` run only after the guard allowed; element attributes can
     * only add requirements.
     *
     * @param name 1-128 characters of `[A-Za-z0-9_.:-]`.
     * @param guard Exactly one of `{ policy }`, `{ claims }`, `{ authenticated: true }`,
     *   `{ public: true }`, plus optional `load`, `else`, `bindVerdict`, `redirect`.
     * @param render Returns an `HtmlString` built with `html` from `@wire-auth/core`.
     * @throws WireAuthError `ERR_FRAGMENT_UNGUARDED` (no guard), `ERR_FRAGMENT_DUPLICATE`,
     *   `ERR_FRAGMENT_INVALID` (bad name, guard or hook).
     * @example
     * ```ts
     * app.fragment('beta-panel', { claims: [['role', 'beta']], load: ({ user }) => loadNews(user.userId) },
     *   ({ user, data }) => html`<p>Welcome ${user.name}: ${data.headline}</p>`)
     * ```
     */
    fragment<Data = unknown>(name: string, guard: FragmentOptions<Data, FastifyRequest>, render: FragmentRender<Data, FastifyRequest>): FastifyInstance
  }
}

/** Body limit of `POST /auth/fragments` unless `live.maxMessageBytes` is larger (Fastify's default). */
const HTTP_BODY_LIMIT = 1024 * 1024

/** Codes that mean a fault of the server, not a denial. */
const SERVER_FAULTS = new Set<WireAuthErrorCode>(['ERR_FRAGMENT_RENDER_FAILED', 'ERR_INTERNAL'])

function sendError(reply: FastifyReply, statusCode: number, code: WireAuthErrorCode, message: string): FastifyReply {
  return reply.code(statusCode).header('cache-control', 'no-store').send({ error: { code, message } })
}

/**
 * Creates the fragment registry, decorates `app.fragment`, and mounts
 * `POST /auth/fragments` and `GET /auth/fragments/:name` (docs/protocol.md).
 * @returns The registry, shared with the live socket.
 * @internal
 */
export function registerFragments(app: FastifyInstance, ctx: AuthContext): FragmentRegistry {
  const { live } = ctx.options
  const registry = new FragmentRegistry({
    engine: ctx.engine,
    log: ctx.log,
    safeRedirect: ctx.safeRedirect,
    loginUrl: ctx.options.loginUrl,
    timeoutMs: ctx.options.policyTimeoutMs,
    rendersPerSecond: live.rendersPerSecond,
  })

  app.decorate('fragment', function fragment(this: FastifyInstance, name: string, guard: unknown, render: unknown) {
    registry.register(name, guard as FragmentOptions, render as FragmentRender)
    return this
  })

  // A policy may be added after the fragment; by boot time it must exist, or the fragment always denies.
  app.addHook('onReady', async () => {
    for (const fragment of registry.fragments()) {
      if (fragment.spec?.kind === 'policy' && !ctx.engine.hasPolicy(fragment.spec.policy)) {
        ctx.log.warn({ code: 'ERR_POLICY_NOT_FOUND', fragment: fragment.name, policy: fragment.spec.policy }, 'fragment guard names an unknown policy: it will always deny')
      }
    }
  })

  app.post(
    '/auth/fragments',
    {
      config: { wireAuth: 'guarded' },
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
      if (request.validationError) return sendError(reply, 400, 'ERR_VALIDATION', request.validationError.message)
      const regions = parseRegionRequests((request.body as { regions: unknown }).regions, live.maxRegionsPerSocket)
      if (isRegionProblem(regions)) return sendError(reply, 400, 'ERR_VALIDATION', regions.id === undefined ? regions.message : `region "${regions.id}": ${regions.message}`)
      const results = await registry.evaluateRegions(regions, request.user, request)
      reply.header('cache-control', 'no-store')
      return { principal: request.user.toSummary(), regions: results }
    },
  )

  app.get(
    '/auth/fragments/:name',
    {
      config: { wireAuth: 'guarded' },
      validatorCompiler: strictValidatorCompiler,
      attachValidation: true,
      schema: {
        params: { type: 'object', properties: { name: { type: 'string', maxLength: 128 } } },
        querystring: {
          type: 'object',
          properties: {
            kind: { type: 'string', enum: ['region', 'guard'] },
            params: { type: 'string', maxLength: 8192 },
            redirect: { type: 'string', maxLength: 2048 },
            returnTo: { type: 'string', maxLength: 2048 },
          },
        },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.validationError) return sendError(reply, 400, 'ERR_VALIDATION', request.validationError.message)
      const { name } = request.params as { name: string }
      const query = request.query as { kind?: 'region' | 'guard'; params?: string; redirect?: string; returnTo?: string }
      if (!FRAGMENT_NAME.test(name) || !registry.has(name)) return sendError(reply, 404, 'ERR_FRAGMENT_NOT_FOUND', 'no such fragment')
      let params: unknown
      if (query.params !== undefined) {
        try {
          params = JSON.parse(query.params)
        } catch {
          return sendError(reply, 400, 'ERR_VALIDATION', '"params" must be a JSON object')
        }
      }
      const region = parseRegionRequest({ id: 'get', kind: query.kind ?? 'region', fragment: name, params, redirect: query.redirect, returnTo: query.returnTo })
      if (isRegionProblem(region)) return sendError(reply, 400, 'ERR_VALIDATION', region.message)

      const result = await registry.evaluateRegion(region, request.user, request)
      // Append: CORS may already have set `Vary: Origin`.
      const vary = reply.getHeader('vary')
      reply.header('cache-control', 'private, no-store').header('vary', vary === undefined ? 'Cookie, Authorization' : `${String(vary)}, Cookie, Authorization`)
      if (result.status === 'allowed') return reply.type('text/html; charset=utf-8').send(result.html)
      reply.header('x-wire-auth-code', result.code)
      if (result.status === 'redirect') return reply.code(303).header('location', result.location).send()
      if (SERVER_FAULTS.has(result.code)) return sendError(reply, 500, result.code, 'the fragment could not be rendered')
      if (result.html !== '') return reply.code(403).type('text/html; charset=utf-8').send(result.html)
      return sendError(reply, 403, result.code, 'denied')
    },
  )

  return registry
}
