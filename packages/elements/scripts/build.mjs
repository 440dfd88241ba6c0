#!/usr/bin/env node
// Builds @wire-auth/elements (called by the root `npm run build` after `tsc -b`,
// which emits the declarations into dist/types):
//   dist/wire-auth.js  the served bundle: ESM, Lit inside, minified, with a source map;
//                      fails the build over the size budget (min+gz);
//                      Lit's licence comments are kept at the end of the file;
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

// 12 KB until issue 16 put the code flow with PKCE (popup and redirect), token renewal and
// WireAuth.getToken() in the bundle (≈ 1.3 KB min+gz); 13 KB keeps the goal honest with them.
const BUDGET_GZIP_BYTES = 13 * 1024
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

await build({
  ...common,
  entryPoints: ['src/wire-auth.ts'],
  outfile: 'dist/wire-auth.js',
  minify: true,
})

// The UI elements: a second module that dist/wire-auth.js imports only when a page uses one
// of them (issue 17). It gets the page's WireAuth from the bundle, so it carries no socket code.
await build({
  ...common,
  entryPoints: ['src/wire-auth-ui.ts'],
  outfile: 'dist/wire-auth-ui.js',
  minify: true,
})

const sources = readdirSync(`${pkg}src`, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts') && file !== 'wire-auth.ts' && file !== 'wire-auth-ui.ts')
  .map((file) => `src/${file}`)
await build({
  ...common,
  entryPoints: sources,
  outdir: 'dist',
  outbase: 'src',
  bundle: false,
  alias: {},
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
const info = {
  version,
  path: `/wire-auth@${version}.js`,
  integrity: `sha384-${createHash('sha384').update(bundle).digest('base64')}`,
  bytes: bundle.length,
  // The UI module the versioned bundle imports (wire-auth-ui@<version>.js): pin it with an import map's integrity.
  ui: {
    path: `/wire-auth-ui@${version}.js`,
    integrity: `sha384-${createHash('sha384').update(uiBundle).digest('base64')}`,
    bytes: uiBundle.length,
  },
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
