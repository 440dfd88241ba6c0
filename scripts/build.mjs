#!/usr/bin/env node
// Builds every package: TypeScript project references (core, server, elements
// types), then the elements bundle (dist/wire-auth.js, size budget, manifest).
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync } from 'node:fs'
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

const tsc = `${dirname(createRequire(import.meta.url).resolve('typescript/package.json'))}/bin/tsc`
step('typescript', process.execPath, [tsc, '-b'])
const elementsBuild = `${root}packages/elements/scripts/build.mjs`
if (existsSync(elementsBuild)) step('elements bundle', process.execPath, [elementsBuild])
const cli = `${root}packages/server/dist/cli.js`
if (existsSync(cli)) chmodSync(cli, 0o755)
