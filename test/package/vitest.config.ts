import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// The packages as a stranger gets them: `npm pack` the three packages, install
// the tarballs into a fresh project, type-check the documented examples
// against the installed declarations and run the README's quick start in
// Chromium. Its own suite (scripts/test.mjs): it needs the build and a minute.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/package/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    fileParallelism: false,
    pool: 'forks',
  },
})
