import { readdir } from 'node:fs/promises'
import { isAbsolute, join, relative, resolve, sep } from 'node:path'
import { parseGuardSpec, WireAuthError, type GuardSpec, type RegionRequest, type WireAuthErrorCode } from '@wire-auth/core'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import type { AuthContext } from '../context.js'
import { codedError, Forbidden, Unauthenticated } from '../errors.js'
import type { FragmentRegistry } from '../fragments/fragment-registry.js'
import { guardLocation } from '../fragments/guard-location.js'
import { PageSet, type LoadedPage } from './page-set.js'
import { principalOf } from '../request-state.js'
import type { RequirePolicySpec } from '../fastify-types.js'

/** Options of {@link FastifyInstance.page}. */
export interface PageOptions {
  /**
   * A guard of the page beside the `<wire-auth-guard>` elements it holds, in
   * any guard spec form: `true` (signed in), `"AdminOnly"`,
   * `{ policy, redirect }`, `{ claims: [[type, value]] }`.
   */
  guard?: true | RequirePolicySpec
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Guards a host route before any of its hooks or its handler runs, in any
     * guard spec form: `true` (signed in), `"AdminOnly"`, `{ policy, redirect }`,
     * `{ claims: [["role","admin"]] }`. A denied browser navigation answers
     * 303 to `redirect` or the login URL with `returnTo`, with an empty body;
     * other requests answer 401 `ERR_UNAUTHENTICATED` / 403 `ERR_FORBIDDEN`.
     * @example app.get('/reports', { config: { authGuard: { policy: 'AdminOnly' } } }, handler)
     */
    authGuard?: true | RequirePolicySpec
  }
  interface FastifyInstance {
    /**
     * Serves an HTML file at `url` through wire-auth: processed once and kept
     * in memory (re-read when it changes, outside production), page-level
     * `<wire-auth-guard>` elements decided before any byte is sent (denied →
     * 303), protected markup written in place (`<template slot="allowed">`)
     * cut out and served only through fragments after the guard allowed.
     * @param url The route path (GET and HEAD).
     * @param file Path of the HTML file.
     * @throws WireAuthError `ERR_PAGE_INVALID` for a bad url or file, `ERR_GUARD_SPEC_INVALID` for a bad `guard`.
     * @example app.page('/admin', './public/admin.html')
     */
    page(url: string, file: string, options?: PageOptions): FastifyInstance
  }
}

/** Route config entry set for guarded host routes and pages. @internal */
export const kRouteGuard = Symbol('wire-auth.route-guard')

type RouteGuard = { kind: 'route'; spec: GuardSpec } | { kind: 'page'; file: string; spec: GuardSpec | undefined }

/** Destinations of a browser navigation (Fetch metadata). */
const DOCUMENT_DESTINATIONS = new Set(['document', 'iframe', 'frame'])

/**
 * True for a browser navigation, which gets a 303 rather than a JSON error:
 * `Sec-Fetch-Dest: document` (or a frame); without Fetch metadata (older
 * browsers, scripts), a GET/HEAD whose `Accept` names `text/html`. A
 * `fetch()` from a page sends `Sec-Fetch-Dest: empty` and gets JSON.
 * @internal
 */
export function isDocumentRequest(request: Pick<FastifyRequest, 'headers' | 'method'>): boolean {
  const dest = request.headers['sec-fetch-dest']
  if (typeof dest === 'string') return DOCUMENT_DESTINATIONS.has(dest.toLowerCase())
  if (request.method !== 'GET' && request.method !== 'HEAD') return false
  const accept = request.headers.accept
  return typeof accept === 'string' && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept)
}

function pageError(message: string): never {
  throw codedError('ERR_PAGE_INVALID', message)
}

function send303(reply: FastifyReply, location: string, code: WireAuthErrorCode): FastifyReply {
  return reply.code(303).header('location', location).header('cache-control', 'no-store').header('x-wire-auth-code', code).send()
}

/**
 * Host-route guards (`config.authGuard`) and served pages (`app.page`,
 * `staticRoot`). Their guard runs in a root `onRequest` hook registered
 * right after the principal's, so before any hook the app adds later and
 * before every route-level hook and handler.
 * @returns The page set (for `staticRoot`).
 * @internal
 */
