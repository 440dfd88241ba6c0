// app.requirePolicy: the preHandler for host routes (401 anonymous, 403 denied).
import { describe, expect, it } from 'vitest'
import { buildApp, signedInUser, sqliteFilePerTest } from './support/app.js'

const sqlite = sqliteFilePerTest()

describe('requirePolicy', () => {
  it('answers 401 anonymous, 403 denied, 200 allowed, with coded JSON', async () => {
    const app = await buildApp({ sqlitePath: sqlite(), policies: { AdminOnly: { requiresClaim: ['role', 'admin'] } } }, { codedErrors: true })
    app.get('/admin', { preHandler: app.requirePolicy('AdminOnly'), config: { wireAuth: 'guarded' } }, async () => ({ secret: 'admin stuff' }))
    const anonymous = await app.inject({ url: '/admin' })
    expect(anonymous.statusCode).toBe(401)
    expect(anonymous.json().error.code).toBe('ERR_UNAUTHENTICATED')
    const { user, cookie } = await signedInUser(app)
    const denied = await app.inject({ url: '/admin', headers: { cookie } })
    expect(denied.statusCode).toBe(403)
    expect(denied.json().error.code).toBe('ERR_FORBIDDEN')
    await app.auth.grantTo(user.id, 'role', 'admin')
    const allowed = await app.inject({ url: '/admin', headers: { cookie } })
    expect(allowed.statusCode).toBe(200)
    await app.close()
  })

  it('a missing policy denies (fails closed)', async () => {
    const app = await buildApp({ sqlitePath: sqlite() })
    app.get('/x', { preHandler: app.requirePolicy('NoSuchPolicy'), config: { wireAuth: 'guarded' } }, async () => 'leak')
    const { cookie } = await signedInUser(app)
    expect((await app.inject({ url: '/x', headers: { cookie } })).statusCode).toBe(403)
    await app.close()
  })

  it('a malformed spec throws at registration', async () => {
    const app = await buildApp({ sqlitePath: sqlite() })
    expect(() => app.requirePolicy({ claims: [] })).toThrow(expect.objectContaining({ code: 'ERR_GUARD_SPEC_INVALID' }))
    await app.close()
  })
})
