#!/usr/bin/env node
// Runs every suite — vitest (core, server, stores, multi-process),
// web-test-runner (elements in Chromium), the end-to-end tests
// (playwright-core + Chromium against `npm start`) and the package test
// (the packed tarballs installed into a fresh project) — and prints one line last:
// `tests: N passed, N failed` summed over all of them. Exits non-zero when any
// suite failed or crashed.
//
// MongoDB: when MONGODB_URL is unset, FerretDB (scripts/ferretdb.mjs — built
// once per machine with Go) is started on loopback for the run and stopped at
// the end, so the MongoDB store suites always run. When it cannot start, that
// counts as a failure (and the MongoDB suites fail rather than skip, since
// CI=true). With MONGODB_URL set (e.g. a real mongod), the suites use it.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const results = `${root}test-results`
rmSync(results, { recursive: true, force: true })
mkdirSync(results, { recursive: true })
const bin = (name) => `${root}node_modules/.bin/${name}`

/** Counts from a vitest JSON report, with the name and first message line of each failure. */
function vitestCounts(file) {
  if (!existsSync(file)) return null
  const report = JSON.parse(readFileSync(file, 'utf8'))
  const failures = []
  for (const suite of report.testResults ?? []) {
    const path = suite.name.startsWith(root) ? suite.name.slice(root.length) : suite.name
    const failedTests = (suite.assertionResults ?? []).filter((test) => test.status === 'failed')
    for (const test of failedTests) failures.push(`${path} > ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`)
    // A file that failed to load or whose hooks threw has no failed test but a message.
    if (failedTests.length === 0 && suite.status === 'failed') failures.push(`${path}: ${firstLine(suite.message)}`)
  }
  return { passed: report.numPassedTests, failed: report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0), skipped: report.numPendingTests + report.numTodoTests, failures }
}

/** The first non-empty line of a failure message, without colour codes, at most 300 characters. */
function firstLine(message) {
  // eslint-disable-next-line no-control-regex
  const line = String(message ?? '').replace(/\u001b\[[0-9;]*m/g, '').split('\n').find((text) => text.trim() !== '') ?? '(no message)'
  return line.trim().slice(0, 300)
}

/** Counts written by the summary reporter in web-test-runner.config.mjs. */
function wtrCounts(file) {
  if (!existsSync(file)) return null
  return JSON.parse(readFileSync(file, 'utf8'))
}

const suites = [
  {
    name: 'vitest',
    command: bin('vitest'),
    args: ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}/vitest.json`],
    counts: () => vitestCounts(`${results}/vitest.json`),
  },
  {
    name: 'web-test-runner',
    command: bin('web-test-runner'),
    args: [],
    enabled: existsSync(`${root}web-test-runner.config.mjs`),
    counts: () => wtrCounts(`${results}/wtr.json`),
  },
  {
    name: 'end-to-end',
    command: bin('vitest'),
    args: ['run', '--config', 'test/e2e/vitest.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${results}/e2e.json`],
    enabled: existsSync(`${root}test/e2e/vitest.config.ts`),
    counts: () => vitestCounts(`${results}/e2e.json`),
  },
  {
    // npm pack → a fresh project → type-check the docs' examples → the README quick start in Chromium.
    name: 'package',
    command: bin('vitest'),
    args: ['run', '--config', 'test/package/vitest.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${results}/package-test.json`],
    enabled: existsSync(`${root}test/package/vitest.config.ts`),
    counts: () => vitestCounts(`${results}/package-test.json`),
  },
]

const total = { passed: 0, failed: 0, skipped: 0 }
const lines = []
const failures = []
let crashed = false

let ferretdb = null
if (!process.env.MONGODB_URL) {
  console.log('\n=== FerretDB (MONGODB_URL is unset) ===')
  try {
    const { startFerretDB } = await import('./ferretdb.mjs')
    ferretdb = await startFerretDB({ log: (line) => console.log(line) })
    process.env.MONGODB_URL = ferretdb.url
    console.log(`ferretdb: answering at ${ferretdb.url} (pid ${ferretdb.pid}); stopped after the run`)
  } catch (err) {
    console.error(err.message)
    crashed = true
    total.failed += 1
    lines.push('ferretdb: could not start — counted as 1 failed (the MongoDB suites fail too)')
  }
}
const stopFerretDB = async () => {
  const server = ferretdb
  ferretdb = null
  await server?.stop()
}
// Last resort (an exit without the stop below): never leave the server behind.
process.on('exit', () => {
  if (ferretdb === null) return
  try {
    process.kill(ferretdb.pid, 'SIGKILL')
  } catch {
    // already gone
  }
  rmSync(ferretdb.dir, { recursive: true, force: true })
})
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    stopFerretDB().finally(() => process.exit(130))
  })
}
for (const suite of suites) {
  if (suite.enabled === false) continue
  console.log(`\n=== ${suite.name} ===`)
  const started = Date.now()
  const run = spawnSync(suite.command, suite.args, { cwd: root, stdio: 'inherit', env: { ...process.env, CI: process.env.CI ?? 'true' } })
  let counts = null
  try {
    counts = suite.counts()
  } catch (err) {
    console.error(`${suite.name}: could not read its results: ${err.message}`)
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(0)
  if (counts === null) {
    crashed = true
    total.failed += 1
    lines.push(`${suite.name}: no results (exit ${run.status ?? run.signal}) — counted as 1 failed, ${seconds} s`)
    continue
  }
  if (run.status !== 0 && counts.failed === 0) {
    crashed = true
    counts.failed = 1
  }
  total.passed += counts.passed
  total.failed += counts.failed
  total.skipped += counts.skipped ?? 0
  for (const failure of counts.failures ?? []) failures.push(`${suite.name}: ${failure}`)
  lines.push(`${suite.name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped ?? 0} skipped, ${seconds} s`)
}

await stopFerretDB()

console.log('\n=== summary ===')
for (const line of lines) console.log(line)
// The failures again, here at the end where a truncated CI log still shows them.
if (failures.length > 0) {
  console.log('failed:')
  for (const failure of failures) console.log(`  ${failure}`)
}
if (total.skipped > 0) console.log(`(${total.skipped} skipped: see the suites above for their names and reasons)`)
console.log(`tests: ${total.passed} passed, ${total.failed} failed`)
process.exit(total.failed > 0 || crashed ? 1 : 0)
