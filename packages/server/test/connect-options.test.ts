// connectAuth refuses bad options at registration, with a coded error.
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { connectAuth } from '../src/index.js'
import { sqliteFilePerTest } from './support/app.js'

const sqlite = sqliteFilePerTest()

describe('options are checked at registration', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['allowedOrigins not an array', { allowedOrigins: 'https://a.example' }],
    ['allowedOrigins with a path', { allowedOrigins: ['https://a.example/path'] }],
    ['allowedOrigins not http(s)', { allowedOrigins: ['ftp://a.example'] }],
    ['publicUrl plain http off localhost', { publicUrl: 'http://auth.example.com' }],
    // Issue 13 C10 (regression: accepted).
    ['a plain-http allowed origin beside an https publicUrl', { publicUrl: 'https://auth.example.com', allowedOrigins: ['https://www.example.com', 'http://www.example.com'] }],
    ['a plain-http LAN origin beside an https publicUrl', { publicUrl: 'https://auth.example.com', allowedOrigins: ['http://192.168.1.10:8080'] }],
    ['idle longer than absolute', { session: { idleTimeoutMs: 10_000, absoluteTimeoutMs: 5_000 } }],
    ['argon2 below OWASP', { localIdp: { argon2: { memoryCost: 1024 } } }],
    ['sameSite none without secure', { session: { sameSite: 'none', secure: false } }],
    ['short secret', { secret: 'short' }],
  ]
  for (const [name, options] of cases) {
    it(`rejects ${name} with ERR_INVALID_OPTION quoting the option`, async () => {
      const app = Fastify()
      await expect(connectAuth(app, { sqlitePath: sqlite(), ...options })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('"options.') })
      await app.close()
    })
  }
})

describe('plain-http allowed origins beside an https backend (issue 13 C10)', () => {
  it('are accepted for loopback pages only (local development)', async () => {
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:8080', 'http://[::1]:3000', 'https://www.example.com']) {
      const app = Fastify()
      await connectAuth(app, { sqlitePath: sqlite(), publicUrl: 'https://auth.example.com', allowedOrigins: [origin] })
      await app.close()
    }
  })

  it('are accepted beside a plain-http loopback backend (nothing to downgrade)', async () => {
    const app = Fastify()
    await connectAuth(app, { sqlitePath: sqlite(), publicUrl: 'http://localhost:3000', allowedOrigins: ['http://www.example.com'] })
    await app.close()
  })
})
