import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, beforeEach, vi } from 'vitest'
import { connectAuth, wireAuthErrorHandler, type WireAuthOptions } from '../../src/index.js'
import { cookieFrom as sessionCookie } from '../../../../test/support/cookies.js'

/** A temp folder removed by `cleanup()`. */
export function tempDir(prefix = 'wire-auth-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * A Fastify app with wire-auth on a real SQLite file, plus a test-only
 * sign-in route (`POST /test/sign-in/:userId`) for suites that are not about
 * a particular identity provider. `host.codedErrors` makes the host's routes
 * answer wire-auth's `{ error: { code, message } }` (wireAuthErrorHandler).
 */
export async function buildApp(options: WireAuthOptions & { sqlitePath: string }, host: { codedErrors?: boolean } = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  // The host's routes keep the host's error handler unless it opts in to wire-auth's.
  if (host.codedErrors === true) app.setErrorHandler(wireAuthErrorHandler)
  await connectAuth(app, options)
  app.post<{ Params: { userId: string } }>('/test/sign-in/:userId', { config: { wireAuth: 'public' } }, async (request, reply) => {
    await app.auth.signIn(request, reply, request.params.userId)
    return { ok: true }
  })
  return app
}

/** The server tests' name for the shared cookie helper. */
export { sessionCookie }

/** Creates a user in the app's store and signs it in; returns its id and cookie. */
export async function signedInUser(app: FastifyInstance, email = `u${Math.random().toString(36).slice(2)}@example.com`, name = 'Test User') {
  const user = await app.authStore.createUser({ email, name, passwordHash: null })
  const response = await app.inject({ method: 'POST', url: `/test/sign-in/${user.id}` })
  const cookie = sessionCookie(response)
  if (response.statusCode !== 200 || cookie === null) throw new Error(`sign-in failed: ${response.statusCode} ${response.body}`)
  return { user, cookie }
}

/**
 * For every test of the calling file: `build()` is {@link buildApp} on a
 * fresh SQLite file in a temp folder, `sqlitePath()` names such a file for an
 * app the test builds by hand and `track(app)` has that app closed too. After
 * the test every app is closed (again, if the test closed it) and the folder removed.
 */
/**
 * A fresh temp folder per test and the path of one SQLite file in it (the same
 * path for the whole test, so a test can reopen it); real timers restored and
 * the folder removed after each test.
 */
export function sqliteFilePerTest(): () => string {
  let dir: ReturnType<typeof tempDir> | null = null
  beforeEach(() => {
    dir = tempDir()
  })
  afterEach(() => {
    vi.useRealTimers()
    dir?.cleanup()
    dir = null
  })
  return () => {
    if (dir === null) throw new Error('sqliteFilePerTest: ask for the path inside a test')
    return join(dir.dir, 'auth.sqlite')
  }
}

export function appsPerTest(): {
  sqlitePath(): string
  track<T extends FastifyInstance>(app: T): T
  build(options?: WireAuthOptions, host?: { codedErrors?: boolean }): Promise<FastifyInstance>
} {
  let dir: ReturnType<typeof tempDir> | null = null
  let files = 0
  const apps: FastifyInstance[] = []
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close()
    dir?.cleanup()
    dir = null
  })
  const sqlitePath = () => join((dir ??= tempDir()).dir, `auth-${++files}.sqlite`)
  const track = <T extends FastifyInstance>(app: T): T => {
    apps.push(app)
    return app
  }
  return {
    sqlitePath,
    track,
    build: async (options = {}, host = {}) => track(await buildApp({ sqlitePath: sqlitePath(), ...options }, host)),
  }
}
