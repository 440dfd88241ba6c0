import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { WireAuthError } from '@wire-auth/core'
import { codedError } from './errors.js'

/**
 * Where the elements bundle lives: `@wire-auth/elements/wire-auth.js` when
 * the package resolves (installed or workspace), else the sibling
 * `packages/elements/dist/` relative to this file (src/lib or dist/lib).
 * @internal
 */
export function bundleDirectory(): string {
  try {
    return fileURLToPath(new URL('./', import.meta.resolve('@wire-auth/elements/wire-auth.js')))
  } catch {
    return fileURLToPath(new URL('../../../elements/dist/', import.meta.url))
  }
}

/**
 * The version of `@wire-auth/elements` whose bundle is in `directory`
 * (its `dist/`), read from the package's `package.json`; `undefined` when
 * there is none (a bare directory in tests).
 * @internal
 */
export function bundleVersion(directory: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', `file://${directory.endsWith('/') ? directory : `${directory}/`}`), 'utf8')) as { name?: unknown; version?: unknown }
    return pkg.name === '@wire-auth/elements' && typeof pkg.version === 'string' && /^[0-9A-Za-z.+-]+$/.test(pkg.version) ? pkg.version : undefined
  } catch {
    return undefined
  }
}

/** The path of the versioned bundle URL, e.g. `/wire-auth@0.1.0.js`. @internal */
export function versionedBundlePath(version: string): string {
  return `/wire-auth@${version}.js`
}

/**
 * The modules the bundle imports only when a page needs them, served beside it as
 * `wire-auth-<name>.js`: the UI elements, the token helpers (first `WireAuth.signIn()`
 * or `getToken()`), `@simplewebauthn/browser` (imported by the UI module for a passkey ceremony).
 * @internal
 */
export const LAZY_MODULES = ['ui', 'tokens', 'webauthn'] as const

/** One of {@link LAZY_MODULES}. @internal */
export type LazyModule = (typeof LAZY_MODULES)[number]

/** The path of a versioned lazily loaded module, e.g. `/wire-auth-ui@0.1.0.js`. @internal */
export function versionedModulePath(name: LazyModule, version: string): string {
  return `/wire-auth-${name}@${version}.js`
}

/** Subresource Integrity value (`sha384-…`) of the given bytes. @internal */
export function integrityOf(body: Buffer): string {
  return `sha384-${createHash('sha384').update(body).digest('base64')}`
}

/** What a site needs to pin the elements bundle it trusts. */
export interface BundleInfo {
  /** Version of `@wire-auth/elements` that built the bundle. */
  version: string
  /** Path of the versioned, immutable URL on the backend, e.g. `/wire-auth@0.1.0.js`. */
  path: string
  /** Subresource Integrity value of the bundle's bytes (`sha384-…`), for the `integrity` attribute. */
  integrity: string
  /** Size of the bundle in bytes. */
  bytes: number
  /**
   * The UI module the versioned bundle imports when a page holds a UI
   * element (`<wire-auth-sign-in>`…): its versioned path and integrity, for
   * an import map's `integrity` entry. Absent when it was not built.
   */
  ui?: BundleModuleInfo
  /** The token helpers the versioned bundle imports on the first `WireAuth.signIn()`, `completeSignIn()` or `getToken()`. */
  tokens?: BundleModuleInfo
  /** The passkey ceremony (`@simplewebauthn/browser`), imported by the versioned UI module when the user adds a passkey or signs in with one. */
  webauthn?: BundleModuleInfo
}

/** A module the versioned bundle imports: pin it with an import map's `integrity`. */
export interface BundleModuleInfo {
  /** Path of its versioned URL, e.g. `/wire-auth-ui@0.1.0.js`. */
  path: string
  /** Subresource Integrity value of its bytes (`sha384-…`). */
  integrity: string
  /** Size in bytes. */
  bytes: number
}

/**
 * Describes the elements bundle this server serves: its versioned URL path
 * and its Subresource Integrity hash, computed from the very bytes served.
 * Also printed by `wire-auth bundle-info`.
 *
 * @example
 * ```ts
 * const { path, integrity } = bundleInfo()
 * const tag = `<script type="module" src="https://auth.example.com${path}" integrity="${integrity}" crossorigin="anonymous"></script>`
 * ```
 * @throws `ERR_BUNDLE_NOT_BUILT` when the bundle or its package.json cannot be read
 */
export function bundleInfo(): BundleInfo {
  const directory = bundleDirectory()
  const version = bundleVersion(directory)
  let body: Buffer
  try {
    body = readFileSync(`${directory}${directory.endsWith('/') ? '' : '/'}wire-auth.js`)
  } catch (err) {
    throw bundleNotBuilt(err)
  }
  if (version === undefined) throw bundleNotBuilt(undefined)
  const info: BundleInfo = { version, path: versionedBundlePath(version), integrity: integrityOf(body), bytes: body.length }
  for (const name of LAZY_MODULES) {
    try {
      const module = readFileSync(`${directory}${directory.endsWith('/') ? '' : '/'}wire-auth-${name}.js`)
      info[name] = { path: versionedModulePath(name, version), integrity: integrityOf(module), bytes: module.length }
    } catch {
      // Not in this build: nothing to pin.
    }
  }
  return info
}

function bundleNotBuilt(cause: unknown): WireAuthError {
  return codedError('ERR_BUNDLE_NOT_BUILT', 'the elements bundle (wire-auth.js) is not built or @wire-auth/elements is not installed', { cause })
}
