// The demo's "resources": handbook pages, each readable by an audience that
// an admin can change on the admin page. The home page lists every title
// (public) and asks the server for each body through one <wire-auth-region>
// per item; the CanReadDocument policy decides per item from the region's
// `params` (resource-based authorization, evaluated on the server only).
// When an admin changes a document's audience, the server says so with
// app.auth.refresh(): every open tab re-evaluates that document's regions.
import { readFileSync, writeFileSync } from 'node:fs'

const isAdmin = (user) => user.hasClaim('role', 'admin')

/**
 * Who may read a document. Admins read everything.
 * @type {ReadonlyMap<string, { label: string, canRead: (user: import('@wire-auth/server').ClaimsPrincipal) => boolean }>}
 */
export const AUDIENCES = new Map([
  ['signed-in', { label: 'everyone who is signed in', canRead: (user) => user.isAuthenticated }],
  ['beta', { label: 'beta testers (role=beta)', canRead: (user) => user.hasClaim('role', 'beta') }],
  ['eng', { label: 'engineers (team=eng)', canRead: (user) => user.hasClaim('team', 'eng') }],
  ['admins', { label: 'admins (role=admin)', canRead: () => false }],
])

/** @type {ReadonlyMap<string, { title: string, audience: string, body: string }>} the documents and their default audience */
export const DOCUMENTS = new Map([
  ['welcome', { title: 'Welcome guide', audience: 'signed-in', body: 'Coffee is on the second floor, stand-up is at 9:30, and the wiki password is not "password" any more.' }],
  ['beta-roadmap', { title: 'Beta roadmap', audience: 'beta', body: 'Q3: live dashboards. Q4: offline mode. Tell us what breaks: beta@example.com.' }],
  ['on-call', { title: 'On-call runbook', audience: 'eng', body: 'Page the secondary after 15 minutes. Roll back first, debug second.' }],
  ['board-minutes', { title: 'Board minutes', audience: 'admins', body: 'The board approved the budget for two more engineers and a better coffee machine.' }],
])

/** Document id → audience key, as changed by admins (kept in a JSON file of the data folder). */
const access = new Map([...DOCUMENTS].map(([id, doc]) => [id, doc.audience]))
let accessFile = null

/** Loads the saved audiences from `file` (and saves there from now on). */
export function loadDocumentAccess(file) {
  accessFile = file
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8'))
    for (const [id, audience] of Object.entries(saved)) if (DOCUMENTS.has(id) && AUDIENCES.has(audience)) access.set(id, audience)
  } catch {
    // No file yet: the defaults above.
  }
}

/** The audience key of a document. */
export function audienceOf(docId) {
  return access.get(docId)
}

/**
 * Changes who may read a document (the caller then calls app.auth.refresh).
 * @returns false for an unknown document or audience.
 */
export function setAudience(docId, audience) {
  if (!DOCUMENTS.has(docId) || !AUDIENCES.has(audience)) return false
  access.set(docId, audience)
  if (accessFile !== null) writeFileSync(accessFile, JSON.stringify(Object.fromEntries(access)))
  return true
}

/**
 * Policy `CanReadDocument`: `params.docId` comes from the browser, so it is
 * checked like any untrusted input; an unknown document denies.
 * @type {import('@wire-auth/server').PolicyRequirement}
 */
export function canReadDocument(user, { params }) {
  const id = params.docId
  if (typeof id !== 'string' || !DOCUMENTS.has(id)) return false
  return isAdmin(user) || AUDIENCES.get(access.get(id))?.canRead(user) === true
}
