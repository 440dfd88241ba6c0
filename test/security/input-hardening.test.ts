// Regression tests for what the fuzzing found (checklist 12, 21 and the
// issue's "wrong types, unicode edge cases … always coded 4xx"): each test
// is named after what broke.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PasswordHasher } from '../../packages/server/src/lib/local-idp/passwords.js'
import { securityApp, type SecurityApp } from './support/security-app.js'
import { storeSnapshot } from './support/store-snapshot.js'

const PASSWORD = 'correct horse battery staple'
let product: SecurityApp

beforeAll(async () => {
  product = await securityApp()
  expect((await product.app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'pat@example.com', password: PASSWORD } })).statusCode).toBe(201)
})
afterAll(async () => {
  await product?.close()
})

describe('wrong types are refused, never coerced into strings (Fastify coerces by default)', () => {
  const cases: Array<[string, unknown]> = [
    ['/auth/local/login', { email: null, password: PASSWORD }],
    ['/auth/local/login', { email: ['pat@example.com'], password: PASSWORD }],
    ['/auth/local/login', { email: 'pat@example.com', password: 12345678901 }],
    ['/auth/local/login', { email: 'pat@example.com', password: [PASSWORD] }],
    ['/auth/local/register', { email: 'new@example.com', password: PASSWORD, name: 42 }],
    ['/auth/local/register', { email: true, password: PASSWORD }],
    ['/auth/local/token', { grant_type: ['password'], username: 'pat@example.com', password: PASSWORD }],
    ['/auth/local/token', { grant_type: 'password', username: 'pat@example.com', password: null }],
    ['/auth/local/verify-token', { token: 0 }],
    ['/auth/local/revoke', { token: ['x'] }],
    ['/auth/fragments', { regions: [{ id: 'a', fragment: 'hello-card', claims: [[1, 2]] }] }],
    ['/auth/fragments', { regions: [{ id: 7, fragment: 'hello-card' }] }],
  ]
  it.each(cases)('POST %s %j → 400 ERR_VALIDATION, and nothing is written (no login failure counted)', async (url, payload) => {
    const before = storeSnapshot(product.sqlitePath)
    const response = await product.app.inject({ method: 'POST', url, payload: payload as object })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json().error.code).toBe('ERR_VALIDATION')
    expect(storeSnapshot(product.sqlitePath)).toEqual(before)
  })

  it('a repeated query parameter is refused, not collapsed (GET /auth/fragments/:name?kind=…&kind=…)', async () => {
    const response = await product.app.inject({ url: '/auth/fragments/hello-card?kind=region&kind=guard' })
    expect(response.statusCode).toBe(400)
    expect(response.json().error.code).toBe('ERR_VALIDATION')
  })
})

describe('ill-formed Unicode (lone surrogates) is refused, never stored as U+FFFD', () => {
  it('a name with a lone surrogate → 400 ERR_VALIDATION', async () => {
    const response = await product.app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'lone@example.com', password: PASSWORD, name: 'Ada \ud800' } })
    expect(response.statusCode).toBe(400)
    expect(response.json().error.code).toBe('ERR_VALIDATION')
    expect(await product.app.authStore.getUserByEmail('lone@example.com')).toBeNull()
  })

  it('a password with a lone surrogate → 400 ERR_WEAK_PASSWORD; two such passwords can never stand for each other', async () => {
    const response = await product.app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'lone2@example.com', password: `${PASSWORD} \ud800` } })
    expect(response.statusCode).toBe(400)
    expect(response.json().error.code).toBe('ERR_WEAK_PASSWORD')
    // What UTF-8 would have made of it: U+FFFD. A hash of that must not accept the ill-formed original.
    const hasher = new PasswordHasher({ memoryCost: 19456, timeCost: 2, parallelism: 1 }, { minLength: 8, maxLength: 1024 })
    const hash = await hasher.hash(`${PASSWORD} \ufffd`)
    expect(await hasher.verify(hash, `${PASSWORD} \ufffd`)).toBe(true)
    expect(await hasher.verify(hash, `${PASSWORD} \ud800`)).toBe(false)
    expect(await hasher.verify(hash, `${PASSWORD} \udfff`)).toBe(false)
  })

  it('a claim value with a lone surrogate → ERR_INVALID_CLAIM', async () => {
    const user = await product.app.authStore.createUser({ email: 'claims@example.com', name: 'C', passwordHash: null })
    await expect(product.app.auth.grantTo(user.id, 'role', 'beta\udc00')).rejects.toMatchObject({ code: 'ERR_INVALID_CLAIM' })
    expect((await product.app.authStore.getUser(user.id))!.claims).toEqual([])
  })
})

describe('answers Fastify or its plugins gave without a code', () => {
  it('GET /auth/live without an upgrade → 426 ERR_VALIDATION (was an empty 404)', async () => {
    const response = await product.app.inject({ url: '/auth/live', headers: { origin: 'https://www.example.com' } })
    expect(response.statusCode).toBe(426)
    expect(response.headers.upgrade).toBe('websocket')
    expect(response.json().error.code).toBe('ERR_VALIDATION')
  })

  it('a malformed URL → 400 ERR_VALIDATION without echoing the URL (was FST_ERR_BAD_URL with the path)', async () => {
    const response = await product.app.inject({ url: '/demo/api/users/%E0%A4%A/sessions/revoke?access_token=secret-token', method: 'POST' })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ error: { code: 'ERR_VALIDATION', message: 'the request URL is malformed' } })
    expect(response.body).not.toMatch(/secret-token|%E0/)
    expect(response.headers['x-content-type-options']).toBe('nosniff')
  })

  it('an unknown route → 404 ERR_NOT_FOUND (was Fastify\'s uncoded body)', async () => {
    const response = await product.app.inject({ url: '/no/such/route?token=secret-token' })
    expect(response.statusCode).toBe(404)
    expect(response.json()).toEqual({ error: { code: 'ERR_NOT_FOUND', message: 'no such route' } })
  })
})
