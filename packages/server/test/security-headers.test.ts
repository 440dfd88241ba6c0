import fastifyHelmet from '@fastify/helmet'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { applySecurityHeaders, staticSecurityHeaders } from '../src/lib/security-headers.js'

const config = {
  crossOriginResourcePolicy: { policy: 'cross-origin' as const },
  contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], connectSrc: ["'self'", 'https://www.example.com'] } },
}

describe('security headers computed once', () => {
  it('set exactly the headers @fastify/helmet sets per request with the same configuration', async () => {
    const reference = Fastify()
    await reference.register(fastifyHelmet, config)
    reference.get('/', async () => 'ok')
    const ours = Fastify()
    const headers = staticSecurityHeaders(config)
    ours.addHook('onRequest', (_request, reply, done) => {
      applySecurityHeaders(reply.raw, headers)
      done()
    })
    ours.get('/', async () => 'ok')
    const pick = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => !['date', 'content-length', 'connection', 'keep-alive'].includes(k)))
    const expected = pick((await reference.inject({ url: '/' })).headers)
    const actual = pick((await ours.inject({ url: '/' })).headers)
    expect(actual).toEqual(expected)
    expect(actual['content-security-policy']).toMatch(/connect-src 'self' https:\/\/www\.example\.com/)
    await reference.close()
    await ours.close()
  })
})
