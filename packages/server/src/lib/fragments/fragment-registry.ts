import {
  DeadlineList,
  HtmlString,
  WireAuthError,
  parseGuardSpec,
  type ClaimsPrincipal,
  type Deadline,
  type GuardSpec,
  type PolicyContext,
  type PolicyDecision,
  type PolicyEngine,
  type RegionRequest,
  type RegionResult,
  type WireAuthErrorCode,
  type WireAuthLogger,
} from '@wire-auth/core'
import { compileFragment, type CompiledFragment, type FragmentOptions, type FragmentRender } from './fragment-definition.js'
import { guardLocation } from './guard-location.js'
import { regionDigest } from './region-digest.js'
import { RenderBudget } from './render-budget.js'
import { codedError } from '../errors.js'

/** What the registry logs to: part of core's one logger subset. */
export type FragmentLogger = Pick<WireAuthLogger, 'warn' | 'error'>

/** What a {@link FragmentRegistry} needs. @internal */
export interface FragmentRegistryDeps {
  engine: PolicyEngine
  log: FragmentLogger
  /** A safe redirect target for `value`, or null (ctx.safeRedirect). */
  safeRedirect(value: unknown): string | null
  /** Login URL for denied guards without an acceptable redirect. */
  loginUrl: string
  /** Time-out of each `load` / `render` / `else` call, ms. */
  timeoutMs: number
  /** Region evaluations per client address per second (`live.rendersPerSecond`). Default 1000. */
  rendersPerSecond?: number
  /** Told about each `render` / `else` call (metrics). */
  onRender?: (outcome: 'ok' | 'failed') => void
}

const EMPTY_PARAMS: Readonly<Record<string, unknown>> = Object.freeze({})
const AUTHENTICATED: GuardSpec = Object.freeze({ kind: 'authenticated' })
const ALLOW: PolicyDecision = Object.freeze({ allowed: true })

class RenderTimeout extends Error {}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function'
}

/** A `load` / `render` / `else` call under the time-out, in the registry's deadline list. */
interface HookDeadline extends Deadline {
  readonly reject: (err: unknown) => void
}

interface ElementAdditions {
  policySpec: GuardSpec | undefined
  claimsSpec: GuardSpec | undefined
}

const NO_ADDITIONS: ElementAdditions = Object.freeze({ policySpec: undefined, claimsSpec: undefined })

/**
 * Guard specs of element `policy` attributes naming a registered policy (so
 * bounded by the registrations, never by what clients send): a page mounts
 * the same few names over and over, each mount a fresh region request.
 */
const policySpecs = new Map<string, GuardSpec>()

/** @internal How many element policy specs are cached (tests check the bound). */
export function cachedPolicySpecCount(): number {
  return policySpecs.size
}

function policyAddition(name: string, engine: PolicyEngine): GuardSpec {
  let spec = policySpecs.get(name)
  if (spec === undefined) {
    spec = parseGuardSpec({ policy: name })
    if (engine.hasPolicy(name)) policySpecs.set(name, spec)
  }
  return spec
}

/** Parsed once per region request: a mounted region is re-evaluated on every change. */
const parsedAdditions = new WeakMap<RegionRequest, ElementAdditions | null>()

/** The element's own policy/claims as guard specs, or null when malformed. */
function elementAdditions(region: RegionRequest, engine: PolicyEngine): ElementAdditions | null {
  if (region.claims === undefined) {
    if (region.policy === undefined) return NO_ADDITIONS
    try {
      // A spec object per call: cheaper than a WeakMap entry per mounted region.
      return { policySpec: policyAddition(region.policy, engine), claimsSpec: undefined }
    } catch {
      return null
    }
  }
  let parsed = parsedAdditions.get(region)
  if (parsed === undefined) {
    try {
      parsed = {
        policySpec: region.policy === undefined ? undefined : policyAddition(region.policy, engine),
        claimsSpec: parseGuardSpec({ claims: region.claims }),
      }
    } catch {
      parsed = null
    }
    parsedAdditions.set(region, parsed)
  }
  return parsed
}

