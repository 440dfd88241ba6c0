import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isWireAuthError } from '@wire-auth/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/lib/standalone.js'
import { tempDir } from './support/app.js'

let dir: { dir: string; cleanup: () => void }
beforeEach(() => {
  dir = tempDir('wire-auth-config-')
})
afterEach(() => dir.cleanup())

async function load(name: string, source: string): Promise<unknown> {
  const file = join(dir.dir, name)
  writeFileSync(file, source)
  return loadConfig(file).catch((err: unknown) => err)
}

describe('loadConfig (the public API, as wire-auth serve uses it)', () => {
  it('returns the options of a default export, object or function', async () => {
    expect(await load('a.mjs', 'export default { localIdp: true, port: 4000 }\n')).toEqual({ localIdp: true, port: 4000 })
    expect(await load('b.mjs', 'export default async () => ({ allowedOrigins: ["https://www.example.com"] })\n')).toEqual({ allowedOrigins: ['https://www.example.com'] })
  })

  it('refuses an unknown key with ERR_INVALID_OPTION naming the nearest valid one (was: ignored silently)', async () => {
    const err = await load('typo.mjs', 'export default { publicURL: "https://auth.example.com" }\n')
    expect(isWireAuthError(err, 'ERR_INVALID_OPTION')).toBe(true)
    expect((err as Error).message).toContain('"publicURL"')
    expect((err as Error).message).toContain('"publicUrl"')
    const nested = await load('nested.mjs', 'export default { localIdp: { argon2: { memoryKiB: 1 } } }\n')
    expect(isWireAuthError(nested, 'ERR_INVALID_OPTION')).toBe(true)
    expect((nested as Error).message).toContain('"localIdp.argon2.memoryCost"')
  })

  it('a syntax error is ERR_CONFIG_SYNTAX with file:line:column (was: a bare SyntaxError naming neither)', async () => {
    const err = await load('broken.mjs', 'export default {\n  localIdp: true\n  port: 3000,\n}\n')
    expect(isWireAuthError(err, 'ERR_CONFIG_SYNTAX')).toBe(true)
    expect((err as Error).message).toContain(`${join(dir.dir, 'broken.mjs')}:3:3:`)
    // The loader's own error (Node's SyntaxError; under vitest, vite's) is kept as the cause.
    expect((err as Error).cause).toBeInstanceOf(Error)
  })

  it('a default export that is not an object is ERR_INVALID_OPTION', async () => {
    expect(isWireAuthError(await load('none.mjs', 'export const port = 1\n'), 'ERR_INVALID_OPTION')).toBe(true)
  })
})
