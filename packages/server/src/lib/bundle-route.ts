import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { LAZY_MODULES, bundleDirectory, bundleVersion, versionedBundlePath, versionedModulePath } from './bundle-info.js'
import type { AuthContext } from './context.js'
import { codedError } from './errors.js'

/** One served file, read once. */
interface BundleFile {
  body: Buffer
  etag: string
}

export { bundleDirectory } from './bundle-info.js'

function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`
}

/** True when an `If-None-Match` header matches `etag` (weak comparison, lists and `*` allowed). */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  if (header.trim() === '*') return true
  return header.split(',').some((part) => part.trim().replace(/^W\//, '') === etag)
}

/** Options of {@link registerBundleRoute}. @internal */
export interface BundleRouteOptions {
  /** Directory holding `wire-auth.js` and `wire-auth.js.map`. Default {@link bundleDirectory}. */
  directory?: string
  /** Version in the versioned URL. Default: `@wire-auth/elements`'s, read beside {@link BundleRouteOptions.directory}. */
  version?: string
}

/**
 * Serves the elements bundle at `GET /wire-auth.js` and its source map at
 * `GET /wire-auth.js.map`: read once and cached in memory, strong ETag with
 * 304 on `If-None-Match`, `SourceMap` header, revalidated caching. The same
 * bytes are served at the versioned URL `GET /wire-auth@<version>.js` (the
 * elements package's version) with immutable caching, for pages that pin the
 * script with Subresource Integrity (`wire-auth bundle-info`). When the
 * bundle was not built, 503 `ERR_BUNDLE_NOT_BUILT` says to run `npm run build`
 * (checked again on the next request, so building later needs no restart).
 * @internal
 */
export function registerBundleRoute(app: FastifyInstance, ctx: AuthContext, options: BundleRouteOptions = {}): void {
  if (!ctx.options.serveBundle) return
  const directory = options.directory ?? bundleDirectory()
  const version = options.version ?? bundleVersion(directory)
  const cache = new Map<string, Promise<BundleFile | null>>()

  function load(file: string): Promise<BundleFile | null> {
    let pending = cache.get(file)
    if (pending === undefined) {
      pending = readFile(`${directory}${directory.endsWith('/') ? '' : '/'}${file}`).then(
        (body) => ({ body, etag: etagOf(body) }),
        (err: NodeJS.ErrnoException) => {
          // Not built yet: forget the miss so a later build is picked up.
          cache.delete(file)
          if (err.code !== 'ENOENT') ctx.log.warn({ code: 'ERR_BUNDLE_NOT_BUILT', file, errorCode: err.code }, 'elements bundle unreadable')
          return null
        },
      )
      cache.set(file, pending)
    }
    return pending
  }

  function route(file: string, contentType: string, immutable = false) {
    return async function serveBundle(request: FastifyRequest, reply: FastifyReply) {
      const served = await load(file)
      if (served === null) {
        reply.header('cache-control', 'no-store')
        throw codedError('ERR_BUNDLE_NOT_BUILT', `the elements bundle (${file}) is not built: run \`npm run build\``)
      }
      // Public code with nothing private in it: any page may load it (a module
      // script is a CORS request). An allowed origin keeps the credentialed
      // grant the CORS hook already gave. The elements also probe this URL to
      // tell "origin not allowed" from "backend down".
      if (!reply.hasHeader('access-control-allow-origin')) reply.header('access-control-allow-origin', '*')
      reply
        .header('etag', served.etag)
        // The plain URL serves every version: let caches keep it but revalidate cheaply (304).
        // The versioned URL never changes bytes within a published version.
        .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=300, must-revalidate')
        .header('x-content-type-options', 'nosniff')
      if (file.endsWith('.js')) reply.header('sourcemap', `${file}.map`)
      if (matches(request.headers['if-none-match'], served.etag)) return reply.code(304).send()
      return reply.type(contentType).send(served.body)
    }
  }

  app.get('/wire-auth.js', { config: { wireAuth: 'public' } }, route('wire-auth.js', 'text/javascript; charset=utf-8'))
  if (version !== undefined) app.get(versionedBundlePath(version), { config: { wireAuth: 'public' } }, route('wire-auth.js', 'text/javascript; charset=utf-8', true))
  app.get('/wire-auth.js.map', { config: { wireAuth: 'public' } }, route('wire-auth.js.map', 'application/json; charset=utf-8'))
  // The modules the bundle imports only when a page needs them: the UI elements
  // (<wire-auth-sign-in>…), the token helpers, @simplewebauthn/browser (LAZY_MODULES).
  for (const name of LAZY_MODULES) {
    const file = `wire-auth-${name}.js`
    app.get(`/${file}`, { config: { wireAuth: 'public' } }, route(file, 'text/javascript; charset=utf-8'))
    // What the versioned bundle imports: pinned pages pin it too (import map integrity).
    if (version !== undefined) app.get(versionedModulePath(name, version), { config: { wireAuth: 'public' } }, route(file, 'text/javascript; charset=utf-8', true))
    app.get(`/${file}.map`, { config: { wireAuth: 'public' } }, route(`${file}.map`, 'application/json; charset=utf-8'))
  }
}
