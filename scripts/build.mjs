#!/usr/bin/env node
// Builds every package: TypeScript project references (core, server, elements
// types), then the elements bundle (dist/wire-auth.js, size budget, manifest).
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, readdirSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

function step(name, command, args) {
  const started = Date.now()
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' })
  if (result.status !== 0) {
    console.error(`build: ${name} failed (exit ${result.status ?? result.signal})`)
    process.exit(result.status ?? 1)
  }
  console.log(`build: ${name} ok (${((Date.now() - started) / 1000).toFixed(1)} s)`)
}

/**
 * Deletes outputs in a package's dist/ whose source is gone (a renamed or
 * deleted src/ file): `tsc -b` never removes them, and `npm pack` would ship
 * them with source maps that point at nothing. dist/types/ mirrors src/ too.
 */
function pruneStaleOutputs(pkg) {
  const dist = `${root}packages/${pkg}/dist/`
  if (!existsSync(dist)) return 0
  let removed = 0
  for (const file of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
    const match = /^(?:types\/)?(.+?)\.(?:d\.ts|js)(?:\.map)?$/.exec(file.split('\\').join('/'))
    if (match === null || existsSync(`${root}packages/${pkg}/src/${match[1]}.ts`)) continue
    rmSync(`${dist}${file}`)
    removed += 1
  }
  return removed
}

const tsc = `${dirname(createRequire(import.meta.url).resolve('typescript/package.json'))}/bin/tsc`
step('typescript', process.execPath, [tsc, '-b'])
const elementsBuild = `${root}packages/elements/scripts/build.mjs`
if (existsSync(elementsBuild)) step('elements bundle', process.execPath, [elementsBuild])
for (const pkg of ['core', 'server', 'elements']) {
  const removed = pruneStaleOutputs(pkg)
  if (removed > 0) console.log(`build: removed ${removed} stale file(s) from packages/${pkg}/dist`)
}
const cli = `${root}packages/server/dist/cli.js`
if (existsSync(cli)) chmodSync(cli, 0o755)
