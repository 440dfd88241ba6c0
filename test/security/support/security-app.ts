import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { createServer, OidcProvider, SqliteAuthStore, type AuthStore, type ServerConfig } from '@wire-auth/server'
import { registerDemoApi } from '../../../demo/lib/api.mjs'
import { canReadDocument } from '../../../demo/lib/documents.mjs'
import { registerDemoFragments } from '../../../demo/lib/fragments.mjs'
import { cookieFrom } from '../../support/cookies.js'
import { routeTable, type RouteInfo } from './route-table.js'

/** The page origin every test calls from (in `allowedOrigins`). */
export const SITE = 'https://www.example.com'
/** The backend's public URL (plain-http localhost: cookies are not Secure, named `wa_sid`). */
export const BACKEND = 'http://localhost:3000'
/** The cookie-signing secret of every security app (tests open the OIDC login cookie with it). */
export const SECRET = randomBytes(32).toString('base64url')
export const DEMO_PUBLIC = fileURLToPath(new URL('../../../demo/public', import.meta.url))

/** The resource server the security tests introspect as (sees every claim type they use, and names). */
export const SECURITY_RESOURCE_SERVER = { id: 'security-tests', secret: 'security-tests-introspection-secret-0123456789', claimTypes: ['role', 'plan', 'document', 'beta'], name: true }

/** Headers of `POST /auth/local/verify-token` as {@link SECURITY_RESOURCE_SERVER}. */
export const INTROSPECTION_HEADERS = { authorization: `Basic ${Buffer.from(`${SECURITY_RESOURCE_SERVER.id}:${SECURITY_RESOURCE_SERVER.secret}`).toString('base64')}` }

/** Options of {@link securityApp}. */
export interface SecurityAppOptions {
  /** Plugin / server options merged over the defaults. */
  config?: Partial<ServerConfig>
  /** Adds the test-only routes (`POST /test/sign-in/:userId`, …). Default true. */
  testRoutes?: boolean
  /** Wraps the real SQLite store (to hold a call back and open a race window). */
  wrapStore?: (store: SqliteAuthStore) => AuthStore
}

/** A fully featured wire-auth backend on a real SQLite file. */
export interface SecurityApp {
  app: FastifyInstance
  /** The route table, read once the app was ready. */
  routes: RouteInfo[]
  sqlitePath: string
  /** Signs a user in through the test route; returns the `wa_sid=…` cookie pair. */
  signIn(userId: string): Promise<string>
  /** Creates a user without a password and signs it in. */
  signedInUser(name?: string): Promise<{ id: string; cookie: string }>
  close(): Promise<void>
}

export { cookieFrom }

/**
 * The product as a site runs it: `createServer` with the local IdP, an
 * OpenID provider (on a closed port unless `config.providers` says
 * otherwise), the demo's static site, fragments, policies and JSON routes,
 * on a real SQLite file in a temp folder.
 */
export async function securityApp(options: SecurityAppOptions = {}): Promise<SecurityApp> {
  const dir = mkdtempSync(join(tmpdir(), 'wire-auth-security-'))
  const sqlitePath = join(dir, 'auth.sqlite')
  const table = routeTable()
  const testRoutes = options.testRoutes ?? true
  let app: FastifyInstance
  try {
    app = await createServer({
      sqlitePath,
      ...(options.wrapStore === undefined ? {} : { store: options.wrapStore(new SqliteAuthStore(sqlitePath)) }),
      publicUrl: BACKEND,
      allowedOrigins: [SITE],
      secret: SECRET,
      loginUrl: '/login',
      providers: [new OidcProvider({ name: 'demo', issuer: 'http://127.0.0.1:9', clientId: 'c', clientSecret: 's', allowInsecureRequests: true, timeoutMs: 1000 })],
      policies: { AdminOnly: { requiresClaim: ['role', 'admin'] }, CanReadDocument: canReadDocument },
      staticRoot: DEMO_PUBLIC,
      // Mounted so the route table reviews the passkey routes too.
      passkeys: true,
      ...options.config,
      // The password grant is opt-in (RFC 9700); the security tests use it to get tokens quickly,
      // and introspect as SECURITY_RESOURCE_SERVER. A test's own localIdp options are merged over these.
      localIdp: { grants: ['authorization_code', 'refresh_token', 'password'], resourceServers: [SECURITY_RESOURCE_SERVER], ...(typeof options.config?.localIdp === 'object' ? options.config.localIdp : {}) },
      fastify: { logger: false, ...options.config?.fastify, routerOptions: table.routerOptions },
      async setup(app, engine) {
        registerDemoFragments(app)
        registerDemoApi(app)
        if (testRoutes) {
          app.post<{ Params: { userId: string } }>('/test/sign-in/:userId', { config: { wireAuth: 'public' } }, async (request, reply) => {
            await app.auth.signIn(request, reply, request.params.userId)
            return { ok: true }
          })
        }
        await options.config?.setup?.(app, engine)
      },
    })
    await app.ready()
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  const signIn = async (userId: string) => {
    const response = await app.inject({ method: 'POST', url: `/test/sign-in/${userId}` })
    const cookie = cookieFrom(response)
    if (response.statusCode !== 200 || cookie === null) throw new Error(`sign-in failed: ${response.statusCode} ${response.body}`)
    return cookie
  }
  return {
    app,
    routes: table.routes(app),
    sqlitePath,
    signIn,
    async signedInUser(name = 'Test User') {
      const user = await app.authStore.createUser({ email: `u${randomBytes(6).toString('hex')}@example.com`, name, passwordHash: null })
      return { id: user.id, cookie: await signIn(user.id) }
    },
    async close() {
      await app.close().catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
