import type { ServerResponse } from 'node:http'
import helmet, { type HelmetOptions } from 'helmet'

/** A header helmet sets (value) or removes (null). @internal */
export type HeaderChange = readonly [name: string, value: string | string[] | null]

/**
 * Runs helmet once against a recording response and returns the headers it
 * sets. Our configuration is static (no per-request nonces), so the result is
 * the same for every request: applying it is a loop of `setHeader` instead of
 * rebuilding helmet (and re-parsing the CSP) on each request, which is what
 * `@fastify/helmet` does.
 * @internal
 */
export function staticSecurityHeaders(options: Readonly<HelmetOptions>): HeaderChange[] {
  const changes = new Map<string, string | string[] | null>()
  const recorder = {
    setHeader(name: string, value: string | string[]) {
      changes.set(name.toLowerCase(), value)
      return recorder
    },
    removeHeader(name: string) {
      changes.set(name.toLowerCase(), null)
    },
    getHeader: () => undefined,
  }
  let failure: unknown
  helmet(options)({} as never, recorder as unknown as ServerResponse, (err?: unknown) => {
    failure = err
  })
  if (failure !== undefined) throw failure
  return [...changes]
}

/** Applies {@link staticSecurityHeaders} output to a response. @internal */
export function applySecurityHeaders(res: ServerResponse, changes: readonly HeaderChange[]): void {
  for (const [name, value] of changes) {
    if (value === null) res.removeHeader(name)
    else res.setHeader(name, value)
  }
}
