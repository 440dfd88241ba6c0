import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url))

// Unit and integration tests run against the TypeScript sources; tests that
// spawn worker processes use the built dist/ (npm test builds first).
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@wire-auth\/core$/, replacement: src('./packages/core/src/index.ts') },
      { find: /^@wire-auth\/server$/, replacement: src('./packages/server/src/index.ts') },
      { find: /^@wire-auth\/server\/mongodb$/, replacement: src('./packages/server/src/mongodb.ts') },
      { find: /^@wire-auth\/server\/redis$/, replacement: src('./packages/server/src/redis.ts') },
    ],
  },
  test: {
    include: ['packages/core/test/**/*.test.ts', 'packages/server/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/e2e/**', 'test/bench/**', 'test/package/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
