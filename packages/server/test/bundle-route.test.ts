import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { bundleInfo } from '../src/lib/bundle-info.js'
import { bundleDirectory, registerBundleRoute } from '../src/lib/bundle-route.js'
import type { AuthContext } from '../src/lib/context.js'
import { installErrorHandler } from '../src/lib/error-handler.js'
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

function bareApp(serveBundle = true, version?: string): FastifyInstance {
  const instance = Fastify({ logger: false })
  // As in wire-auth's scope: the error handler answers the route's coded errors.
  installErrorHandler(instance)
  registerBundleRoute(instance, { options: { serveBundle }, log: instance.log } as unknown as AuthContext, { directory: dir.dir, version })
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

// Skipped only without a build of the elements bundle: `npm test` always builds first.
const built = existsSync(join(bundleDirectory(), 'wire-auth.js'))

describe('GET /wire-auth@<version>.js (the versioned, pinnable URL)', () => {
  it('serves the same bytes as /wire-auth.js with immutable caching; another version is 404', async () => {
    writeFileSync(join(dir.dir, 'wire-auth.js'), 'console.log("v1")\n')
    app = bareApp(true, '1.2.3')
    const plain = await app.inject({ url: '/wire-auth.js' })
    const pinned = await app.inject({ url: '/wire-auth@1.2.3.js' })
    expect(pinned.statusCode).toBe(200)
    expect(pinned.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(pinned.body).toBe(plain.body)
    expect(pinned.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(plain.headers['cache-control']).toMatch(/must-revalidate/)
    expect((await app.inject({ url: '/wire-auth@1.2.4.js' })).statusCode).toBe(404)
  })

  it('serves the UI module at /wire-auth-ui@<version>.js too (what the versioned bundle imports), immutable', async () => {
    writeFileSync(join(dir.dir, 'wire-auth-ui.js'), 'export function start() {}\n')
    app = bareApp(true, '1.2.3')
    const plain = await app.inject({ url: '/wire-auth-ui.js' })
    const pinned = await app.inject({ url: '/wire-auth-ui@1.2.3.js' })
    expect(pinned.statusCode).toBe(200)
    expect(pinned.body).toBe(plain.body)
    expect(pinned.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect((await app.inject({ url: '/wire-auth-ui@1.2.4.js' })).statusCode).toBe(404)
  })

  it('serves the lazily loaded token and passkey modules plain and versioned (the base bundle imports them on first use)', async () => {
    for (const name of ['tokens', 'webauthn']) {
      writeFileSync(join(dir.dir, `wire-auth-${name}.js`), `export const name = '${name}'\n`)
      writeFileSync(join(dir.dir, `wire-auth-${name}.js.map`), '{}')
    }
    app = bareApp(true, '1.2.3')
    for (const name of ['tokens', 'webauthn']) {
      const plain = await app.inject({ url: `/wire-auth-${name}.js` })
      const pinned = await app.inject({ url: `/wire-auth-${name}@1.2.3.js` })
      expect(plain.statusCode, name).toBe(200)
      expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8')
      expect(pinned.body).toBe(plain.body)
      expect(pinned.headers['cache-control']).toBe('public, max-age=31536000, immutable')
      expect((await app.inject({ url: `/wire-auth-${name}.js.map` })).statusCode).toBe(200)
      expect((await app.inject({ url: `/wire-auth-${name}@1.2.4.js` })).statusCode).toBe(404)
    }
  })

  it.skipIf(!built)('takes the version from @wire-auth/elements, and bundleInfo().integrity is the SRI hash of the served bytes', async () => {
    const elements = JSON.parse(readFileSync(new URL('../../elements/package.json', import.meta.url), 'utf8')) as { version: string }
    app = await buildApp({ sqlitePath: join(dir.dir, 'auth.sqlite') })
    const info = bundleInfo()
    expect(info.version).toBe(elements.version)
    expect(info.path).toBe(`/wire-auth@${elements.version}.js`)
    const served = await app.inject({ url: info.path })
    expect(served.statusCode).toBe(200)
    expect(info.integrity).toBe(`sha384-${createHash('sha384').update(served.rawPayload).digest('base64')}`)
    expect(info.bytes).toBe(served.rawPayload.length)
    // The build's own record agrees with the bytes served.
    const recorded = JSON.parse(readFileSync(join(bundleDirectory(), 'bundle-info.json'), 'utf8')) as { integrity: string; path: string }
    expect(recorded).toMatchObject({ integrity: info.integrity, path: info.path })
    // And the UI module's, served at its own versioned path.
    expect(info.ui?.path).toBe(`/wire-auth-ui@${elements.version}.js`)
    const ui = await app.inject({ url: info.ui!.path })
    expect(ui.statusCode).toBe(200)
    expect(info.ui!.integrity).toBe(`sha384-${createHash('sha384').update(ui.rawPayload).digest('base64')}`)
    expect(recorded).toMatchObject({ ui: info.ui })
    // The token helpers and the passkey ceremony, which the bundle loads on first use.
    for (const name of ['tokens', 'webauthn'] as const) {
      expect(info[name]?.path).toBe(`/wire-auth-${name}@${elements.version}.js`)
      const module = await app.inject({ url: info[name]!.path })
      expect(module.statusCode).toBe(200)
      expect(info[name]!.integrity).toBe(`sha384-${createHash('sha384').update(module.rawPayload).digest('base64')}`)
      expect(recorded).toMatchObject({ [name]: info[name] })
    }
  })

  it.skipIf(!built)('keeps the licence comments of Lit in the minified bundle', () => {
    const text = readFileSync(join(bundleDirectory(), 'wire-auth.js'), 'utf8')
    expect(text).toMatch(/@license/)
    expect(text).toMatch(/SPDX-License-Identifier: BSD-3-Clause/)
  })
})

describe('GET /wire-auth.js from another origin', () => {
  it('any origin may load the public bundle (ACAO *, no credentials)', async () => {
    writeFileSync(join(dir.dir, 'wire-auth.js'), 'console.log("public")\n')
    app = bareApp()
    const foreign = await app.inject({ url: '/wire-auth.js', headers: { origin: 'https://elsewhere.example' } })
    expect(foreign.headers['access-control-allow-origin']).toBe('*')
    expect(foreign.headers['access-control-allow-credentials']).toBeUndefined()
  })

  it.skipIf(!built)('an allowed origin keeps the credentialed grant of the CORS hook', async () => {
    app = await buildApp({ sqlitePath: join(dir.dir, 'auth.sqlite'), allowedOrigins: ['https://www.example.com'] })
    const allowed = await app.inject({ url: '/wire-auth.js', headers: { origin: 'https://www.example.com' } })
    expect(allowed.statusCode).toBe(200)
    expect(allowed.headers['access-control-allow-origin']).toBe('https://www.example.com')
    expect(allowed.headers['access-control-allow-credentials']).toBe('true')
  })
})
