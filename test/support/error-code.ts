import { isWireAuthError } from '@wire-auth/core'

/**
 * The wire-auth code of an error body in either of its two shapes: `{ error:
 * { code, message } }` everywhere, and RFC 6749 §5.2 `{ error, error_description,
 * code }` on the token, revocation, introspection and authorization endpoints.
 */
export function errorCode(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined
  const b = body as { error?: unknown; code?: unknown }
  if (typeof b.error === 'string') return typeof b.code === 'string' ? b.code : undefined
  const inner = b.error as { code?: unknown } | undefined
  return typeof inner?.code === 'string' ? inner.code : undefined
}

/** The message of an error body in either shape (see {@link errorCode}). */
export function errorMessage(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined
  const b = body as { error?: unknown; error_description?: unknown }
  if (typeof b.error === 'string') return typeof b.error_description === 'string' ? b.error_description : undefined
  const inner = b.error as { message?: unknown } | undefined
  return typeof inner?.message === 'string' ? inner.message : undefined
}

/**
 * The `code` of the wire-auth error `fn` throws; any other thrown value as it
 * is (so a failing assertion shows it); `'no error thrown'` when `fn` returns.
 */
export function thrownCode(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return isWireAuthError(err) ? err.code : err
  }
  return 'no error thrown'
}
