#!/usr/bin/env node
// `npm run mutation` — mutation testing with StrykerJS, one source file at a
// time (see docs/testing.md).
//
//   npm run mutation -- --mutate packages/core/src/lib/html.ts [--mutate …]
//   npm run mutation -- --package core            every mapped file of a package
//   npm run mutation -- --changed [--base main]   mapped files changed vs main
//   npm run mutation -- --summary [--markdown]    scores of the latest reports
//   options: --concurrency N (default 1), --fresh (ignore incremental results)
//
// Each file is mutated against the test files listed for it in TARGETS (the
// package aliases make vitest's "related" mode pick nearly every test). Results
// are kept per file in reports/mutation/ (not in git): incremental runs reuse
// the results of mutants whose code and covering tests did not change, so a
// second run of an unchanged file takes seconds.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = fileURLToPath(new URL('..', import.meta.url))
process.chdir(root)

const CORE = 'packages/core/test'
const SERVER = 'packages/server/test'

/**
 * Source file → the test files that exercise it directly. Keep each list to
 * the fast, focused files: every surviving candidate reruns the tests that
 * cover it, so a slow integration file here multiplies the run time (the
 * server files below map their unit-level test file, which holds the
 * behaviour the integration tests check through the plugin).
 */
export const TARGETS = {
  'packages/core/src/lib/html.ts': [`${CORE}/html.test.ts`, `${CORE}/html-regressions.test.ts`],
  'packages/core/src/lib/guard-spec.ts': [`${CORE}/guard-spec.test.ts`, 'test/security/fuzz-guard-spec.test.ts'],
  'packages/core/src/lib/redirect.ts': [`${CORE}/redirect.test.ts`],
  'packages/core/src/lib/policy-engine.ts': [`${CORE}/policy-engine.test.ts`],
  'packages/core/src/lib/deadlines.ts': [`${CORE}/deadlines.test.ts`, `${CORE}/policy-engine.test.ts`],
  'packages/core/src/lib/principal.ts': [`${CORE}/principal.test.ts`, `${CORE}/policy-engine.test.ts`],
  'packages/core/src/lib/errors.ts': [`${CORE}/errors.test.ts`],
  'packages/core/src/lib/deep-freeze.ts': [`${CORE}/deep-freeze.test.ts`, `${CORE}/params.test.ts`],
  'packages/core/src/lib/protocol/region-request.ts': [`${CORE}/protocol-region-request.test.ts`, `${SERVER}/fragments-registry.test.ts`, `${SERVER}/protocol-one-parser.test.ts`],
  'packages/server/src/lib/fragments/fragment-definition.ts': [`${SERVER}/fragment-definition.test.ts`, `${SERVER}/fragments-registry.test.ts`],
  'packages/server/src/lib/fragments/fragment-registry.ts': [`${SERVER}/fragments-registry.test.ts`, `${SERVER}/fragment-registry-api.test.ts`, `${SERVER}/fragment-cache-vary.test.ts`],
  'packages/server/src/lib/fragments/fragment-routes.ts': [`${SERVER}/fragment-routes.test.ts`, `${SERVER}/fragments-http.test.ts`, `${SERVER}/fragment-cache-vary.test.ts`],
  'packages/server/src/lib/sessions.ts': [`${SERVER}/sessions.test.ts`],
  'packages/server/src/lib/local-idp/throttle.ts': [`${SERVER}/local-idp-throttle-units.test.ts`],
  'packages/server/src/lib/local-idp/tokens.ts': [`${SERVER}/local-idp-tokens-units.test.ts`, `${SERVER}/local-idp-tokens.test.ts`, `${SERVER}/local-idp-tokens-differential.test.ts`],
  'packages/server/src/lib/local-idp/refresh-tokens.ts': [`${SERVER}/local-idp-refresh-tokens.test.ts`],
}

