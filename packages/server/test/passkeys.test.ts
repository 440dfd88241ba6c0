import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { idpAppPerTest, setCookie } from './local-idp-harness.js'

// The passkey routes' refusals over HTTP (the ceremonies themselves run in
// Chromium with a virtual authenticator: test/e2e/passkeys.test.ts).
const PASSWORD = 'a long and unusual passphrase'
const FAKE = { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' } }

const idpApp = idpAppPerTest()

async function post(a: FastifyInstance, url: string, payload: unknown, cookie?: string) {
  return a.inject({ method: 'POST', url, payload: payload as object, headers: cookie ? { cookie } : {} })
}
const pk = (response: { headers: Record<string, unknown> }) => setCookie(response as never, 'wa_pk')
const both = (...cookies: Array<string | null>) => cookies.filter(Boolean).join('; ')

async function signUp(a: FastifyInstance, email: string): Promise<string> {
  return setCookie(await post(a, '/auth/local/register', { email, password: PASSWORD }))!
}

describe('passkey routes', () => {
  it('are not mounted without options.passkeys, and capabilities say so', async () => {
    const app = await idpApp.build()
    expect((await post(app, '/auth/passkeys/login/options', {})).statusCode).toBe(404)
    expect((await app.inject({ url: '/auth/account/capabilities' })).json().passkeys).toBe(false)
  })

  it('an answer without a pending ceremony, or with the cookie of another ceremony or user, is ERR_PASSKEY_INVALID', async () => {
    const app = await idpApp.build({}, { passkeys: true })
    const ada = await signUp(app, 'ada@example.com')
    const bob = await signUp(app, 'bob@example.com')
    const expectInvalid = async (url: string, cookie?: string) => {
      const response = await post(app!, url, { credential: FAKE }, cookie)
      expect(response.statusCode, url).toBe(400)
      expect(response.json().error.code, url).toBe('ERR_PASSKEY_INVALID')
    }
    await expectInvalid('/auth/passkeys/login/verify')
    await expectInvalid('/auth/passkeys/register/verify', ada)
    // A sign-in challenge does not register; a registration challenge does not sign in.
    const login = pk(await post(app, '/auth/passkeys/login/options', {}))
    await expectInvalid('/auth/passkeys/register/verify', both(ada, login))
    const adaRegister = pk(await post(app, '/auth/passkeys/register/options', {}, ada))
    await expectInvalid('/auth/passkeys/login/verify', adaRegister)
    // Ada's registration challenge does not register a passkey for Bob.
    await expectInvalid('/auth/passkeys/register/verify', both(bob, adaRegister))
    // A forged or edited challenge cookie.
    await expectInvalid('/auth/passkeys/login/verify', `wa_pk=${'c1.login.-.9999999999999.' + 'A'.repeat(43)}.sig`)
    // A valid challenge with a credential the store does not know.
    await expectInvalid('/auth/passkeys/login/verify', pk(await post(app, '/auth/passkeys/login/options', {})))
    expect((await app.authStore.listAudit({ action: 'login.failure' })).some((a) => a.detail.via === 'passkey')).toBe(true)
  })

  it('options: discoverable credentials, user verification, the RP of publicUrl, the challenge cookie HttpOnly and strict', async () => {
    const app = await idpApp.build({}, { passkeys: true })
    const ada = await signUp(app, 'ada@example.com')
    const response = await post(app, '/auth/passkeys/register/options', {}, ada)
    const options = response.json()
    expect(options.rp).toEqual({ name: 'localhost', id: 'localhost' })
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required' })
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const cookie = String(response.headers['set-cookie'])
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Strict/i)
    const login = (await post(app, '/auth/passkeys/login/options', {})).json()
    expect(login).toMatchObject({ rpId: 'localhost', userVerification: 'required' })
    expect(login.allowCredentials ?? []).toEqual([])
  })

  it('signed-in routes refuse strangers; malformed bodies are ERR_VALIDATION, never a crash', async () => {
    const app = await idpApp.build({}, { passkeys: true })
    for (const [method, url] of [['GET', '/auth/passkeys'], ['POST', '/auth/passkeys/register/options'], ['POST', '/auth/passkeys/x/delete']] as const) {
      const response = await app.inject({ method, url, ...(method === 'POST' ? { payload: {} } : {}) })
      expect(response.json().error.code, url).toBe('ERR_UNAUTHENTICATED')
    }
    const ada = await signUp(app, 'ada@example.com')
    for (const body of [{}, { credential: 'x' }, { credential: { id: 1 } }, { credential: FAKE, name: '' }, { credential: FAKE, name: 'x'.repeat(65) }]) {
      const response = await post(app, '/auth/passkeys/register/verify', body, ada)
      expect(response.statusCode, JSON.stringify(body)).toBe(400)
      expect(response.json().error.code, JSON.stringify(body)).toBe('ERR_VALIDATION')
    }
    expect((await post(app, '/auth/passkeys/nope/rename', { name: 'x' }, ada)).json().error.code).toBe('ERR_PASSKEY_NOT_FOUND')
  })

  it('options.passkeys is checked at registration (ERR_INVALID_OPTION)', async () => {
    for (const passkeys of [{ rpID: 'evil.example' }, { rpName: '' }, { rpId: 'localhost' }, 'yes']) {
      await expect(idpApp.build({}, { passkeys: passkeys as never }), JSON.stringify(passkeys)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' })
    }
  })
})
