// Checklist 26 (secrets at rest, the files half; key rotation is proven with
// the signing keys): the store files are covered in
// packages/server/test/sqlite-store-permissions.test.ts; this file covers the
// credential files the product writes — the demo's admin-credentials.txt
// (F1) — and the CLI's generated passwords are in test/cli.test.ts (C9).
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { connectAuth } from '@wire-auth/server'
import { ensureAdminAccount, writeCredentialFile } from '../../demo/lib/admin-account.mjs'

const modeOf = (path: string) => statSync(path).mode & 0o777
let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wire-auth-secrets-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('checklist 26: credential files are 0600, also when they existed before', () => {
  it('a credential file left world-readable by an earlier run is made 0600 before the secret is written', () => {
    const file = join(dir, 'admin-credentials.txt')
    writeFileSync(file, 'old content that is longer than the new one\n')
    chmodSync(file, 0o644)
    writeCredentialFile(file, 'password: new\n')
    expect(modeOf(file)).toBe(0o600)
    expect(readFileSync(file, 'utf8')).toBe('password: new\n')
  })

  it('the demo writes the generated admin password to a 0600 file (never world-readable)', async () => {
    const app = Fastify({ logger: false })
    await connectAuth(app, { sqlitePath: join(dir, 'data', 'wire-auth.sqlite'), localIdp: true })
    await app.ready()
    try {
      writeFileSync(join(dir, 'data', 'admin-credentials.txt'), 'stale\n')
      chmodSync(join(dir, 'data', 'admin-credentials.txt'), 0o666)
      const admin = await ensureAdminAccount(app, join(dir, 'data'))
      expect(admin.created).toBe(true)
      expect(modeOf(admin.file)).toBe(0o600)
      expect(readFileSync(admin.file, 'utf8')).toContain(`password: ${admin.password}`)
      // The store's directory and files are owner-only too (F1).
      expect(modeOf(join(dir, 'data'))).toBe(0o700)
      expect(modeOf(join(dir, 'data', 'wire-auth.sqlite'))).toBe(0o600)
    } finally {
      await app.close()
    }
  })
})
