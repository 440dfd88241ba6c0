// First start: creates admin@example.com with a random password, prints it
// once and keeps it in <data dir>/admin-credentials.txt (mode 0600) so a
// newcomer can find it again. `wire-auth user add --claim role=admin` does
// the same for any other account.
import { randomBytes } from 'node:crypto'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const ADMIN_EMAIL = 'admin@example.com'

/**
 * @param {import('fastify').FastifyInstance} app a ready app with the local IdP
 * @param {string} dataDir
 * @returns {Promise<{ email: string, password: string | null, file: string, created: boolean }>}
 */
export async function ensureAdminAccount(app, dataDir) {
  const file = join(dataDir, 'admin-credentials.txt')
  const existing = await app.authStore.getUserByEmail(ADMIN_EMAIL)
  if (existing !== null) return { email: ADMIN_EMAIL, password: null, file: existsSync(file) ? file : '', created: false }
  if (app.localIdp === null || app.localIdp === undefined) throw new Error('the demo needs the local IdP (options.localIdp)')
  const password = randomBytes(12).toString('base64url')
  await app.localIdp.createUser({ email: ADMIN_EMAIL, password, name: 'Ada Admin', claims: [{ type: 'role', value: 'admin' }] })
  writeFileSync(file, `e-mail:   ${ADMIN_EMAIL}\npassword: ${password}\n`, { mode: 0o600 })
  return { email: ADMIN_EMAIL, password, file, created: true }
}
