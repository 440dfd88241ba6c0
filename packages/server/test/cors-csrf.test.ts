// CORS on wire-auth's routes and the origin check (CSRF) of unsafe requests.
import { describe, expect, it } from 'vitest'
import { buildApp, signedInUser, sqliteFilePerTest } from './support/app.js'

const sqlite = sqliteFilePerTest()

describe('CORS and CSRF', () => {
  it('only allowed origins get credentialed CORS, with Vary: Origin', async () => {
    const app = await buildApp({ sqlitePath: sqlite(), allowedOrigins: ['https://www.example.com'] })
    const allowed = await app.inject({ url: '/auth/me', headers: { origin: 'https://www.example.com' } })
    expect(allowed.headers['access-control-allow-origin']).toBe('https://www.example.com')
    expect(allowed.headers['access-control-allow-credentials']).toBe('true')
    expect(String(allowed.headers.vary)).toMatch(/Origin/i)
    for (const origin of ['https://evil.example', 'null', 'https://www.example.com.evil.example', 'http://www.example.com']) {
      const refused = await app.inject({ url: '/auth/me', headers: { origin } })
      expect(refused.headers['access-control-allow-origin']).toBeUndefined()
    }
    await app.close()
  })

  it('state-changing requests from foreign origins are refused with ERR_ORIGIN_NOT_ALLOWED', async () => {
    const app = await buildApp({ sqlitePath: sqlite(), allowedOrigins: ['https://www.example.com'] })
    const { cookie } = await signedInUser(app)
    const foreign = await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie, origin: 'https://evil.example' } })
    expect(foreign.statusCode).toBe(403)
    expect(foreign.json().error.code).toBe('ERR_ORIGIN_NOT_ALLOWED')
    const crossSite = await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie, 'sec-fetch-site': 'cross-site' } })
    expect(crossSite.statusCode).toBe(403)
    expect((await app.inject({ url: '/auth/me', headers: { cookie } })).json().authenticated).toBe(true)
    const allowed = await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie, origin: 'https://www.example.com' } })
    expect(allowed.statusCode).toBe(204)
    await app.close()
  })
})