export function registerPages(app: FastifyInstance, ctx: AuthContext, registry: FragmentRegistry, pageDecorator = 'page'): PageSet {
  const pages = new PageSet({ registry, log: ctx.log, watch: ctx.options.pages.watch })
  const locationDeps = { safeRedirect: ctx.safeRedirect, loginUrl: ctx.options.loginUrl }
  // The page the guard hook admitted, for the handler; requests without one are never answered with a page.
  const admitted = new WeakMap<FastifyRequest, { page: LoadedPage; guarded: boolean }>()

  app.addHook('onRoute', (route: RouteOptions) => {
    const config = route.config as Record<PropertyKey, unknown> | undefined
    if (config === undefined || config.authGuard === undefined || config[kRouteGuard] !== undefined) return
    // Parsed at registration: a malformed spec stops the boot (ERR_GUARD_SPEC_INVALID).
    const guard: RouteGuard = { kind: 'route', spec: parseGuardSpec(config.authGuard) }
    route.config = { wireAuth: 'guarded', ...config, [kRouteGuard]: guard } as RouteOptions['config']
  })

  // Right after the principal hook (plugin.ts): the guard decides before anything of the route runs.
  app.addHook('onRequest', async function wireAuthRouteGuard(request: FastifyRequest, reply: FastifyReply) {
    const guard = (request.routeOptions.config as unknown as Record<PropertyKey, unknown> | undefined)?.[kRouteGuard] as RouteGuard | undefined
    if (guard === undefined) return
    const returnTo = request.url
    if (guard.kind === 'route') {
      const decision = await ctx.engine.evaluateGuard(guard.spec, principalOf(request), { request, params: {} })
      if (decision.allowed) return
      const code = decision.code ?? 'ERR_DENIED'
      if (isDocumentRequest(request)) return send303(reply, guardLocation(locationDeps, [guard.spec.redirect], returnTo), code)
      if (code === 'ERR_UNAUTHENTICATED') throw new Unauthenticated()
      throw new Forbidden(`denied (${code})`)
    }
    let page: LoadedPage
    try {
      page = await pages.get(guard.file)
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') throw codedError('ERR_NOT_FOUND', 'no such page')
      throw err
    }
    // A page is a document whatever the request says: denied → 303, zero bytes of it.
    if (guard.spec !== undefined) {
      const decision = await ctx.engine.evaluateGuard(guard.spec, principalOf(request), { request, params: {} })
      if (!decision.allowed) return send303(reply, guardLocation(locationDeps, [guard.spec.redirect], returnTo), decision.code ?? 'ERR_DENIED')
    }
    for (const element of page.guards) {
      let code: WireAuthErrorCode | undefined = 'ERR_GUARD_SPEC_INVALID'
      if (element.request !== null) {
        const decision = await registry.authorize(element.request as RegionRequest, principalOf(request), request)
        code = decision.allowed ? undefined : (decision.code ?? 'ERR_DENIED')
      }
      if (code !== undefined) {
        const location = registry.location({ redirect: element.redirect, returnTo, fragment: element.request?.fragment })
        return send303(reply, location, code)
      }
    }
    admitted.set(request, { page, guarded: guard.spec !== undefined || page.guards.length > 0 })
  })

  function servePage(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const served = admitted.get(request)
    if (served === undefined) throw codedError('ERR_INTERNAL', 'page served without its guard')
    const { page, guarded } = served
    reply.header('content-type', 'text/html; charset=utf-8').header('etag', page.etag)
    if (guarded) {
      // Who may see it depends on the cookie: never reuse it for somebody else.
      reply.header('cache-control', 'private, no-store').header('vary', 'Cookie, Authorization')
    } else {
      reply.header('cache-control', 'no-cache')
      if (request.headers['if-none-match'] === page.etag) return reply.code(304).send()
    }
    return reply.send(page.body)
  }

  app.decorate(pageDecorator, function page(this: FastifyInstance, url: string, file: string, options: PageOptions = {}) {
    if (typeof url !== 'string' || !url.startsWith('/')) pageError(`page url ${JSON.stringify(String(url).slice(0, 64))} must start with "/"`)
    if (typeof file !== 'string' || file === '') pageError(`page ${url}: the file must be a path`)
    if (options === null || typeof options !== 'object') pageError(`page ${url}: options must be an object`)
    const path = resolve(file)
    const spec = options.guard === undefined ? undefined : parseGuardSpec(options.guard)
    pages.add(path, relative(process.cwd(), path).split(sep).join('/'))
    const guard: RouteGuard = { kind: 'page', file: path, spec }
    this.get(url, { config: { wireAuth: 'guarded', [kRouteGuard]: guard } as Record<PropertyKey, unknown> }, servePage)
    return this
  })

  // Read every page once at boot: a missing file stops the start, not the first visitor.
  app.addHook('onReady', async () => {
    try {
      await pages.loadAll()
    } catch (err) {
      throw codedError('ERR_PAGE_INVALID', `a page could not be read (${(err as { code?: string }).code ?? 'error'})`, { cause: err })
    }
  })
  return pages
}

async function htmlFiles(dir: string, out: string[] = []): Promise<string[]> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) await htmlFiles(path, out)
    else if (entry.isFile() && /\.html?$/i.test(entry.name)) out.push(path)
  }
  return out
}

/** True for a path that names an HTML file: the static server must never send one unprocessed. @internal */
export function isHtmlPath(path: string): boolean {
  let decoded = path
  try {
    decoded = decodeURIComponent(path)
  } catch {
    return true
  }
  return /\.html?(?:[/?#]|$)/i.test(decoded)
}

/**
 * Registers every HTML file under `root` as a page: `/a/b.html` at
 * `/a/b.html` and `/a/b`, `index.html` also at its folder (`/`, `/a/`).
 * Files added later are served after a restart.
 * @internal
 */
export async function registerStaticPages(app: FastifyInstance, root: string): Promise<void> {
  if (!isAbsolute(root)) root = resolve(root)
  for (const file of await htmlFiles(root)) {
    const rel = relative(root, file).split(sep).join('/')
    const urls = new Set([`/${rel}`, `/${rel.replace(/\.html?$/i, '')}`])
    if (/(^|\/)index\.html?$/i.test(rel)) urls.add(`/${rel.replace(/index\.html?$/i, '')}`)
    for (const url of urls) app.page(url, file)
  }
}
