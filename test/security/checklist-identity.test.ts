// Checklist lines whose other tests work below HTTP, proven here end to end:
// 3 (enumeration: the dummy-hash path), 6 (a request in flight during logout
// never writes the session back), 10 (forged tokens over HTTP and the socket).
import { generateKeyPairSync } from 'node:crypto'
import { exportJWK, importJWK, SignJWT, decodeJwt, decodeProtectedHeader } from 'jose'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Client } from './support/live-client.js'
import { securityApp, type SecurityApp } from './support/security-app.js'

const PASSWORD = 'correct horse battery staple'

describe('checklist 3: a missing account and a wrong password look the same', () => {
  let product: SecurityApp
  beforeAll(async () => {
    product = await securityApp({ config: { localIdp: { rateLimitPerMinute: 1000 } } })
    expect((await product.app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'pat@example.com', password: PASSWORD } })).statusCode).toBe(201)
  })
  afterAll(async () => {
    await product?.close()
  })

  it('both answer 401 with the same body, and both verify one argon2id hash of the same cost (the dummy one for a missing account)', async () => {
    const passwords = product.app.localIdp!.passwords
    const verify = vi.spyOn(passwords, 'verify')
    const missing = await product.app.inject({ method: 'POST', url: '/auth/local/login', payload: { email: 'nobody@example.com', password: PASSWORD } })
    const wrong = await product.app.inject({ method: 'POST', url: '/auth/local/login', payload: { email: 'pat@example.com', password: 'not the right one at all' } })
    const malformed = await product.app.inject({ method: 'POST', url: '/auth/local/login', payload: { email: 'not an address', password: PASSWORD } })
    for (const response of [missing, wrong, malformed]) {
      expect(response.statusCode).toBe(401)
      expect(response.body).toBe(wrong.body)
      expect(Object.keys(response.headers).sort()).toEqual(Object.keys(wrong.headers).sort())
    }
    expect(verify).toHaveBeenCalledTimes(3)
    const [missingHash, wrongHash] = verify.mock.calls.map((call) => call[0])
    expect(missingHash).toBeNull()
    const dummy = await passwords.dummyHash()
    const stored = (await product.app.authStore.getUserByEmail('pat@example.com'))!.passwordHash!
    expect(wrongHash).toBe(stored)
    const cost = (hash: string) => hash.split('$')[3]
    expect(cost(dummy)).toBe(cost(stored))
    verify.mockRestore()
  })
})

describe('checklist 6: a request in flight during logout never writes the destroyed session back', () => {
  it('a request that read the session before the logout renews nothing after it (rolling renewal due on every request)', async () => {
    // The real SQLite store; one session read is held back to open the race window.
    let holdNext = false
    let entered!: () => void
    let release!: () => void
    const inside = new Promise<void>((resolve) => (entered = resolve))
    const gate = new Promise<void>((resolve) => (release = resolve))
    const product = await securityApp({
      config: { session: { touchIntervalMs: 1 } },
      wrapStore: (real) =>
        new Proxy(real, {
          get(target, key) {
            const value = Reflect.get(target, key, target) as unknown
            if (key !== 'getSession' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value
            return async (id: string) => {
              const row = await (value as (id: string) => Promise<unknown>).call(target, id)
              if (holdNext) {
                holdNext = false
                entered()
                await gate
              }
              return row
            }
          },
        }),
    })
    try {
      const { id, cookie } = await product.signedInUser('Racer')
      await new Promise((resolve) => setTimeout(resolve, 5))
      holdNext = true
      const inFlight = product.app.inject({ url: '/auth/me', headers: { cookie } })
      await inside
      expect((await product.app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } })).statusCode).toBe(204)
      expect(await product.app.authStore.listSessions(id)).toEqual([])
      release()
      await inFlight
      // The late renewal found no row to touch: the session stays gone.
      expect(await product.app.authStore.listSessions(id)).toEqual([])
      expect((await product.app.inject({ url: '/auth/me', headers: { cookie } })).json().authenticated).toBe(false)
    } finally {
      release()
      await product.close()
    }
  })
})

describe('checklist 10: forged tokens are refused over HTTP and on the socket', () => {
  let product: SecurityApp
  let real: string
  let url: string
  beforeAll(async () => {
    product = await securityApp({ config: { localIdp: { rateLimitPerMinute: 1000 } } })
    expect((await product.app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'pat@example.com', password: PASSWORD } })).statusCode).toBe(201)
    real = (await product.app.inject({ method: 'POST', url: '/auth/local/token', payload: { grant_type: 'password', username: 'pat@example.com', password: PASSWORD } })).json().access_token
    await product.app.listen({ port: 0, host: '127.0.0.1' })
    url = `ws://127.0.0.1:${(product.app.server.address() as { port: number }).port}/auth/live`
  })
  afterAll(async () => {
    await product?.close()
  })

  async function forgeries(): Promise<Record<string, string>> {
    const header = decodeProtectedHeader(real) as Record<string, unknown>
    const claims = decodeJwt(real)
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const jwks = (await product.app.inject({ url: '/.well-known/jwks.json' })).json() as { keys: Array<Record<string, unknown>> }
    const publicJwk = jwks.keys.find((k) => k.kid === header.kid)!
    const attacker = generateKeyPairSync('ed25519')
    const attackerJwk = await exportJWK(attacker.publicKey)
    const attackerKey = await importJWK(await exportJWK(attacker.privateKey), 'EdDSA')
    const sign = (protectedHeader: Record<string, unknown>, key: Parameters<SignJWT['sign']>[0], payload = claims) => new SignJWT(payload).setProtectedHeader(protectedHeader as { alg: string }).sign(key)
    return {
      'alg none': `${b64({ ...header, alg: 'none' })}.${b64(claims)}.`,
      'alg none with a signature': `${b64({ ...header, alg: 'none' })}.${b64(claims)}.${real.split('.')[2]}`,
      'HS256 keyed with our public JWK': await sign({ ...header, alg: 'HS256' }, new TextEncoder().encode(JSON.stringify(publicJwk))),
      'HS256 keyed with our public key bytes': await sign({ ...header, alg: 'HS256' }, Buffer.from(String(publicJwk.x), 'base64url')),
      'attacker key embedded as jwk': await sign({ ...header, jwk: attackerJwk }, attackerKey),
      'attacker key under our kid': await sign(header, attackerKey),
      'attacker key behind jku': await sign({ ...header, jku: 'https://evil.example/jwks.json' }, attackerKey),
      'kid path traversal': await sign({ ...header, kid: '../../etc/passwd' }, attackerKey),
      'payload swapped (admin claims), signature kept': `${real.split('.')[0]}.${b64({ ...claims, wa_claims: [['role', 'admin']] })}.${real.split('.')[2]}`,
    }
  }

  it('each forgery is anonymous on HTTP, inactive at introspection and refused by the socket; the real token works', async () => {
    const { app } = product
    expect((await app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${real}` } })).json().authenticated).toBe(true)
    for (const [what, token] of Object.entries(await forgeries())) {
      expect((await app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${token}` } })).json().authenticated, what).toBe(false)
      expect((await app.inject({ method: 'POST', url: '/auth/local/verify-token', payload: { token } })).json(), what).toEqual({ active: false })
      const socket = await Client.open(url)
      try {
        await socket.next('principal')
        socket.send({ t: 'auth', token })
        expect((await socket.next('error')).code, what).toBe('ERR_INVALID_TOKEN')
        expect(socket.messages.filter((m) => m.t === 'principal' && (m.user as { authenticated: boolean }).authenticated), what).toEqual([])
      } finally {
        socket.close()
      }
    }
  })
})
