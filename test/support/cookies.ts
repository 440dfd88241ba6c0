// The one cookie helper of the tests: the `name=value` pair a response set.

/** A response as light-my-request (`app.inject`) or `node:http` gives it. */
export interface WithHeaders {
  readonly headers: Readonly<Record<string, unknown>>
}

/**
 * The `name=value` pair of the first non-empty `name` cookie a response set
 * (default: the session cookie `wa_sid`), or null.
 */
export function cookieFrom(response: WithHeaders, name = 'wa_sid'): string | null {
  const header = response.headers['set-cookie']
  const lines = Array.isArray(header) ? header : typeof header === 'string' ? [header] : []
  for (const line of lines) {
    const pair = String(line).split(';')[0] ?? ''
    if (pair.startsWith(`${name}=`) && pair.length > name.length + 1) return pair
  }
  return null
}
