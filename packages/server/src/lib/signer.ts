import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Signs and verifies cookie values with HMAC-SHA256 (key from
 * `options.secret` or generated once and kept in the store).
 * @internal
 */
export interface CookieSigner {
  /** `value.signature` (base64url). */
  sign(value: string): string
  /** The value when the signature matches (constant-time), else null. */
  unsign(signed: string): string | null
}

/**
 * HMAC-SHA256 cookie signer. Pure: no Fastify, no I/O.
 * @internal
 */
export function createCookieSigner(key: Buffer): CookieSigner {
  if (key.length < 32) throw new TypeError('cookie signing key must be at least 32 bytes')
  const mac = (value: string) => createHmac('sha256', key).update(value).digest()
  return {
    sign(value: string): string {
      return `${value}.${mac(value).toString('base64url')}`
    },
    unsign(signed: string): string | null {
      if (typeof signed !== 'string' || signed.length > 8192) return null
      const dot = signed.lastIndexOf('.')
      if (dot <= 0) return null
      const value = signed.slice(0, dot)
      const given = Buffer.from(signed.slice(dot + 1), 'base64url')
      const expected = mac(value)
      return given.length === expected.length && timingSafeEqual(given, expected) ? value : null
    },
  }
}
