// First start: creates admin@example.com with a random password and keeps
// it in <data dir>/admin-credentials.txt (mode 0600, in the 0700 data
// directory); the start-up banner prints the file's path, never the password
// (terminal scroll-back and CI logs outlive it). For any other account:
// `wire-auth user add --email … --claim role=admin --password-stdin`.
import { randomBytes } from 'node:crypto'
import { closeSync, constants, existsSync, fchmodSync, ftruncateSync, openSync, writeSync } from 'node:fs'
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
  writeCredentialFile(file, `e-mail:   ${ADMIN_EMAIL}\npassword: ${password}\n`)
  return { email: ADMIN_EMAIL, password, file, created: true }
}

/**
 * Writes a credential file that only its owner can read: created 0600, and
 * an existing file (left by an earlier run, or made by hand) is set to 0600
 * before the secret is written into it. Symbolic links are not followed.
 * @param {string} file
 * @param {string} content
 */
export function writeCredentialFile(file, content) {
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o600)
  try {
    fchmodSync(fd, 0o600)
    ftruncateSync(fd, 0)
    writeSync(fd, content)
  } finally {
    closeSync(fd)
  }
}
