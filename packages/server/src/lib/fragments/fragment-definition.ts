import {
  NAME_PATTERN,
  WireAuthError,
  parseGuardSpec,
  type ClaimRequirement,
  type ClaimsPrincipal,
  type GuardSpec,
  type HtmlString,
  type PrincipalSummary,
  type WireAuthErrorCode,
} from '@wire-auth/core'
import { codedError } from '../errors.js'

/** What `load` receives: runs only after the guard allowed. */
export interface FragmentLoadContext<Request = unknown> {
  /** The signed-in principal (or ANONYMOUS for a public fragment). */
  user: ClaimsPrincipal
  /**
   * The HTTP request, or the socket's upgrade request for live renders (kept
   * as it was at the upgrade: read the principal from `user`, not `request.user`).
   */
  request: Request
  /** The region's `params`: client-supplied, deep-frozen; validate before use. */
  params: Readonly<Record<string, unknown>>
}

/** What `render` receives. */
export interface FragmentRenderContext<Data = unknown, Request = unknown> extends FragmentLoadContext<Request> {
  /**
   * The result of `load`: typed by it, undefined without `load` (and, with
   * `bindVerdict`, when the guard denied).
   */
  data: Data
  /** True unless the fragment uses `bindVerdict` and the guard denied. */
  allowed: boolean
}

/**
 * What `else` receives. Deliberately no user data beyond the principal
 * summary and no request: it runs for visitors who were denied, so it must
 * not be able to read what the guard protects.
 */
export interface FragmentElseContext {
  principal: PrincipalSummary
  params: Readonly<Record<string, unknown>>
  /** Why the region was denied (`ERR_DENIED`, `ERR_UNAUTHENTICATED`, …). */
  code: WireAuthErrorCode
}

/** Renders a fragment; must return an `HtmlString` built with core's `html` tag. */
export type FragmentRender<Data = unknown, Request = unknown> = (
  ctx: FragmentRenderContext<Data, Request>,
) => HtmlString | Promise<HtmlString>

/**
 * The guard and hooks of a fragment: exactly one of `policy`, `claims`,
 * `authenticated: true` or `public: true`.
 */
export interface FragmentOptions<Data = unknown, Request = unknown> {
  /** A named policy of the engine (implies a signed-in user). */
  policy?: string
  /** Claims that must all hold: `[["role","admin"],["email_verified","true"]]`. */
  claims?: ReadonlyArray<ClaimRequirement>
  /** Any signed-in user. */
  authenticated?: true
  /** Anyone, anonymous included. Must be explicit. */
  public?: true
  /** Where a denied page guard using this fragment sends the visitor (checked). */
  redirect?: string
  /** Loads data after the guard allowed; the result reaches `render` as `data`. */
  load?: (ctx: FragmentLoadContext<Request>) => Data | Promise<Data>
  /** HTML for a denied region (no user data: see {@link FragmentElseContext}). */
  else?: (ctx: FragmentElseContext) => HtmlString | Promise<HtmlString>
  /** Render in both cases with `allowed: boolean` (load still runs only when allowed). */
  bindVerdict?: boolean
}

/** A validated fragment. @internal */
export interface CompiledFragment {
  readonly name: string
  /** null for a public fragment. */
  readonly spec: GuardSpec | null
  readonly load: ((ctx: FragmentLoadContext) => unknown) | undefined
  readonly render: (ctx: FragmentRenderContext) => unknown
  readonly elseRender: ((ctx: FragmentElseContext) => unknown) | undefined
  readonly bindVerdict: boolean
  /**
   * Params written in a served page for an in-place region: they replace
   * whatever the client sends, so one use site's content can never be asked
   * for with another use site's params. Undefined for registered fragments.
   */
  readonly pinnedParams?: Readonly<Record<string, unknown>>
  /** Further guards that must all hold (an in-place region with both `policy` and `claims`). */
  readonly requires?: readonly GuardSpec[]
}

/** Fragment names (the protocol's {@link NAME_PATTERN}): also a URL path segment of `GET /auth/fragments/:name`. */
export const FRAGMENT_NAME = NAME_PATTERN

