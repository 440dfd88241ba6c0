#!/usr/bin/env node
// `npm run docs:api`: regenerates docs/api/ (the API reference of
// @wire-auth/server, core and elements) from the TSDoc of their sources.
// TypeDoc needs the compiler API of TypeScript 5 and this repository builds
// with TypeScript 7 (which has none), so TypeDoc and its own TypeScript live
// in tools/typedoc/, installed there on first use (from the npm registry).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const tools = fileURLToPath(new URL('../tools/typedoc/', import.meta.url))
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

function run(command, args) {
  const result = spawnSync(command, args, { cwd: tools, stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

if (!existsSync(`${tools}node_modules/typedoc/package.json`)) run(npm, ['ci', '--prefer-offline', '--no-audit', '--no-fund'])
run(process.execPath, [`${tools}node_modules/typedoc/bin/typedoc`, '--options', 'typedoc.config.mjs'])
