import type { WireAuthErrorCode } from '@wire-auth/core'

/** Causes already reported in this document's console: each is said once. */
const said = new Set<string>()

/**
 * Says once in the console (per code and subject) why something cannot work
 * and how to fix it, the way Lit's dev-mode `issueWarning` does:
 * `wire-auth ERR_FRAGMENT_NOT_FOUND: … Fix: …`. The code is the same one the
 * element reflects in its `code` attribute and sends in its events.
 * @param subject what the cause is about (a fragment name, a backend origin)
 * @internal
 */
export function warnOnce(code: WireAuthErrorCode, subject: string, problem: string, fix: string, element?: Element): void {
  const key = `${code}\u0000${subject}`
  if (said.has(key)) return
  said.add(key)
  const text = `wire-auth ${code}: ${problem} Fix: ${fix}`
  if (element === undefined) console.warn(text)
  else console.warn(text, element)
}

/**
 * The warning for a denial code that means "misconfigured" rather than "not
 * allowed": an unknown fragment, a policy that is not registered, a page
 * origin the backend does not list. Other codes (a plain denial, a
 * signed-out visitor) are normal outcomes and stay silent.
 * @internal
 */
export function diagnose(code: WireAuthErrorCode, element: Element, backend: string | null): void {
  const tag = `<${element.localName}>`
  const fragment = element.getAttribute('fragment')
  const policy = element.getAttribute('policy')
  switch (code) {
    case 'ERR_FRAGMENT_NOT_FOUND':
      warnOnce(
        code,
        `${backend}\u0000${fragment}`,
        `${tag} names fragment "${fragment}", which the backend ${backend ?? ''} has not registered; the element shows its else content.`,
        `register it on the server (app.fragment('${fragment}', { policy | claims | authenticated | public: true }, render)) or correct the fragment attribute.`,
        element,
      )
      return
    case 'ERR_POLICY_NOT_FOUND':
      warnOnce(
        code,
        `${backend}\u0000${fragment}\u0000${policy}`,
        `${tag}${fragment === null ? '' : ` (fragment "${fragment}")`} needs a policy that is not registered on the backend${policy === null ? ' (named by the fragment\'s guard)' : ` ("${policy}" from the policy attribute, or the fragment's own)`}; it always denies.`,
        `register it at boot (engine.addPolicy(name, requirement) or the "policies" option) or correct the name.`,
        element,
      )
      return
    case 'ERR_ORIGIN_NOT_ALLOWED':
      warnOnce(
        code,
        `${backend}`,
        `the backend ${backend ?? ''} refuses requests from this page's origin (${element.ownerDocument.location?.origin ?? 'unknown'}); ${tag} shows its else content.`,
        `add "${element.ownerDocument.location?.origin ?? 'this origin'}" to the server's allowedOrigins option (and check its publicUrl).`,
        element,
      )
      return
    default:
  }
}

/** The warning when neither the socket nor `POST /auth/fragments` reached the backend. @internal */
export function warnUnreachable(origin: string): void {
  warnOnce(
    'ERR_BACKEND_UNREACHABLE',
    origin,
    `cannot reach the backend ${origin} (socket and POST /auth/fragments both failed); regions stay pending and retry by themselves.`,
    `check that the backend runs and answers at ${origin}, and that the script's src or the backend attribute names it.`,
  )
}