const { values } = parseArgs({
  options: {
    mutate: { type: 'string', multiple: true, default: [] },
    package: { type: 'string', multiple: true, default: [] },
    changed: { type: 'boolean', default: false },
    base: { type: 'string', default: 'main' },
    summary: { type: 'boolean', default: false },
    markdown: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: process.env.WIRE_AUTH_MUTATION_CONCURRENCY ?? '1' },
    fresh: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

const usage = `usage: npm run mutation -- (--mutate FILE[:LINES] … | --package core|server | --changed [--base REF] | --summary [--markdown])
                          [--concurrency N] [--fresh]
files with a test mapping (scripts/mutation.mjs TARGETS):
${Object.keys(TARGETS).map((file) => `  ${file}`).join('\n')}`

if (values.help) {
  console.log(usage)
  process.exit(0)
}

const slug = (file) => file.replace(/^packages\//, '').replace(/\/src\/lib\//, '-').replace(/[/.]/g, '-')
const reportDir = `${root}reports/mutation`

/** Detected ÷ valid, as StrykerJS computes the mutation score. */
function score(file) {
  const json = `${reportDir}/${slug(file)}.json`
  if (!existsSync(json)) return null
  const report = JSON.parse(readFileSync(json, 'utf8'))
  const counts = {}
  for (const entry of Object.values(report.files)) {
    for (const mutant of entry.mutants) counts[mutant.status] = (counts[mutant.status] ?? 0) + 1
  }
  const detected = (counts.Killed ?? 0) + (counts.Timeout ?? 0)
  const valid = detected + (counts.Survived ?? 0) + (counts.NoCoverage ?? 0)
  return { score: valid === 0 ? 100 : (100 * detected) / valid, counts }
}

function printSummary(files) {
  if (values.markdown) {
    console.log('| file | score | killed + timeout / survived / no coverage / ignored |\n|---|---|---|')
    for (const file of files) {
      const result = score(file)
      if (result === null) continue
      const { Killed = 0, Timeout = 0, Survived = 0, NoCoverage = 0, Ignored = 0 } = result.counts
      console.log(`| \`${file}\` | ${result.score.toFixed(2)} % | ${Killed + Timeout} / ${Survived} / ${NoCoverage} / ${Ignored} |`)
    }
    return
  }
  console.log('\nmutation score per file (detected / valid; reports/mutation/<file>.html):')
  for (const file of files) {
    const result = score(file)
    if (result === null) {
      console.log(`  ${file}: no report`)
      continue
    }
    const { Killed = 0, Timeout = 0, Survived = 0, NoCoverage = 0 } = result.counts
    console.log(`  ${file}: ${result.score.toFixed(2)} % (killed ${Killed}, timeout ${Timeout}, survived ${Survived}, no coverage ${NoCoverage})`)
  }
}

function changedFiles(base) {
  const git = (...args) => {
    const out = spawnSync('git', args, { encoding: 'utf8' })
    if (out.status !== 0) {
      console.error(`git ${args.join(' ')} failed: ${out.stderr.trim()}`)
      process.exit(2)
    }
    return out.stdout.split('\n').filter((line) => line !== '')
  }
  const mergeBase = git('merge-base', base, 'HEAD')[0]
  // Committed on this branch since it left `base`, plus uncommitted changes.
  return [...new Set([...git('diff', '--name-only', mergeBase), ...git('ls-files', '--others', '--exclude-standard')])]
}

let files = []
if (values.summary) {
  printSummary(Object.keys(TARGETS))
  process.exit(0)
}
for (const file of values.mutate) files.push(file)
for (const name of values.package) {
  const prefix = `packages/${name}/`
  const inPackage = Object.keys(TARGETS).filter((file) => file.startsWith(prefix))
  if (inPackage.length === 0) {
    console.error(`no mapped files in ${prefix}\n${usage}`)
    process.exit(2)
  }
  files.push(...inPackage)
}
if (values.changed) {
  const changed = new Set(changedFiles(values.base))
  // A source file changed, or one of its tests did.
  const hit = Object.entries(TARGETS).filter(([file, tests]) => changed.has(file) || tests.some((test) => changed.has(test)))
  if (hit.length === 0) {
    console.log(`mutation: no mapped source file or test changed since ${values.base}`)
    process.exit(0)
  }
  files.push(...hit.map(([file]) => file))
}
if (files.length === 0) {
  console.error(usage)
  process.exit(2)
}
files = [...new Set(files)]

const failed = []
for (const target of files) {
  const file = target.replace(/:[0-9:-]+$/, '') // `file.ts:10-20` mutates a line range
  const tests = (TARGETS[file] ?? []).filter((test) => existsSync(test))
  if (!existsSync(file)) {
    console.error(`mutation: ${file} does not exist`)
    process.exit(2)
  }
  if (tests.length === 0) {
    console.error(`mutation: no test files are mapped to ${file}; add it to TARGETS in scripts/mutation.mjs`)
    process.exit(2)
  }
  mkdirSync(`${reportDir}/incremental`, { recursive: true })
  const incremental = `${reportDir}/incremental/${slug(file)}.json`
  // StrykerJS reuses a survivor when its code is unchanged even if a newly
  // mapped test file would kill it (static mutants especially): a changed
  // test list starts the file afresh.
  const testList = `${incremental}.tests`
  const previousTests = existsSync(testList) ? readFileSync(testList, 'utf8') : ''
  if (values.fresh || previousTests !== tests.join('\n')) rmSync(incremental, { force: true })
  writeFileSync(testList, tests.join('\n'))
  console.log(`\nmutation: ${target} against ${tests.join(', ')}`)
  const run = spawnSync(process.execPath, [`${root}node_modules/@stryker-mutator/core/bin/stryker.js`, 'run', 'stryker.config.mjs', '--mutate', target], {
    stdio: 'inherit',
    env: {
      ...process.env,
      WIRE_AUTH_MUTATION_TESTS: tests.join(','),
      WIRE_AUTH_MUTATION_CONCURRENCY: values.concurrency,
      WIRE_AUTH_MUTATION_INCREMENTAL: incremental,
      WIRE_AUTH_MUTATION_JSON: `${reportDir}/${slug(file)}.json`,
      WIRE_AUTH_MUTATION_HTML: `${reportDir}/${slug(file)}.html`,
    },
  })
  if (run.status !== 0) failed.push(file)
}
printSummary(files.map((target) => target.replace(/:[0-9:-]+$/, '')))
if (failed.length > 0) {
  console.error(`mutation: StrykerJS failed on ${failed.join(', ')}`)
  process.exit(1)
}
