import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { bundleDirectory, registerBundleRoute } from '../src/lib/bundle-route.js'
import type { AuthContext } from '../src/lib/context.js'
import { buildApp, tempDir } from './support/app.js'

let dir: { dir: string; cleanup: () => void }
let app: FastifyInstance

beforeEach(() => {
  dir = tempDir('wire-auth-bundle-')
})
afterEach(async () => {
  await app?.close()
  dir.cleanup()
})

function bareApp(serveBundle = true): FastifyInstance {
  const instance = Fastify({ logger: false })
  registerBundleRoute(instance, { options: { serveBundle }, log: instance.log } as unknown as AuthContext, { directory: dir.dir })
  return instance
}

describe('GET /wire-auth.js', () => {
  it('503 ERR_BUNDLE_NOT_BUILT (run npm run build) until the bundle exists, then serves it without a restart', async () => {
    app = bareApp()
    const missing = await app.inject({ url: '/wire-auth.js' })
    expect(missing.statusCode).toBe(503)
    expect(missing.json().error.code).toBe('ERR_BUNDLE_NOT_BUILT')
    expect(missing.json().error.message).toContain('npm run build')

    writeFileSync(join(dir.dir, 'wire-auth.js'), 'export const x = 1\n//# sourceMappingURL=wire-auth.js.map\n')
    const built = await app.inject({ url: '/wire-auth.js' })
    expect(built.statusCode).toBe(200)
    expect(built.body).toContain('export const x = 1')
  })

  it('serves JavaScript with a strong ETag, SourceMap, nosniff and revalidated caching; 304 on If-None-Match', async () => {
    writeFileSync(join(dir.dir, 'wire-auth.js'), 'console.log("wire-auth")\n')
    writeFileSync(join(dir.dir, 'wire-auth.js.map'), '{"version":3,"sources":[],"mappings":""}')
    app = bareApp()
    const response = await app.inject({ url: '/wire-auth.js' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(response.headers['x-content-type-options']).toBe('nosniff')
    expect(response.headers.sourcemap).toBe('wire-auth.js.map')
    expect(response.headers['cache-control']).toMatch(/must-revalidate/)
    const etag = String(response.headers.etag)
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/)

    const again = await app.inject({ url: '/wire-auth.js', headers: { 'if-none-match': etag } })
    expect(again.statusCode).toBe(304)
    expect(again.body).toBe('')
    const listed = await app.inject({ url: '/wire-auth.js', headers: { 'if-none-match': `"other", ${etag}` } })
    expect(listed.statusCode).toBe(304)
    const stale = await app.inject({ url: '/wire-auth.js', headers: { 'if-none-match': '"stale"' } })
    expect(stale.statusCode).toBe(200)

    const map = await app.inject({ url: '/wire-auth.js.map' })
    expect(map.statusCode).toBe(200)
    expect(map.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(map.json().version).toBe(3)
  })

  it('reads the file once: a later change on disk is not served (cached in memory)', async () => {
    const file = join(dir.dir, 'wire-auth.js')
    writeFileSync(file, 'first\n')
    app = bareApp()
    expect((await app.inject({ url: '/wire-auth.js' })).body).toBe('first\n')
    writeFileSync(file, 'second\n')
    expect((await app.inject({ url: '/wire-auth.js' })).body).toBe('first\n')
  })

  it('serveBundle: false mounts no route', async () => {
    app = bareApp(false)
    expect((await app.inject({ url: '/wire-auth.js' })).statusCode).toBe(404)
  })

  it('resolves the bundle of packages/elements by default and serves it through the plugin', async () => {
    const expected = fileURLToPath(new URL('../../elements/dist/', import.meta.url))
    expect(bundleDirectory()).toBe(expected)
    app = await buildApp({ sqlitePath: join(dir.dir, 'auth.sqlite') })
    const response = await app.inject({ url: '/wire-auth.js' })
    if (existsSync(join(expected, 'wire-auth.js'))) {
      expect(response.statusCode).toBe(200)
      expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8')
    } else {
      expect(response.statusCode).toBe(503)
      expect(response.json().error.code).toBe('ERR_BUNDLE_NOT_BUILT')
    }
  })
})