/**
 * Registered fragments and the evaluation of region requests, shared by
 * `POST /auth/fragments`, `GET /auth/fragments/:name` and the live socket.
 * Does not depend on Fastify: `request` is passed through opaquely.
 *
 * Evaluation never throws: every fault denies that region only, with a code.
 * @internal
 */
export class FragmentRegistry {
  readonly #fragments = new Map<string, CompiledFragment>()
  readonly #deps: FragmentRegistryDeps
  /** What each client may ask to evaluate per second, whichever transport it uses (checklist 28). */
  readonly renders: RenderBudget

  /** The hooks' time-outs: core's one mechanism for user code under a time-out, as the policy engine's. */
  readonly #deadlines: DeadlineList<HookDeadline>

  constructor(deps: FragmentRegistryDeps) {
    this.#deps = deps
    this.renders = new RenderBudget(deps.rendersPerSecond ?? 1000)
    this.#deadlines = new DeadlineList<HookDeadline>(deps.timeoutMs, (entry) => entry.reject(new RenderTimeout(`timed out after ${deps.timeoutMs} ms`)))
  }

  /** `value`, or a rejection with a RenderTimeout once the time-out passed first. */
  #withTimeout<T>(value: T | PromiseLike<T>): Promise<T> {
    if (!isThenable(value)) return Promise.resolve(value as T)
    return new Promise<T>((resolve, reject) => {
      const entry: HookDeadline = { at: this.#deadlines.deadline(), prev: null, next: null, done: false, reject }
      this.#deadlines.start(entry)
      Promise.resolve(value).then(
        (result) => {
          if (this.#deadlines.settle(entry)) resolve(result)
        },
        (err: unknown) => {
          if (this.#deadlines.settle(entry)) reject(err)
        },
      )
    })
  }

  /**
   * Registers a fragment.
   * @throws WireAuthError `ERR_FRAGMENT_UNGUARDED`, `ERR_FRAGMENT_INVALID`, `ERR_FRAGMENT_DUPLICATE`.
   */
  register<Data, Request>(name: string, options: FragmentOptions<Data, Request>, render: FragmentRender<Data, Request>): void {
    const fragment = compileFragment(name, options, render)
    if (this.#fragments.has(fragment.name)) {
      throw codedError('ERR_FRAGMENT_DUPLICATE', `fragment "${fragment.name}" is already registered`)
    }
    this.#fragments.set(fragment.name, fragment)
  }

  /**
   * Defines (or replaces) the fragment of an in-place region of a served
   * page: its guard and static content come from the page, its params are
   * pinned (see {@link CompiledFragment.pinnedParams}).
   * @throws WireAuthError `ERR_FRAGMENT_INVALID` for a malformed guard.
   * @internal
   */
  definePageFragment(
    name: string,
    options: FragmentOptions,
    render: FragmentRender,
    pinnedParams: Readonly<Record<string, unknown>>,
    requires: readonly GuardSpec[] = [],
  ): void {
    const fragment = compileFragment(name, options, render)
    this.#fragments.set(name, Object.freeze({ ...fragment, pinnedParams, requires: Object.freeze([...requires]) }))
  }

  /** Forgets a fragment (an in-place region of a page that changed). @internal */
  remove(name: string): void {
    this.#fragments.delete(name)
  }

  /** The policy named by a fragment's own guard, if any (live refresh filters). @internal */
  policyOf(name: string | undefined): string | undefined {
    const spec = name === undefined ? undefined : this.#fragments.get(name)?.spec
    return spec?.kind === 'policy' ? spec.policy : undefined
  }

  /** The pinned params of an in-place page fragment, if it is one (live refresh filters). @internal */
  pinnedParamsOf(name: string | undefined): Readonly<Record<string, unknown>> | undefined {
    return name === undefined ? undefined : this.#fragments.get(name)?.pinnedParams
  }

  /** True when a fragment of that name is registered. */
  has(name: string): boolean {
    return this.#fragments.has(name)
  }

  /** Registered fragments (for boot-time checks). */
  fragments(): IterableIterator<CompiledFragment> {
    return this.#fragments.values()
  }

  /**
   * Evaluates every region independently, in parallel; results keep the
   * order. Regions equal but for their id are evaluated once (their policies,
   * `load` and `render` run once), so a request repeating one region many
   * times costs one evaluation and its store reads once (issue 13 F6).
   */
  evaluateRegions(regions: readonly RegionRequest[], user: ClaimsPrincipal, request: unknown): Promise<RegionResult[]> {
    const byKey = new Map<string, Promise<RegionResult>>()
    return Promise.all(
      regions.map(async (region) => {
        const key = regionDigest(region).key
        let pending = byKey.get(key)
        if (pending === undefined) {
          pending = this.evaluateRegion(region, user, request)
          byKey.set(key, pending)
        }
        const result = await pending
        return result.id === region.id ? result : { ...result, id: region.id }
      }),
    )
  }

  /**
   * Only the decision of a region or guard (the fragment's guard AND the
   * element's policy AND claims), without running `load` or `render`: what a
   * served page's `<wire-auth-guard>` needs before any byte is sent. Never
   * throws; every fault is a denial.
   */
  async authorize(region: RegionRequest, user: ClaimsPrincipal, request: unknown): Promise<PolicyDecision> {
    try {
      const fragment = region.fragment === undefined ? undefined : this.#fragments.get(region.fragment)
      if (region.fragment !== undefined && fragment === undefined) return { allowed: false, code: 'ERR_FRAGMENT_NOT_FOUND' }
      return await this.#decide(region, fragment, user, { request, params: fragment?.pinnedParams ?? region.params ?? EMPTY_PARAMS })
    } catch (err) {
      this.#deps.log.error({ code: 'ERR_INTERNAL', fragment: region.fragment, err }, 'guard evaluation failed')
      return { allowed: false, code: 'ERR_INTERNAL' }
    }
  }

  /**
   * Evaluates one region: the fragment's guard AND the element's policy AND
   * its claims; `load` and `render` run only once all held (with
   * `bindVerdict`, render also runs on denial, without `load`).
   */
  async evaluateRegion(region: RegionRequest, user: ClaimsPrincipal, request: unknown): Promise<RegionResult> {
    try {
      const fragment = region.fragment === undefined ? undefined : this.#fragments.get(region.fragment)
      if (region.fragment !== undefined && fragment === undefined) return this.#denied(region, undefined, 'ERR_FRAGMENT_NOT_FOUND', user)
      const params = fragment?.pinnedParams ?? region.params ?? EMPTY_PARAMS
      const decision = await this.#decide(region, fragment, user, { request, params })
      if (!decision.allowed) return await this.#denied(region, fragment, decision.code ?? 'ERR_DENIED', user, request)
      if (fragment === undefined) return { id: region.id, status: 'allowed', html: '' }
      const html = await this.#render(fragment, user, request, params, true)
      if (html === null) return { id: region.id, status: 'denied', html: '', code: 'ERR_FRAGMENT_RENDER_FAILED' }
      return { id: region.id, status: 'allowed', html }
    } catch (err) {
      this.#deps.log.error({ code: 'ERR_INTERNAL', fragment: region.fragment, err }, 'region evaluation failed')
      return region.kind === 'guard'
        ? { id: region.id, status: 'redirect', location: this.#location(region, undefined), code: 'ERR_INTERNAL' }
        : { id: region.id, status: 'denied', html: '', code: 'ERR_INTERNAL' }
    }
  }

  /** Where a denied guard sends the visitor: element redirect, fragment redirect, or the login URL. */
  location(region: Pick<RegionRequest, 'redirect' | 'returnTo' | 'fragment'>): string {
    return this.#location(region, region.fragment === undefined ? undefined : this.#fragments.get(region.fragment))
  }

  async #decide(region: RegionRequest, fragment: CompiledFragment | undefined, user: ClaimsPrincipal, ctx: PolicyContext): Promise<PolicyDecision> {
    const { engine } = this.#deps
    // Parse the element's additions first: a malformed one denies without running anything.
    const additions = elementAdditions(region, engine)
    if (additions === null) return { allowed: false, code: 'ERR_GUARD_SPEC_INVALID' }
    const { policySpec, claimsSpec } = additions
    // A guard without fragment nor requirement is the bare form: must be signed in.
    const own = fragment === undefined ? (policySpec || claimsSpec ? null : AUTHENTICATED) : fragment.spec
    // All must allow, in this order; the first denial decides.
    if (own !== null) {
      const decision = await engine.evaluateGuard(own, user, ctx)
      if (!decision.allowed) return decision
    }
    if (fragment?.requires !== undefined) {
      for (const spec of fragment.requires) {
        const decision = await engine.evaluateGuard(spec, user, ctx)
        if (!decision.allowed) return decision
      }
    }
    if (policySpec !== undefined) {
      const decision = await engine.evaluateGuard(policySpec, user, ctx)
      if (!decision.allowed) return decision
    }
    if (claimsSpec !== undefined) {
      const decision = await engine.evaluateGuard(claimsSpec, user, ctx)
      if (!decision.allowed) return decision
    }
    return ALLOW
  }

  async #denied(
    region: RegionRequest,
    fragment: CompiledFragment | undefined,
    code: WireAuthErrorCode,
    user: ClaimsPrincipal,
    request?: unknown,
  ): Promise<RegionResult> {
    if (region.kind === 'guard') return { id: region.id, status: 'redirect', location: this.#location(region, fragment), code }
    let html = ''
    if (fragment?.bindVerdict) {
      html = (await this.#render(fragment, user, request, fragment.pinnedParams ?? region.params ?? EMPTY_PARAMS, false)) ?? ''
    } else if (fragment?.elseRender !== undefined) {
      const elseRender = fragment.elseRender
      html = (await this.#call(fragment.name, 'else', () => elseRender({ principal: user.toSummary(), params: fragment.pinnedParams ?? region.params ?? EMPTY_PARAMS, code }))) ?? ''
    }
    return { id: region.id, status: 'denied', html, code }
  }

  async #render(fragment: CompiledFragment, user: ClaimsPrincipal, request: unknown, params: Readonly<Record<string, unknown>>, allowed: boolean): Promise<string | null> {
    let data: unknown
    const load = fragment.load
    if (allowed && load !== undefined) {
      let failed = false
      data = await this.#withTimeout(load({ user, request, params })).catch((err: unknown) => {
        failed = true
        this.#fault(fragment.name, 'load', err)
      })
      if (failed) return null
    }
    return this.#call(fragment.name, 'render', () => fragment.render({ user, request, params, data, allowed }))
  }

  /** Runs a hook that must produce an HtmlString; null (logged) on a throw, time-out or plain string. */
  async #call(name: string, hook: 'render' | 'else', run: () => unknown): Promise<string | null> {
    let result: unknown
    try {
      result = run()
      // Most renders are synchronous: only a thenable needs the time-out.
      if (isThenable(result)) result = await this.#withTimeout(result)
    } catch (err) {
      this.#fault(name, hook, err)
      this.#deps.onRender?.('failed')
      return null
    }
    if (!(result instanceof HtmlString)) {
      this.#fault(name, hook, new TypeError(`${hook} must return an HtmlString from the html tag, got ${typeof result}`))
      this.#deps.onRender?.('failed')
      return null
    }
    this.#deps.onRender?.('ok')
    return result.toString()
  }

  #fault(fragment: string, hook: string, err: unknown): void {
    const detail = err instanceof Error ? { errorName: err.name, errorMessage: err.message, timeout: err instanceof RenderTimeout } : {}
    this.#deps.log.error({ code: 'ERR_FRAGMENT_RENDER_FAILED', fragment, hook, ...detail }, 'fragment hook failed')
  }

  #location(region: Pick<RegionRequest, 'redirect' | 'returnTo'>, fragment: CompiledFragment | undefined): string {
    return guardLocation(this.#deps, [region.redirect, fragment?.spec?.redirect], region.returnTo)
  }
}
