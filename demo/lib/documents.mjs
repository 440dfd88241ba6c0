// The demo's "resources": handbook pages, each readable by a different
// audience. The home page lists every title (public) and asks the server for
// each body through one <wire-auth-region> per item; the CanReadDocument
// policy decides per item from the region's `params` (resource-based
// authorization, evaluated on the server only).

const isAdmin = (user) => user.hasClaim('role', 'admin')

/** @type {ReadonlyMap<string, { title: string, audience: string, canRead: (user: import('@wire-auth/server').ClaimsPrincipal) => boolean, body: string }>} */
export const DOCUMENTS = new Map([
  ['welcome', {
    title: 'Welcome guide',
    audience: 'everyone who is signed in',
    canRead: (user) => user.isAuthenticated,
    body: 'Coffee is on the second floor, stand-up is at 9:30, and the wiki password is not "password" any more.',
  }],
  ['beta-roadmap', {
    title: 'Beta roadmap',
    audience: 'beta testers (role=beta)',
    canRead: (user) => user.hasClaim('role', 'beta') || isAdmin(user),
    body: 'Q3: live dashboards. Q4: offline mode. Tell us what breaks: beta@example.com.',
  }],
  ['on-call', {
    title: 'On-call runbook',
    audience: 'engineers (team=eng)',
    canRead: (user) => user.hasClaim('team', 'eng') || isAdmin(user),
    body: 'Page the secondary after 15 minutes. Roll back first, debug second.',
  }],
  ['board-minutes', {
    title: 'Board minutes',
    audience: 'admins (role=admin)',
    canRead: isAdmin,
    body: 'The board approved the budget for two more engineers and a better coffee machine.',
  }],
])

/**
 * Policy `CanReadDocument`: `params.docId` comes from the browser, so it is
 * checked like any untrusted input; an unknown document denies.
 * @type {import('@wire-auth/server').PolicyRequirement}
 */
export function canReadDocument(user, { params }) {
  const id = params.docId
  if (typeof id !== 'string') return false
  const doc = DOCUMENTS.get(id)
  return doc !== undefined && doc.canRead(user)
}
