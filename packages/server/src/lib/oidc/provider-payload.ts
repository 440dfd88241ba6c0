import type { SessionProvider } from '../store/auth-store.js'
import type { ProviderIdentity } from './oidc-provider.js'

/** Claims of the ID token that are protocol plumbing, not about the user. */
const PLUMBING = new Set(['nonce', 'at_hash', 'c_hash', 's_hash'])
/** Anything named like a credential is left out, whatever the provider put in it. */
const SECRET_NAME = /token|secret|password|credential|code_verifier/i
/** Largest payload kept per session, as JSON. */
export const MAX_PROVIDER_PAYLOAD_BYTES = 16 * 1024

/**
 * What a session keeps of an OpenID sign-in: the provider's ID-token claims
 * completed by userinfo, without nonce and hashes or anything named like a
 * token or secret. Over 16 KiB of JSON, only top-level strings, numbers and
 * booleans of at most 1 KiB are kept.
 * @internal
 */
export function providerPayload(name: string, identity: ProviderIdentity): SessionProvider {
  const claims: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(identity.claims)) {
    if (PLUMBING.has(key) || SECRET_NAME.test(key) || value === undefined) continue
    claims[key] = value
  }
  let kept = claims
  if (Buffer.byteLength(JSON.stringify(claims)) > MAX_PROVIDER_PAYLOAD_BYTES) {
    kept = {}
    for (const [key, value] of Object.entries(claims)) {
      const small = (typeof value === 'string' && value.length <= 1024) || typeof value === 'number' || typeof value === 'boolean'
      if (small) kept[key] = value
    }
  }
  return { name, issuer: identity.issuer, subject: identity.subject, claims: kept }
}
