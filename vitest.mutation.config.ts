import { defineConfig, mergeConfig } from 'vitest/config'
import base from './vitest.config'
import LoadFailureReporter from './test/mutation/load-failure-reporter'

// The vitest config StrykerJS runs (`npm run mutation`, scripts/mutation.mjs).
// It runs only the test files that scripts/mutation.mjs maps to the file being
// mutated (WIRE_AUTH_MUTATION_TESTS, comma separated): vitest's "related" mode
// would run nearly every test, because the tests import the package entry
// points through the aliases of vitest.config.ts.
const tests = (process.env.WIRE_AUTH_MUTATION_TESTS ?? '').split(',').filter((file) => file !== '')
if (tests.length === 0) throw new Error('vitest.mutation.config.ts: WIRE_AUTH_MUTATION_TESTS names no test file; run it through `npm run mutation`')

const config = mergeConfig(base, defineConfig({ test: { reporters: ['default', new LoadFailureReporter()] } }))
// mergeConfig concatenates arrays: replace the include list instead.
config.test!.include = tests
export default config
