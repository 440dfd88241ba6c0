// C4 of issue 13 (checklist 9, disabling a user takes effect at once): a
// password sign-in that passed its checks while an admin disables the user
// must not end with a session. The store re-checks the disabled flag in the
// transaction that inserts the session; here the race window is held open
// on the real SQLite store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuthStore, SessionRecord } from '@wire-auth/server'
import { cookieFrom, securityApp, type SecurityApp } from './support/security-app.js'

const PASSWORD = 'correct horse battery staple'
let product: SecurityApp
/** Resolves the held createSession when called; set while a race is staged. */
let hold: { reached: () => void; release: Promise<void> } | null = null

beforeAll(async () => {
  product = await securityApp({
    config: { localIdp: { rateLimitPerMinute: 1000 } },
    wrapStore: (store) =>
      new Proxy(store, {
        get(target, key, receiver) {
          if (key === 'createSession') {
            return async (session: SessionRecord) => {
              const staged = hold
              if (staged !== null) {
                hold = null
                staged.reached()
                await staged.release
              }
              return target.createSession(session)
            }
          }
          const value = Reflect.get(target, key, receiver)
          return typeof value === 'function' ? value.bind(target) : value
        },
      }) as AuthStore,
  })
})
afterAll(async () => {
  await product?.close()
})

describe('C4: a sign-in racing "disable user"', () => {
  it('never creates a session for the disabled user', async () => {
    const { app } = product
    const registered = await app.inject({ method: 'POST', url: '/auth/local/register', payload: { email: 'racer@example.com', password: PASSWORD } })
    expect(registered.statusCode).toBe(201)
    const userId = registered.json().user.id as string
    await app.auth.revokeAllSessions(userId)

    let reached!: () => void
    const atInsert = new Promise<void>((resolve) => (reached = resolve))
    let release!: () => void
    hold = { reached, release: new Promise<void>((resolve) => (release = resolve)) }
    // The password is right and the user enabled: the login is past every check when it reaches the insert.
    const login = app.inject({ method: 'POST', url: '/auth/local/login', payload: { email: 'racer@example.com', password: PASSWORD } })
    await atInsert
    await app.auth.setDisabled(userId, true)
    release()
    const response = await login

    expect(await app.authStore.listSessions(userId)).toEqual([])
    expect(response.statusCode).toBe(401)
    expect(response.json().error.code).toBe('ERR_INVALID_CREDENTIALS')
    const cookie = cookieFrom(response)
    if (cookie !== null) expect((await app.inject({ url: '/auth/me', headers: { cookie } })).json().authenticated).toBe(false)
    const failures = await app.authStore.listAudit({ userId, action: 'login.failure' })
    expect(failures[0]).toMatchObject({ detail: expect.objectContaining({ reason: 'disabled' }) })
  })
})
