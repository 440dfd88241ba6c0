import type { FastifyInstance, FastifyServerOptions } from 'fastify'

/** One route as the router holds it. */
export interface RouteInfo {
  method: string
  url: string
  /** The route's `config` (with `url` and `method`, as Fastify stores it). */
  config: Record<string, unknown>
}

/**
 * Reads the route table of a built app, with each route's config. Pass
 * `routerOptions` to Fastify (or `createServer`'s `fastify` option), then
 * call `routes(app)` once the app is ready: it walks the router through
 * `printRoutes`, whose `buildPrettyMeta` sees every route with its context.
 */
export function routeTable(): { routerOptions: NonNullable<FastifyServerOptions['routerOptions']>; routes(app: FastifyInstance): RouteInfo[] } {
  const seen = new Map<string, RouteInfo>()
  const routerOptions = {
    buildPrettyMeta(route: { method: string; path: string; store?: { config?: Record<string, unknown> } }) {
      seen.set(`${route.method} ${route.path}`, { method: route.method, url: route.path, config: { ...(route.store?.config ?? {}) } })
      return {}
    },
  }
  return {
    routerOptions: routerOptions as NonNullable<FastifyServerOptions['routerOptions']>,
    routes(app) {
      seen.clear()
      app.printRoutes({ includeMeta: true, commonPrefix: false })
      return [...seen.values()].sort((a, b) => `${a.url} ${a.method}`.localeCompare(`${b.url} ${b.method}`))
    },
  }
}

/** `METHOD url` of a route. */
export const routeKey = (route: Pick<RouteInfo, 'method' | 'url'>) => `${route.method} ${route.url}`

/**
 * Routes that say neither `config.wireAuth: 'public'` nor `'guarded'`,
 * except those in `exempt` (keys `METHOD url`).
 */
export function unmarkedRoutes(routes: readonly RouteInfo[], exempt: ReadonlySet<string> = new Set()): string[] {
  return routes.filter((r) => !exempt.has(routeKey(r)) && r.config.wireAuth !== 'public' && r.config.wireAuth !== 'guarded').map(routeKey)
}
