// One table decides each code's HTTP status and default message (issue 20):
// every code has both, every code the sources raise is in it, no throw site
// names a status, only the error handler writes `{ error: { code, message } }`,
// and docs/errors.md lists exactly the table's codes with their status.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  ConfigSyntaxError,
  ERROR_TABLE,
  GuardSpecInvalid,
  HtmlTemplateInvalid,
  InvalidOption,
  PolicyDuplicate,
  PolicyInvalid,
  PolicyNotFound,
  WireAuthError,
  type WireAuthErrorCode,
} from '@wire-auth/core'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { BY_STATUS, wireAuthErrorHandler } from '../src/lib/error-handler.js'
import { codedError, DecoratorCollision, Forbidden, InvalidClaim, OriginNotAllowed, StoreUnavailable, Unauthenticated, UserDisabled, UserNotFound } from '../src/lib/errors.js'
import { OidcCallbackFailed, OidcStateMismatch, ProviderNotFound, ProviderUnavailable } from '../src/lib/oidc/errors.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const codes = Object.keys(ERROR_TABLE) as WireAuthErrorCode[]

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
}

/** Source text without comments, so a TSDoc example does not count as code. */
function code(file: string): string {
  return readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
}

const serverFiles = sources('packages/server/src')
const allFiles = [...sources('packages/core/src'), ...serverFiles, ...sources('packages/elements/src')]

describe('the error table', () => {
  it('gives every code an HTTP status and a default message', () => {
    expect(codes.length).toBeGreaterThan(50)
    for (const c of codes) {
      const { status, message } = ERROR_TABLE[c]
      expect(Number.isInteger(status) && status >= 400 && status <= 599, c).toBe(true)
      expect(message.length > 0 && message.length <= 120, c).toBe(true)
    }
  })

  it('holds every code the sources raise, log or answer', () => {
    const used = new Set<string>()
    for (const file of allFiles) for (const match of code(file).matchAll(/'(ERR_[A-Z0-9_]+)'/g)) used.add(match[1])
    // Node's own codes, which the sources compare against (never raise).
    const node = new Set(['ERR_MODULE_NOT_FOUND', 'ERR_INVALID_ARG'])
    const missing = [...used].filter((c) => !(c in ERROR_TABLE) && !node.has(c))
    expect(missing).toEqual([])
  })

  it('is the status of every error class, in core and in the server', () => {
    const errors: WireAuthError[] = [
      new InvalidOption('x'), new PolicyDuplicate('x'), new PolicyInvalid('x'), new PolicyNotFound('x'), new GuardSpecInvalid('x'),
      new HtmlTemplateInvalid('x'), new ConfigSyntaxError('x'),
      new Unauthenticated(), new Forbidden(), new StoreUnavailable(), new UserNotFound(), new UserDisabled(), new InvalidClaim('x'),
      new OriginNotAllowed(), new DecoratorCollision('x'),
      new ProviderNotFound(), new ProviderUnavailable('x'), new OidcStateMismatch('x'), new OidcCallbackFailed('x'),
    ]
    for (const err of errors) expect([err.code, err.statusCode]).toEqual([err.code, ERROR_TABLE[err.code].status])
    for (const c of codes) {
      const err = codedError(c)
      expect([err.statusCode, err.message]).toEqual([ERROR_TABLE[c].status, ERROR_TABLE[c].message])
    }
  })

  it('ERR_VALIDATION is a 400 wherever it is built (it was a 500 in the Redis channel)', () => {
    expect(codedError('ERR_VALIDATION').statusCode).toBe(400)
    const sites = serverFiles.flatMap((file) => [...code(file).matchAll(/ERR_VALIDATION'[^\n]*statusCode/g)].map(() => relative(root, file)))
    expect(sites).toEqual([])
  })

  it('decides the status the error handler answers, also for an error built without the table (a host\'s new WireAuthError)', async () => {
    const app = Fastify({ logger: false })
    app.setErrorHandler(wireAuthErrorHandler)
    app.get('/host', async () => {
      throw new WireAuthError('ERR_VALIDATION', 'unknown document')
    })
    app.get('/core', async () => {
      throw new PolicyNotFound('no policy "X"')
    })
    const host = await app.inject({ url: '/host' })
    expect([host.statusCode, host.json()]).toEqual([400, { error: { code: 'ERR_VALIDATION', message: 'unknown document' } }])
    expect((await app.inject({ url: '/core' })).statusCode).toBe(403)
    await app.close()
  })

  it('agrees with the status → code map of foreign errors', () => {
    for (const [status, c] of Object.entries(BY_STATUS)) expect(ERROR_TABLE[c].status, c).toBe(Number(status))
  })
})

describe('throw sites and bodies', () => {
  it('no server source names a status for an error (the table does), nor keeps the old httpError factory', () => {
    const offenders = serverFiles.filter((file) => /statusCode:\s*\d{3}|httpError\(/.test(code(file))).map((file) => relative(root, file))
    expect(offenders).toEqual([])
  })

  it('no server source writes `{ error: { code, message } }` by hand: core\'s errorBody does, through the error handler', () => {
    const offenders = serverFiles.filter((file) => /error:\s*\{\s*code/.test(code(file))).map((file) => relative(root, file))
    expect(offenders).toEqual([])
  })
})

describe('docs/errors.md', () => {
  const docs = readFileSync(join(root, 'docs/errors.md'), 'utf8')
  const rows = new Map<string, string>()
  for (const match of docs.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \| ([^|]*) \|/gm)) rows.set(match[1], match[2])

  it('has a row for every code of the table, and none for a code not in it', () => {
    expect(codes.filter((c) => !rows.has(c))).toEqual([])
    expect([...rows.keys()].filter((c) => !(c in ERROR_TABLE))).toEqual([])
  })

  it('gives the table\'s status wherever a row names HTTP statuses', () => {
    const wrong: string[] = []
    for (const [c, column] of rows) {
      const statuses = [...column.matchAll(/\b([1-5]\d\d)\b/g)].map((m) => Number(m[1]))
      if (statuses.length > 0 && !statuses.includes(ERROR_TABLE[c as WireAuthErrorCode].status)) wrong.push(`${c}: "${column}" (table ${ERROR_TABLE[c as WireAuthErrorCode].status})`)
    }
    expect(wrong).toEqual([])
  })
})
