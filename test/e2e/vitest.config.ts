import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// End-to-end: `node demo/server.mjs` (the built packages, as `npm start` runs
// it) driven by Chromium through playwright-core. One file at a time: each
// starts its own demo server and browser.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
  },
})
