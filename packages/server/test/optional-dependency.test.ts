import { isWireAuthError } from '@wire-auth/core'
import { describe, expect, it } from 'vitest'
import { requireOptional } from '../src/lib/optional-dependency.js'

// The real `@wire-auth/server/mongodb` and `/redis` without their drivers are
// exercised from an installed tarball in test/package/; here, the mechanism
// against a package that is really not installed.
describe('requireOptional', () => {
  it('turns Node\'s "cannot find package" into ERR_OPTIONAL_DEPENDENCY_MISSING naming the package', async () => {
    const missing = 'wire-auth-test-no-such-package'
    const err = await requireOptional(missing, '@wire-auth/server/example', () => import(missing)).catch((e: unknown) => e)
    expect(isWireAuthError(err, 'ERR_OPTIONAL_DEPENDENCY_MISSING')).toBe(true)
    expect((err as { packageName: string }).packageName).toBe(missing)
    expect((err as Error).message).toContain(`npm install ${missing}`)
  })

  it('resolves when the package is installed, and passes other errors through unchanged', async () => {
    await expect(requireOptional('ioredis', '@wire-auth/server/redis', () => import('ioredis'))).resolves.toBeUndefined()
    const other = new Error('boom')
    await expect(requireOptional('ioredis', '@wire-auth/server/redis', () => Promise.reject(other))).rejects.toBe(other)
  })
})
