// Browser tests of @wire-auth/elements in real Chromium against a real backend.
//
// The test pages are served by the web-test-runner dev server on
// http://localhost:<port>; the backend (packages/elements/test/backend/server.mjs, the
// BUILT server on a temp SQLite file) runs on another port, so every test is
// cross-origin (CORS, the socket's Origin check) but same-site (cookies).
// Tests load the bundle from the backend (`<backend>/wire-auth.js`), as a
// site would, and read the backend's URL from the virtual module
// `/__wire-auth/env.js`. Run `npm run build` first (`npm test` does).
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defaultReporter } from '@web/test-runner'
import { chromeLauncher } from '@web/test-runner-chrome'
import { freePort, startBrowserBackend } from './packages/elements/test/backend/server.mjs'

const resultsDir = fileURLToPath(new URL('./test-results/', import.meta.url))

/** Counts tests of one session's result tree; failed tests' names go to `failures`. */
function countTests(suite, counts, failures, path = []) {
  for (const test of suite?.tests ?? []) {
    if (test.skipped) counts.skipped++
    else if (test.passed) counts.passed++
    else {
      counts.failed++
      failures.push([...path, test.name].join(' > ') + `: ${String(test.error?.message ?? '').split('\n')[0].slice(0, 300)}`)
    }
  }
  for (const child of suite?.suites ?? []) countTests(child, counts, failures, [...path, child.name])
  return counts
}

/**
 * Writes test-results/wtr.json `{ passed, failed, skipped, failures }` for scripts/test.mjs.
 * A test file that failed without a failing test (it did not load, a hook
 * threw outside a test) counts as one failure.
 */
function summaryFileReporter() {
  return {
    onTestRunFinished({ sessions }) {
      const total = { passed: 0, failed: 0, skipped: 0, failures: [] }
      for (const session of sessions) {
        const file = session.testFile.replace(process.cwd() + '/', '')
        const failures = []
        const counts = countTests(session.testResults, { passed: 0, failed: 0, skipped: 0 }, failures)
        if (!session.passed && counts.failed === 0) {
          counts.failed = 1
          failures.push(`(the file failed: ${String(session.errors?.[0]?.message ?? 'no message').split('\n')[0].slice(0, 300)})`)
        }
        total.failures.push(...failures.map((failure) => `${file} > ${failure}`))
        total.passed += counts.passed
        total.failed += counts.failed
        total.skipped += counts.skipped
      }
      mkdirSync(resultsDir, { recursive: true })
      writeFileSync(`${resultsDir}wtr.json`, JSON.stringify(total))
    },
  }
}

const port = await freePort()
const pageOrigin = `http://localhost:${port}`
let backend

export default {
  files: ['packages/elements/test/**/*.test.js'],
  hostname: 'localhost',
  port,
  nodeResolve: false,
  concurrency: 1,
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: '/usr/bin/chromium',
        args: [
          '--headless=new',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      },
    }),
  ],
  browserStartTimeout: 60_000,
  testsStartTimeout: 60_000,
  testsFinishTimeout: 180_000,
  testFramework: { config: { timeout: 20_000 } },
  reporters: [defaultReporter(), summaryFileReporter()],
  plugins: [
    {
      name: 'wire-auth-browser-backend',
      async serverStart() {
        backend = await startBrowserBackend({ pageOrigin })
      },
      async serverStop() {
        await backend?.close()
      },
      serve(context) {
        if (context.path === '/__wire-auth/env.js') {
          const env = { backend: backend.url, foreignPage: backend.foreignUrl, foreignRegionPage: backend.foreignRegionUrl, pageOrigin }
          return { body: `export default ${JSON.stringify(env)}`, type: 'js' }
        }
        if (context.path === '/__login') {
          return { body: '<!doctype html><p id="login-page">login</p>', type: 'html' }
        }
        return undefined
      },
    },
  ],
}
