// A host that registered its own copy of @fastify/cookie (another version, or
// the same one installed twice) before wire-auth. wire-auth then registers no
// copy of its own (setCookie is there), so its session cookie must not depend
// on its copy having been registered (regression: @fastify/cookie 11 loads its
// codec at registration, so every session was anonymous and sign-in threw).
// Its own file: the module state of wire-auth's copy must be untouched.
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import Fastify from 'fastify'
import { afterEach, expect, it } from 'vitest'
import { connectAuth } from '../src/index.js'
import { cookieFrom } from '../../../test/support/cookies.js'
import { sqliteFilePerTest } from './support/app.js'

const sqlite = sqliteFilePerTest()
const require = createRequire(import.meta.url)
// A second copy inside node_modules, so that it resolves its own dependencies as an installed package would.
const modules = dirname(dirname(dirname(require.resolve('@fastify/cookie'))))
const copyRoot = mkdtempSync(join(modules, '.wire-auth-test-cookie-copy-'))
afterEach(() => rmSync(copyRoot, { recursive: true, force: true }))

it("a host's own copy of @fastify/cookie, registered first, leaves wire-auth's sessions working", async () => {
  const copy = join(copyRoot, 'cookie-plugin')
  cpSync(dirname(require.resolve('@fastify/cookie')), copy, { recursive: true })
  const hostCookie = (await import(pathToFileURL(join(copy, 'index.js')).href)) as { default: Parameters<ReturnType<typeof Fastify>['register']>[0] }
  const app = Fastify({ logger: false })
  await app.register(hostCookie.default)
  await connectAuth(app, { sqlitePath: sqlite(), localIdp: { allowRegistration: true } })
  app.get('/host', { config: { wireAuth: 'public' } }, async (request, reply) => reply.setCookie('theme', 'dark').send({ user: request.user.userId }))
  try {
    const registered = await app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'ada@example.com', password: 'correct horse battery staple', name: 'Ada' } })
    expect(registered.statusCode).toBe(201)
    const cookie = cookieFrom(registered)
    const me = await app.inject({ url: '/auth/me', headers: { cookie } })
    expect(me.json()).toMatchObject({ authenticated: true, name: 'Ada' })
    // The host's copy still does its job on the host's routes.
    const host = await app.inject({ url: '/host', headers: { cookie } })
    expect(host.headers['set-cookie']).toContain('theme=dark')
    expect(host.json().user).toBe(me.json().id)
    expect(host.json().user).toEqual(expect.any(String))
  } finally {
    await app.close()
  }
})
