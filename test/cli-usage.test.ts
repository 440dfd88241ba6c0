import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cliTempDir, runCli } from './support/cli.js'

// The built bin of @wire-auth/server (`npm test` builds first), run as a user would.
const tmp = cliTempDir('wire-auth-cli-usage-')
const wireAuth = (args: string[], cwd = tmp.dir) => runCli(args, { cwd, env: { WIRE_AUTH_SQLITE: join(cwd, 'store.sqlite') } })

/** A fresh empty folder per case, so "no store file was created" can be checked. */
function emptyDir(name: string): string {
  return mkdtempSync(join(tmp.dir, `${name}-`))
}


describe('wire-auth CLI usage', () => {
  it('--version prints the version of @wire-auth/server', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../packages/server/package.json', import.meta.url), 'utf8')) as { version: string }
    const result = await wireAuth(['--version'])
    expect(result.code).toBe(0)
    expect(result.stdout.trim()).toBe(pkg.version)
    expect((await wireAuth(['-v'])).stdout.trim()).toBe(pkg.version)
  })

  it('an unknown command prints the usage and exits 2 without creating a store file', async () => {
    const cwd = emptyDir('unknown-command')
    const result = await wireAuth(['srve'], cwd)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/unknown command "srve"/)
    expect(result.stderr).toMatch(/Usage:/)
    expect(readdirSync(cwd)).toEqual([])
  })

  it('an unknown user sub-command or option exits 2 without creating a store file (the store was opened first before)', async () => {
    const cwd = emptyDir('unknown-user-command')
    const sub = await wireAuth(['user', 'lst'], cwd)
    expect(sub.code).toBe(2)
    expect(sub.stderr).toMatch(/Usage:/)
    const option = await wireAuth(['user', 'list', '--limt', '3'], cwd)
    expect(option.code).toBe(2)
    expect(option.stderr).toMatch(/--limt/)
    expect(readdirSync(cwd)).toEqual([])
    // No command at all: usage, exit 2.
    expect((await wireAuth([], cwd)).code).toBe(2)
  })

  it('bundle-info prints the versioned path and the SRI hash of the bundle the server serves', async () => {
    const result = await wireAuth(['bundle-info', '--json'])
    expect(result.code).toBe(0)
    const info = JSON.parse(result.stdout) as { version: string; path: string; integrity: string; bytes: number }
    const bundle = readFileSync(new URL('../packages/elements/dist/wire-auth.js', import.meta.url))
    expect(info.integrity).toBe(`sha384-${createHash('sha384').update(bundle).digest('base64')}`)
    expect(info.path).toBe(`/wire-auth@${info.version}.js`)
    const text = await wireAuth(['bundle-info'])
    expect(text.stdout).toContain(`integrity="${info.integrity}"`)
    // The import map pins every module the versioned bundle may import (UI, token helpers, passkey ceremony).
    const modules = JSON.parse(result.stdout) as Record<'ui' | 'tokens' | 'webauthn', { path: string; integrity: string }>
    for (const name of ['ui', 'tokens', 'webauthn'] as const) {
      expect(modules[name].path).toBe(`/wire-auth-${name}@${info.version}.js`)
      expect(text.stdout).toContain(`"https://YOUR-BACKEND${modules[name].path}": "${modules[name].integrity}"`)
    }
  })
})

describe('wire-auth serve --config', () => {
  it('refuses an unknown key, naming the nearest valid one (ERR_INVALID_OPTION), before opening a store', async () => {
    const cwd = emptyDir('unknown-key')
    writeFileSync(join(cwd, 'typo.config.mjs'), "export default { localIdp: true, allowedOrigin: ['https://www.example.com'] }\n")
    const result = await wireAuth(['serve', '--config', 'typo.config.mjs', '--port', '0'], cwd)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^wire-auth: ERR_INVALID_OPTION: .*"allowedOrigin".*did you mean "allowedOrigins"/m)
    expect(readdirSync(cwd)).toEqual(['typo.config.mjs'])
  })

  it('refuses an unknown nested key (session.idleTimeout → session.idleTimeoutMs)', async () => {
    const cwd = emptyDir('nested-key')
    writeFileSync(join(cwd, 'nested.config.mjs'), 'export default () => ({ session: { idleTimeout: 1000 } })\n')
    const result = await wireAuth(['serve', '--config', 'nested.config.mjs', '--port', '0'], cwd)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/ERR_INVALID_OPTION: .*"session\.idleTimeout".*did you mean "session\.idleTimeoutMs"/)
  })

  it('a config syntax error names the file and line (ERR_CONFIG_SYNTAX)', async () => {
    const cwd = emptyDir('syntax')
    writeFileSync(join(cwd, 'broken.config.mjs'), "export default {\n  localIdp: true,\n  port: 3000\n  host: '127.0.0.1',\n}\n")
    const result = await wireAuth(['serve', '--config', 'broken.config.mjs', '--port', '0'], cwd)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/ERR_CONFIG_SYNTAX: \S*broken\.config\.mjs:4:3: /)
    expect(readdirSync(cwd)).toEqual(['broken.config.mjs'])
  })

  it('a syntax error in a module the config imports names the config file (ERR_CONFIG_SYNTAX)', async () => {
    const cwd = emptyDir('syntax-import')
    writeFileSync(join(cwd, 'helper.mjs'), 'export const port = (\n')
    writeFileSync(join(cwd, 'imports.config.mjs'), "import { port } from './helper.mjs'\nexport default { port }\n")
    const result = await wireAuth(['serve', '--config', 'imports.config.mjs', '--port', '0'], cwd)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/ERR_CONFIG_SYNTAX: imports\.config\.mjs \(or a module it imports\): /)
  })
})
