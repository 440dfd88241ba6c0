// StrykerJS configuration for `npm run mutation` (scripts/mutation.mjs sets
// the file to mutate, its tests and where reports go; see docs/testing.md).
// Run it through the script: it runs one file at a time and picks the tests.
const env = (name, fallback) => process.env[name] ?? fallback

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner', './test/mutation/ignore-error-messages.mjs'],
  // Message text of errors and log lines is not the contract (codes are).
  ignorers: ['error-messages'],
  vitest: {
    configFile: 'vitest.mutation.config.ts',
    // The tests are chosen by scripts/mutation.mjs (WIRE_AUTH_MUTATION_TESTS):
    // through the package aliases every test is "related" to every file.
    related: false,
  },
  // TypeScript 7 has no JS API: no typescript checker, and no tsconfig
  // rewriting (the preprocessor imports `typescript`; it only runs when this
  // file exists in the sandbox). Vitest transpiles the sources itself.
  checkers: [],
  tsconfigFile: 'stryker-no-tsconfig.json',
  disableTypeChecks: false,
  coverageAnalysis: 'perTest',
  // Two cores are shared with other work: one or two test processes.
  concurrency: Number(env('WIRE_AUTH_MUTATION_CONCURRENCY', '1')),
  // A mutant that hangs a test (a timer never fires) costs this much: keep it short.
  timeoutMS: 5_000,
  timeoutFactor: 2,
  incremental: true,
  incrementalFile: env('WIRE_AUTH_MUTATION_INCREMENTAL', 'reports/mutation/stryker-incremental.json'),
  reporters: ['clear-text', 'progress-append-only', 'json', 'html'],
  jsonReporter: { fileName: env('WIRE_AUTH_MUTATION_JSON', 'reports/mutation/mutation.json') },
  htmlReporter: { fileName: env('WIRE_AUTH_MUTATION_HTML', 'reports/mutation/mutation.html') },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0, reportScoreTable: true, reportMutants: true },
  thresholds: { high: 90, low: 80, break: null },
  // What the sandbox copy leaves out (node_modules is linked, not copied).
  ignorePatterns: ['docs', 'demo', 'reports', 'test-results', 'test/bench', 'test/e2e', 'packages/*/dist', '*.sqlite*', '/tmp'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
}
