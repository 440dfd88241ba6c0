/** What {@link guardLocation} needs. @internal */
export interface GuardLocationDeps {
  /** A safe redirect target for `value`, or null (ctx.safeRedirect: core's resolveSafeRedirect). */
  safeRedirect(value: unknown): string | null
  /** Login URL for denied guards without an acceptable redirect. */
  loginUrl: string
}

/**
 * Where a denied guard sends the visitor: the first of `redirects` that the
 * redirect check accepts, else the login URL with `returnTo` when that passes
 * the check too. One rule for element guards, page guards and host routes.
 * @internal
 */
export function guardLocation(deps: GuardLocationDeps, redirects: ReadonlyArray<string | undefined>, returnTo: string | undefined): string {
  for (const candidate of redirects) {
    if (candidate === undefined) continue
    const chosen = deps.safeRedirect(candidate)
    if (chosen !== null) return chosen
  }
  const back = returnTo === undefined ? null : deps.safeRedirect(returnTo)
  if (back === null) return deps.loginUrl
  return `${deps.loginUrl}${deps.loginUrl.includes('?') ? '&' : '?'}returnTo=${encodeURIComponent(back)}`
}
