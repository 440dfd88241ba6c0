// What an OpenID provider asserts, at the boundary (issue 13, identity side):
// F9 — control characters in names and claim values are stripped before
// anything stores, renders or logs them (checklist 30); C11 — the verified
// e-mail is canonicalised like a local account's and the issuer is recorded
// with the claims it asserted; C1 — a custom mapping owns declared types, so
// a group removed at the provider loses its role at the next login.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectAuth, OidcProvider } from '../src/index.js'
import { driveProviderLogin, TestBrowser } from '../../../test/support/oidc-provider-browser.mjs'
import { listenOnFreePort, startOidcProvider, type TestOidcProvider } from '../../../test/support/oidc-provider.mjs'
import { tempDir } from './support/app.js'

const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u
const HOSTILE_NAME = 'Mal\u001b[2J\u001b]0;pwned\u0007lory\r\n\u009b31m\u202egnp.exe'

let dir: ReturnType<typeof tempDir>
let backendUrl: string
let app: FastifyInstance
let op: TestOidcProvider

beforeAll(async () => {
  dir = tempDir('wire-auth-oidc-hygiene-')
  const backend = await listenOnFreePort()
  backendUrl = backend.url
  op = await startOidcProvider({
    redirectUris: [`${backendUrl}/auth/corp/callback`],
    accounts: {
      mallory: { email: ' Mallory@Example.TEST ', email_verified: true, name: HOSTILE_NAME, groups: ['admins', 'ops\u001b[31m'] },
    },
    // Release `groups` with the profile scope, as an enterprise provider does.
    configuration: {
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username', 'groups'] },
    },
  })
  app = Fastify({ logger: false, serverFactory: (handler) => backend.server.on('request', handler) })
  await connectAuth(app, {
    publicUrl: backendUrl,
    sqlitePath: join(dir.dir, 'auth.sqlite'),
    secret: randomBytes(32).toString('base64url'),
    providers: [
      new OidcProvider({
        name: 'corp',
        issuer: op.issuer,
        clientId: op.clientId,
        clientSecret: op.clientSecret,
        allowInsecureRequests: true,
        mapClaims: (c) => ({ email: c.email, email_verified: c.email_verified, name: c.name, role: c.groups }),
        claimTypes: ['email', 'email_verified', 'name', 'role'],
      }),
    ],
  })
  await app.ready()
})
afterAll(async () => {
  await app?.close()
  await op?.close()
  dir?.cleanup()
})

async function signIn(): Promise<string> {
  const browser = new TestBrowser()
  const { callbackUrl } = await driveProviderLogin(browser, `${backendUrl}/auth/corp/login`, { login: 'mallory' })
  const landing = await browser.request(callbackUrl)
  expect(landing.status).toBe(302)
  const me = (await (await browser.request(`${backendUrl}/auth/me`)).json()) as { authenticated: boolean; id: string; name: string }
  expect(me.authenticated).toBe(true)
  expect(me.name).not.toMatch(RAW_CONTROL)
  return me.id
}

describe('provider claims at the boundary', () => {
  it('control characters in a provider name and claim values are stripped before they are stored (F9)', async () => {
    const id = await signIn()
    const user = (await app.authStore.getUser(id))!
    expect(user.name).not.toMatch(RAW_CONTROL)
    expect(user.name).toBe('Mal[2J]0;pwnedlory  31mgnp.exe')
    for (const claim of user.claims) expect(claim.value, claim.type).not.toMatch(RAW_CONTROL)
    expect(user.claims).toContainEqual({ type: 'role', value: 'ops[31m' })
  })

  it('the verified e-mail is canonicalised like a local one, and the issuer is recorded with the provider claims (C11)', async () => {
    const id = await signIn()
    const user = (await app.authStore.getUser(id))!
    expect(user.email).toBe('mallory@example.test')
    expect(user.claims).toContainEqual({ type: 'email', value: 'mallory@example.test' })
    expect(user.claims).toContainEqual({ type: 'iss', value: op.issuer })
    // A local account cannot be registered beside it under a case variant.
    expect(await app.authStore.getUserByEmail('mallory@example.test')).toMatchObject({ id })
  })

  it('a group removed at the provider loses its role at the next login (C1: the mapping owns declared types)', async () => {
    const id = await signIn()
    expect((await app.authStore.getUser(id))!.claims.filter((c) => c.type === 'role').map((c) => c.value).sort()).toEqual(['admins', 'ops[31m'])
    op.setAccount('mallory', { email: 'mallory@example.test', email_verified: true, name: 'Mallory', groups: [] })
    expect(await signIn()).toBe(id)
    const after = (await app.authStore.getUser(id))!
    expect(after.claims.filter((c) => c.type === 'role')).toEqual([])
    expect(after.name).toBe('Mal[2J]0;pwnedlory  31mgnp.exe')
  })
})

describe('the OpenID login-state cookie (F12)', () => {
  it('is host-locked (__Host-, Secure, Path=/, no Domain) and encrypted when cookies are secure', async () => {
    const secureApp = Fastify({ logger: false })
    const secret = randomBytes(32).toString('base64url')
    await connectAuth(secureApp, {
      publicUrl: 'https://auth.example.test',
      sqlitePath: join(dir.dir, 'secure.sqlite'),
      secret,
      providers: [new OidcProvider({ name: 'corp', issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret, allowInsecureRequests: true })],
    })
    try {
      const response = await secureApp.inject({ url: '/auth/corp/login?returnTo=/account' })
      expect(response.statusCode).toBe(302)
      const location = new URL(String(response.headers.location))
      const lines = ([] as string[]).concat(response.headers['set-cookie'] ?? [])
      const line = lines.find((l) => l.startsWith('__Host-wa_oidc_corp='))
      expect(line, lines.join('\n')).toBeDefined()
      expect(line).toMatch(/; Path=\/(;|$)/)
      expect(line).toMatch(/; Secure/i)
      expect(line).toMatch(/; HttpOnly/i)
      expect(line).toMatch(/; SameSite=Lax/i)
      expect(line).not.toMatch(/Domain=/i)
      // Nothing of the login is readable in the cookie: not the state, the nonce sent to the provider, nor returnTo.
      const value = decodeURIComponent(line!.split(';')[0]!.slice('__Host-wa_oidc_corp='.length))
      const visible = value.split('.').map((part) => Buffer.from(part, 'base64url').toString('latin1')).join(' ')
      for (const secretPart of [location.searchParams.get('state')!, location.searchParams.get('nonce')!, '/account']) {
        expect(value).not.toContain(secretPart)
        expect(visible).not.toContain(secretPart)
      }
    } finally {
      await secureApp.close()
    }
  })
})
