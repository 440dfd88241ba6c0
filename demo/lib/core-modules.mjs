// Serves the built ES modules of @wire-auth/core at /vendor/wire-auth-core/,
// so the demo's pages check a `returnTo` with `resolveSafeRedirect` — the
// very function the server uses for every redirect — instead of a copy.
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'

/** URL prefix of the served modules. */
export const CORE_MODULES_PREFIX = '/vendor/wire-auth-core/'

/**
 * Registers `GET /vendor/wire-auth-core/*` (public, `.js` files only) from
 * the package's `dist/` (`npm run build`).
 * @param {import('fastify').FastifyInstance} app
 */
export async function registerCoreModules(app) {
  const root = fileURLToPath(new URL('./', import.meta.resolve('@wire-auth/core')))
  await app.register(async function coreModules(scope) {
    // Library code anyone may load; every route says how it is protected.
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, wireAuth: 'public' }
    })
    await scope.register(fastifyStatic, { root, prefix: CORE_MODULES_PREFIX, decorateReply: false, allowedPath: (path) => path.endsWith('.js') })
  })
}
