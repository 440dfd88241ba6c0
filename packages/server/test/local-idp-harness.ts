import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, beforeEach } from 'vitest'
import { connectAuth, wireAuthErrorHandler } from '../src/index.js'
import { createLocalIdp, type LocalIdp, type ResolvedLocalIdpOptions } from '../src/lib/local-idp/local-idp.js'
import { resolveOptions, type LocalIdpOptions, type WireAuthOptions } from '../src/lib/options.js'
import { SqliteAuthStore } from '../src/lib/store/sqlite-store.js'

/** A temp folder with a real SQLite file in it, its first store open; `cleanup()` closes every store and removes the folder. */
export interface TempStore {
  dir: string
  path: string
  store: SqliteAuthStore
  /** Another store on the same file (closed by `cleanup()`). */
  open(): Promise<SqliteAuthStore>
  cleanup(): Promise<void>
}

/** A temp folder with a real SQLite store in it. */
export async function tempStore(): Promise<TempStore> {
  const dir = mkdtempSync(join(tmpdir(), 'wire-auth-local-idp-'))
  const path = join(dir, 'auth.sqlite')
  const opened: SqliteAuthStore[] = []
  async function open(): Promise<SqliteAuthStore> {
    const store = new SqliteAuthStore(path)
    await store.init()
    opened.push(store)
    return store
  }
  const store = await open()
  return {
    dir,
    path,
    store,
    open,
    async cleanup() {
      for (const s of opened) await s.close().catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A frozen clock that only moves when told. */
export function frozenClock(start = Date.UTC(2030, 0, 1)): { now: () => number; advance(ms: number): void; set(ms: number): void } {
  let current = start
  return {
    now: () => current,
    advance(ms: number) {
      current += ms
    },
    set(ms: number) {
      current = ms
    },
  }
}

/** `options.localIdp` resolved the way the plugin resolves it. */
export function idpOptions(overrides: LocalIdpOptions = {}): ResolvedLocalIdpOptions {
  const resolved = resolveOptions({ localIdp: overrides }).localIdp
  if (resolved === null) throw new Error('localIdp not resolved')
  return resolved
}

/** A LocalIdp over `store`, initialised. */
export async function makeIdp(store: SqliteAuthStore, now: () => number, overrides: LocalIdpOptions = {}): Promise<LocalIdp> {
  const idp = createLocalIdp({ store, options: idpOptions(overrides), now })
  await idp.init()
  return idp
}

/** A Fastify app with wire-auth and the local IdP on a real SQLite file, plus a guarded probe route. */
export async function buildIdpApp(sqlitePath: string, localIdp: LocalIdpOptions = {}, extra: Omit<WireAuthOptions, 'localIdp' | 'sqlitePath'> = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  // The probe route is the host's: it answers coded JSON because the host opts in to wire-auth's error handler.
  app.setErrorHandler(wireAuthErrorHandler)
  // The password grant is opt-in (RFC 9700); these tests get their tokens with it unless they set .
  await connectAuth(app, { sqlitePath, localIdp: { grants: ['authorization_code', 'refresh_token', 'password'], ...localIdp }, ...extra })
  if (!app.hasDecorator('localIdp') || app.localIdp === null) throw new Error('connectAuth did not mount the local IdP')
  // A route of the host app that needs a signed-in user (session or bearer token).
  app.get('/test/whoami', { config: { wireAuth: 'guarded' }, preHandler: app.requirePolicy() }, async (request) => ({
    id: request.user.userId,
    claims: request.user.claims.map((c) => [c.type, c.value]),
    tokenUse: request.user.raw.tokenUse ?? null,
  }))
  return app
}

/**
 * Registers, for every test of the calling file, a fresh {@link tempStore} whose
 * first store is closed (the app opens its own connection to the file), and
 * after the test closes the app `build()` made and removes the folder.
 */
export function idpAppPerTest(): { readonly env: TempStore; build(localIdp?: LocalIdpOptions, extra?: Omit<WireAuthOptions, 'localIdp' | 'sqlitePath'>): Promise<FastifyInstance> } {
  let env: TempStore | null = null
  let app: FastifyInstance | null = null
  beforeEach(async () => {
    env = await tempStore()
    await env.store.close()
  })
  afterEach(async () => {
    await app?.close()
    app = null
    await env?.cleanup()
    env = null
  })
  const current = (): TempStore => {
    if (env === null) throw new Error('idpAppPerTest: used outside a test')
    return env
  }
  return {
    get env() {
      return current()
    },
    /** {@link buildIdpApp} on this test's file; the app is closed after the test. */
    async build(localIdp = {}, extra = {}) {
      app = await buildIdpApp(current().path, localIdp, extra)
      return app
    },
  }
}

/** The local IdP tests' name for the shared cookie helper. */
export { cookieFrom as setCookie } from '../../../test/support/cookies.js'
