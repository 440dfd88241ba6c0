import { expect } from 'vitest'
import type { RouteInfo } from './route-table.js'

/** A concrete URL for a route pattern (path parameters filled with harmless values). */
export function sampleUrl(route: Pick<RouteInfo, 'url'>): string {
  return route.url
    .replace(':provider', 'demo')
    .replace(':name', 'hello-card')
    .replace(':sessionId', 'a'.repeat(64))
    .replace(':userId', 'no-such-user')
    .replace(':id', 'no-such-user')
    .replace('*', 'index.html')
}

/** A well-formed JSON body for each POST route of the product (valid, so only the check under test refuses it). */
export function validBody(url: string, extra: { email?: string; password?: string; token?: string } = {}): unknown {
  const email = extra.email ?? 'nobody@example.com'
  const password = extra.password ?? 'correct horse battery staple'
  if (url === '/auth/local/register' || url === '/auth/local/login') return { email, password }
  if (url === '/auth/local/token') return { grant_type: 'password', username: email, password }
  if (url === '/auth/local/verify-token' || url === '/auth/local/revoke') return { token: extra.token ?? 'x.y.z' }
  if (url === '/auth/fragments') return { regions: [{ id: 'a', fragment: 'hello-card' }] }
  if (url.startsWith('/demo/api/') && url.includes('/claims')) return { type: 'role', value: 'beta' }
  return {}
}

/** Headers every wire-auth answer carries (helmet and the CSP). */
export function expectSecurityHeaders(headers: Record<string, unknown>, what: string): void {
  const csp = String(headers['content-security-policy'] ?? '')
  expect(csp, `${what}: CSP`).toMatch(/(^|;)\s*default-src 'self'/)
  const scriptSrc = /(?:^|;)\s*script-src ([^;]*)/.exec(csp)?.[1] ?? ''
  expect(scriptSrc, `${what}: script-src`).toBe("'self'")
  expect(csp, `${what}: script-src-attr`).toMatch(/script-src-attr 'none'/)
  expect(csp, `${what}: object-src`).toMatch(/object-src 'none'/)
  expect(csp, `${what}: base-uri`).toMatch(/base-uri 'self'/)
  expect(csp, `${what}: form-action`).toMatch(/form-action 'self'/)
  expect(csp, `${what}: frame-ancestors`).toMatch(/frame-ancestors 'self'/)
  expect(headers['x-content-type-options'], `${what}: nosniff`).toBe('nosniff')
  expect(headers['referrer-policy'], `${what}: referrer-policy`).toBe('no-referrer')
  expect(headers['x-frame-options'], `${what}: x-frame-options`).toBe('SAMEORIGIN')
  expect(String(headers['strict-transport-security'] ?? ''), `${what}: HSTS`).toMatch(/max-age=\d{7,}/)
  expect(headers['cross-origin-opener-policy'], `${what}: COOP`).toBe('same-origin')
}
