#!/usr/bin/env node
// Builds @wire-auth/elements (called by the root `npm run build` after `tsc -b`,
// which emits the declarations into dist/types):
//   dist/wire-auth.js  the served bundle: ESM, Lit inside, minified, with a source map;
//                      fails the build over the size budget (min+gz);
//   dist/index.js      the npm entry: same sources, dependencies left external;
//   custom-elements.json  regenerated with `cem analyze --litelement` (committed too,
//                      so editors and catalogues read it without a build).
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { build } from 'esbuild'

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
  legalComments: 'none',
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

await build({
  ...common,
  entryPoints: ['src/index.ts'],
  outfile: 'dist/index.js',
  external: ['lit', '@lit/*', '@wire-auth/core'],
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