const OPTION_KEYS = new Set(['policy', 'claims', 'authenticated', 'public', 'redirect', 'load', 'else', 'bindVerdict'])

function fail(code: 'ERR_FRAGMENT_UNGUARDED' | 'ERR_FRAGMENT_INVALID', message: string, cause?: unknown): never {
  throw codedError(code, message, { cause })
}

/**
 * Validates a fragment registration.
 * @throws WireAuthError `ERR_FRAGMENT_UNGUARDED` without a guard and without
 *   `public: true`; `ERR_FRAGMENT_INVALID` for a bad name, unknown option,
 *   several guards, a malformed guard, or hooks that are not functions.
 * @internal
 */
export function compileFragment(name: unknown, options: unknown, render: unknown): CompiledFragment {
  if (typeof name !== 'string' || !FRAGMENT_NAME.test(name)) {
    fail('ERR_FRAGMENT_INVALID', `fragment name ${JSON.stringify(String(name).slice(0, 64))} must be 1-128 characters of [A-Za-z0-9_.:-]`)
  }
  if (options === undefined || options === null) {
    fail('ERR_FRAGMENT_UNGUARDED', `fragment "${name}" has no guard: pass { policy }, { claims }, { authenticated: true } or { public: true }`)
  }
  if (typeof options !== 'object' || Array.isArray(options)) {
    fail('ERR_FRAGMENT_INVALID', `fragment "${name}": the guard must be an object`)
  }
  const opts = options as Record<string, unknown>
  for (const key of Object.keys(opts)) {
    if (opts[key] !== undefined && !OPTION_KEYS.has(key)) fail('ERR_FRAGMENT_INVALID', `fragment "${name}": unknown option "${key.slice(0, 64)}"`)
  }
  if (typeof render !== 'function') fail('ERR_FRAGMENT_INVALID', `fragment "${name}": render must be a function`)
  for (const hook of ['load', 'else'] as const) {
    if (opts[hook] !== undefined && typeof opts[hook] !== 'function') fail('ERR_FRAGMENT_INVALID', `fragment "${name}": "${hook}" must be a function`)
  }
  if (opts.bindVerdict !== undefined && typeof opts.bindVerdict !== 'boolean') {
    fail('ERR_FRAGMENT_INVALID', `fragment "${name}": "bindVerdict" must be a boolean`)
  }
  const bindVerdict = opts.bindVerdict === true
  if (bindVerdict && opts.else !== undefined) {
    fail('ERR_FRAGMENT_INVALID', `fragment "${name}": use either "else" or "bindVerdict", not both`)
  }

  const guards = (['policy', 'claims', 'authenticated', 'public'] as const).filter((key) => opts[key] !== undefined)
  if (guards.length === 0) {
    fail('ERR_FRAGMENT_UNGUARDED', `fragment "${name}" has no guard: pass { policy }, { claims }, { authenticated: true } or { public: true }`)
  }
  if (guards.length > 1) fail('ERR_FRAGMENT_INVALID', `fragment "${name}": one guard only, not ${guards.join(' and ')}`)

  let spec: GuardSpec | null
  if (guards[0] === 'public') {
    if (opts.public !== true) fail('ERR_FRAGMENT_INVALID', `fragment "${name}": "public" must be true`)
    if (opts.redirect !== undefined) fail('ERR_FRAGMENT_INVALID', `fragment "${name}": a public fragment takes no "redirect"`)
    if (bindVerdict || opts.else !== undefined) fail('ERR_FRAGMENT_INVALID', `fragment "${name}": a public fragment is never denied; drop "else"/"bindVerdict"`)
    spec = null
  } else {
    try {
      spec = parseGuardSpec({ [guards[0]]: opts[guards[0]], redirect: opts.redirect })
    } catch (err) {
      fail('ERR_FRAGMENT_INVALID', `fragment "${name}": invalid guard (${err instanceof Error ? err.message : 'malformed'})`, err)
    }
  }
  return Object.freeze({
    name,
    spec,
    load: opts.load as CompiledFragment['load'],
    render: render as CompiledFragment['render'],
    elseRender: opts.else as CompiledFragment['elseRender'],
    bindVerdict,
  })
}
