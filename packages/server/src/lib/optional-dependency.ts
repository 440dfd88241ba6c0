import { OptionalDependencyMissing } from '@wire-auth/core'

/**
 * Imports an optional peer dependency (`mongodb`, `ioredis`), or throws
 * `ERR_OPTIONAL_DEPENDENCY_MISSING` naming the package to install. The
 * subpath entries call this before loading the code that imports the driver
 * statically, so a missing driver is a coded error instead of Node's
 * `ERR_MODULE_NOT_FOUND` from deep inside the package.
 * @param packageName the npm package, e.g. `mongodb`
 * @param entry the wire-auth entry that needs it, e.g. `@wire-auth/server/mongodb`
 * @throws `ERR_OPTIONAL_DEPENDENCY_MISSING` when the package is not installed
 * @internal
 */
export async function requireOptional(packageName: string, entry: string, load: () => Promise<unknown>): Promise<void> {
  try {
    await load()
  } catch (err) {
    if (isMissing(err, packageName)) {
      throw new OptionalDependencyMissing(packageName, `${entry} needs the optional peer dependency "${packageName}": run \`npm install ${packageName}\``, { cause: err })
    }
    throw err
  }
}

/** True when `err` is Node's "package not found" for `packageName` itself (not for one of its own dependencies). */
function isMissing(err: unknown, packageName: string): boolean {
  if (typeof err !== 'object' || err === null) return false
  const { code, message } = err as { code?: unknown; message?: unknown }
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && typeof message === 'string' && message.includes(`'${packageName}'`)
}
