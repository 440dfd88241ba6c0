import { hkdfSync } from 'node:crypto'
import { CompactEncrypt, compactDecrypt } from 'jose'

/**
 * Encrypts and authenticates short-lived cookie values (the OIDC login
 * state: PKCE verifier, nonce, state, returnTo). Signing alone (the
 * {@link CookieSigner}) would leave them readable by anyone who sees the
 * cookie — a proxy log, a browser extension, a shared machine (F12).
 * @internal
 */
export interface CookieSealer {
  /** A compact JWE (`dir`, `A256GCM`) of `plaintext`. */
  seal(plaintext: string): Promise<string>
  /** The plaintext, or null when the value is not one this sealer made (forged, edited, other key, malformed). */
  open(sealed: unknown): Promise<string | null>
}

/** Longest sealed value {@link CookieSealer.open} looks at (a cookie is at most ~4 KiB). */
const MAX_SEALED_LENGTH = 8192

/**
 * A {@link CookieSealer} with a 256-bit key derived (HKDF-SHA256) from the
 * cookie secret and `purpose`, so one secret yields independent keys for
 * signing and for each sealed cookie. The JWE is jose's compact
 * serialisation with direct AES-256-GCM: a well-reviewed format rather than
 * framing of our own. Pure: no Fastify, no I/O.
 * @internal
 */
export function createCookieSealer(secret: Buffer, purpose: string): CookieSealer {
  if (secret.length < 32) throw new TypeError('cookie secret must be at least 32 bytes')
  const key = new Uint8Array(hkdfSync('sha256', secret, 'wire-auth cookie sealer', purpose, 32))
  return {
    async seal(plaintext) {
      return new CompactEncrypt(new TextEncoder().encode(plaintext)).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(key)
    },
    async open(sealed) {
      if (typeof sealed !== 'string' || sealed.length === 0 || sealed.length > MAX_SEALED_LENGTH) return null
      try {
        const { plaintext } = await compactDecrypt(sealed, key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] })
        return new TextDecoder('utf-8', { fatal: true }).decode(plaintext)
      } catch {
        return null
      }
    },
  }
}
