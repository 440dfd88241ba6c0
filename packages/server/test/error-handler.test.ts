// wire-auth's error handler: coded JSON bodies, statuses from the table.
import { describe, expect, it } from 'vitest'
import { buildApp, signedInUser, sqliteFilePerTest } from './support/app.js'

const sqlite = sqliteFilePerTest()

describe('errors', () => {
  it('malformed JSON, wrong media types and unexpected throws answer coded JSON without internals (host opted in)', async () => {
    const app = await buildApp({ sqlitePath: sqlite() }, { codedErrors: true })
    app.post('/echo', { config: { wireAuth: 'public' }, schema: { body: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] } } }, async (request) => request.body)
    app.get('/boom', { config: { wireAuth: 'public' } }, async () => {
      throw new Error('SELECT secret FROM users')
    })
    const badJson = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"a":' })
    expect(badJson.statusCode).toBe(400)
    expect(badJson.json().error.code).toBe('ERR_VALIDATION')
    const invalid = await app.inject({ method: 'POST', url: '/echo', payload: { b: 2 } })
    expect(invalid.statusCode).toBe(400)
    const media = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/x-evil' }, payload: 'a=1' })
    expect(media.statusCode).toBe(415)
    expect(media.json().error.code).toBe('ERR_UNSUPPORTED_MEDIA_TYPE')
    const boom = await app.inject({ url: '/boom' })
    expect(boom.statusCode).toBe(500)
    expect(boom.json()).toEqual({ error: { code: 'ERR_INTERNAL', message: 'internal error' } })
    await app.close()
  })

  it('a store that is down answers 503 ERR_STORE_UNAVAILABLE for a session request, never allow', async () => {
    const app = await buildApp({ sqlitePath: sqlite() }, { codedErrors: true })
    app.get('/private', { preHandler: app.requirePolicy(), config: { wireAuth: 'guarded' } }, async () => 'private')
    const { cookie } = await signedInUser(app)
    await app.authStore.close()
    const response = await app.inject({ url: '/private', headers: { cookie } })
    expect(response.statusCode).toBe(503)
    expect(response.json().error.code).toBe('ERR_STORE_UNAVAILABLE')
    expect(response.body).not.toMatch(/at .*\.ts|stack/)
    await app.close().catch(() => undefined)
  })
})
