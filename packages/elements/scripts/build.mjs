#!/usr/bin/env node
// Builds @wire-auth/elements (called by the root `npm run build` after `tsc -b`,
// which emits the declarations into dist/types):
//   dist/wire-auth.js  the served bundle: ESM, Lit inside, minified, with a source map;
//                      fails the build over the size budget (min+gz);
//                      Lit's licence comments are kept at the end of the file;
//   dist/wire-auth-ui.js, -tokens.js, -webauthn.js  modules the bundle loads only when a
//                      page needs them (UI elements, token helpers, passkey ceremony);
//   dist/bundle-info.json  the bundle's version, versioned URL path and SRI hash
//                      (`sha384-…`), so a site can pin the exact script it trusts;
//   dist/index.js, dist/lib/*.js  the npm entry: one module per source file,
//                      dependencies left to the consumer's bundler;
//   custom-elements.json  regenerated with `cem analyze --litelement` (committed too,
//                      so editors and catalogues read it without a build); its paths
//                      point at the shipped dist/*.js modules.
// Source maps embed their sources (sourcesContent), and src/ ships as well, so a
// consumer's debugger and "go to definition" resolve inside the package.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { templateWhitespace } from './template-whitespace.mjs'

// Issue 17's 12 KB. The code flow with PKCE, token renewal and WireAuth.getToken() (issue 16,
// ≈ 1.3 KB min+gz) load on first call from dist/wire-auth-tokens.js (src/lib/lazy.ts), which
// kept the bundle inside it.
const BUDGET_GZIP_BYTES = 12 * 1024
const pkg = fileURLToPath(new URL('..', import.meta.url))
const coreSource = fileURLToPath(new URL('../../core/src/index.ts', import.meta.url))
const require = createRequire(import.meta.url)

const common = {
  absWorkingDir: pkg,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  sourcesContent: true,
  // Lit is BSD-3-Clause: its licence comments must travel with the minified copy.
  legalComments: 'eof',
  tsconfig: 'tsconfig.json',
  // The sources of @wire-auth/core, so the bundle never depends on build order.
  alias: { '@wire-auth/core': coreSource },
  logLevel: 'warning',
}
// The served modules import their lazily loaded parts from beside themselves (src/lib/lazy.ts),
// and their lit templates lose the indentation the minifier keeps (template-whitespace.mjs).
const served = { ...common, minify: true, define: { __WIRE_AUTH_SERVED__: 'true' }, plugins: [templateWhitespace] }

await build({ ...served, entryPoints: ['src/wire-auth.ts'], outfile: 'dist/wire-auth.js' })

// The UI elements: a second module that dist/wire-auth.js imports only when a page uses one
// of them (issue 17). It gets the page's WireAuth from the bundle, so it carries no socket code.
await build({ ...served, entryPoints: ['src/wire-auth-ui.ts'], outfile: 'dist/wire-auth-ui.js' })

// Loaded on first use: the token helpers (by the bundle, on the first WireAuth.signIn(),
// completeSignIn() or getToken()) and @simplewebauthn/browser (by the UI module, when a
// user adds a passkey or signs in with one).
await build({ ...served, entryPoints: ['src/wire-auth-tokens.ts'], outfile: 'dist/wire-auth-tokens.js' })
await build({ ...served, entryPoints: ['src/wire-auth-webauthn.ts'], outfile: 'dist/wire-auth-webauthn.js' })

const sources = readdirSync(`${pkg}src`, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts') && !file.startsWith('wire-auth'))
  .map((file) => `src/${file}`)
await build({
  ...common,
  entryPoints: sources,
  outdir: 'dist',
  outbase: 'src',
  bundle: false,
  alias: {},
  define: { __WIRE_AUTH_SERVED__: 'false' },
})

const bundle = readFileSync(`${pkg}dist/wire-auth.js`)
const gzip = gzipSync(bundle, { level: 9 }).length
const brotli = brotliCompressSync(bundle, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length
const kb = (n) => `${(n / 1024).toFixed(2)} KB`
console.log(`elements: dist/wire-auth.js ${kb(bundle.length)} min, ${kb(gzip)} min+gz, ${kb(brotli)} min+br (budget ${kb(BUDGET_GZIP_BYTES)} min+gz)`)
if (gzip > BUDGET_GZIP_BYTES) {
  console.error(`elements: the bundle is over budget by ${gzip - BUDGET_GZIP_BYTES} bytes (min+gz)`)
  process.exit(1)
}

// The UI module has its own budget (issue 17: ≤ 15 KB min+gz).
const UI_BUDGET_GZIP_BYTES = 15 * 1024
const uiBundle = readFileSync(`${pkg}dist/wire-auth-ui.js`)
const uiGzip = gzipSync(uiBundle, { level: 9 }).length
console.log(`elements: dist/wire-auth-ui.js ${kb(uiBundle.length)} min, ${kb(uiGzip)} min+gz (budget ${kb(UI_BUDGET_GZIP_BYTES)} min+gz)`)
if (uiGzip > UI_BUDGET_GZIP_BYTES) {
  console.error(`elements: the UI module is over budget by ${uiGzip - UI_BUDGET_GZIP_BYTES} bytes (min+gz)`)
  process.exit(1)
}

const version = JSON.parse(readFileSync(`${pkg}package.json`, 'utf8')).version
const integrity = (bytes) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`
const info = { version, path: `/wire-auth@${version}.js`, integrity: integrity(bundle), bytes: bundle.length }
// The modules the versioned bundle imports (wire-auth-<name>@<version>.js): pin them with an import map's integrity.
for (const name of ['ui', 'tokens', 'webauthn']) {
  const bytes = readFileSync(`${pkg}dist/wire-auth-${name}.js`)
  if (name !== 'ui') console.log(`elements: dist/wire-auth-${name}.js ${kb(bytes.length)} min, ${kb(gzipSync(bytes, { level: 9 }).length)} min+gz (loaded on first use)`)
  info[name] = { path: `/wire-auth-${name}@${version}.js`, integrity: integrity(bytes), bytes: bytes.length }
}
writeFileSync(`${pkg}dist/bundle-info.json`, `${JSON.stringify(info, null, 2)}\n`)
console.log(`elements: dist/bundle-info.json ${info.path} ${info.integrity}`)

const cem = require.resolve('@custom-elements-manifest/analyzer/cem.js')
const manifest = spawnSync(process.execPath, [cem, 'analyze', '--quiet', '--config', 'custom-elements-manifest.config.mjs'], {
  cwd: pkg,
  stdio: 'inherit',
})
if (manifest.status !== 0) {
  console.error('elements: cem analyze failed')
  process.exit(manifest.status ?? 1)
}
console.log('elements: custom-elements.json regenerated')
