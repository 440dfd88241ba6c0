import { describe, it } from 'vitest'

/**
 * The MongoDB server the MongoDB suites run against: MONGODB_URL. `npm test`
 * (scripts/test.mjs) and `.ci/run` start FerretDB and set it when unset;
 * point it at a real mongod (`MONGODB_URL=mongodb://host:27017 npm test`) to
 * run the same suites there.
 */
export const MONGODB_URL = process.env.MONGODB_URL ?? ''

/** Under CI (scripts/test.mjs sets CI=true) a missing server is a failure, never a skip. */
const required = (process.env.CI ?? '') !== '' && process.env.CI !== 'false' && process.env.CI !== '0'

/**
 * `describe` for a suite that needs a MongoDB server. Without MONGODB_URL:
 * under CI one failing test says so; elsewhere (a plain `npx vitest run`) the
 * suite is skipped, with the reason in its title.
 */
export function describeMongo(title: string, body: () => void, options: { timeout?: number } = {}): void {
  if (MONGODB_URL !== '') describe(title, options, body)
  else if (required) {
    describe(title, () => {
      it('has a MongoDB server (MONGODB_URL)', () => {
        throw new Error('MONGODB_URL is not set: npm test starts FerretDB (node scripts/ferretdb.mjs) — see the FerretDB lines above for why it did not start')
      })
    })
  } else describe.skip(`${title} — skipped: MONGODB_URL is not set (npm test starts FerretDB for you)`, options, body)
}
