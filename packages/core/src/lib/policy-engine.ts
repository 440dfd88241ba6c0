import { PolicyDuplicate, PolicyInvalid, type WireAuthErrorCode } from './errors.js'
import type { GuardSpec } from './guard-spec.js'
import { DeadlineList, type Deadline } from './deadlines.js'
import type { WireAuthLogger } from './logger.js'
import type { ClaimsPrincipal } from './principal.js'
import { NAME_PATTERN } from './protocol/limits.js'

/** What a policy function receives besides the user. */
export interface PolicyContext {
  /** The framework request (a FastifyRequest on the server; on the live socket, its upgrade request), if any. */
  request?: unknown
  /** The region's `params` (resource-based authorization). Never trusted blindly. */
  params: Readonly<Record<string, unknown>>
}

/** An arbitrary (async) authorization check. Anything but `true` denies. */
export type PolicyFunction = (user: ClaimsPrincipal, ctx: PolicyContext) => boolean | Promise<boolean>

/**
 * A named policy's requirement.
 * - `{ requiresClaim: [type] }` any value of `type`; `[type, value]` exactly that value.
 * - `{ requiresClaims: [[type, value], …] }` all must hold.
 * - `{ requiresAuthenticated: true }` any signed-in user.
 * - a {@link PolicyFunction}.
 */
export type PolicyRequirement =
  | { requiresClaim: readonly [string] | readonly [string, string] }
  | { requiresClaims: ReadonlyArray<readonly [string, string] | readonly [string]> }
  | { requiresAuthenticated: true }
  | PolicyFunction

/** The outcome of an evaluation. `code` says why a denial happened. */
export interface PolicyDecision {
  allowed: boolean
  code?: WireAuthErrorCode
}

/** What the policy engine logs to: the `warn` of the one logger subset ({@link WireAuthLogger}). */
export type PolicyLogger = Pick<WireAuthLogger, 'warn'>

/** Options of {@link createPolicyEngine}. */
export interface PolicyEngineOptions {
  /** Time-out of one async evaluation in ms; a time-out denies. Default 2000. */
  timeoutMs?: number
  /** Where denials caused by faults are logged (with their code). */
  logger?: PolicyLogger
}

type CompiledPolicy = (user: ClaimsPrincipal, ctx: PolicyContext) => boolean | Promise<boolean>
type Then = (this: unknown, onFulfilled: (value: unknown) => void, onRejected: (reason: unknown) => void) => unknown

/** An async evaluation waiting for its policy or its deadline, in the engine's deadline list. */
interface PendingEvaluation extends Deadline {
  readonly name: string
  readonly resolve: (decision: PolicyDecision) => void
}

/**
 * Unknown policy names come from element attributes, so from clients, at
 * socket rates: one log line each would let anyone fill the log with text of
 * their choosing (issue 13 C6). At most one line per this interval; it counts
 * what was suppressed since the previous line and names a few of them.
 * @internal
 */
export const UNKNOWN_POLICY_LOG_INTERVAL_MS = 10_000
const UNKNOWN_POLICY_NAMES_LOGGED = 5

/** A monotonic clock in ms, read through the global at each call (fake timers in tests replace `performance`). */
function now(): number {
  return performance.now()
}

const ALLOW: PolicyDecision = Object.freeze({ allowed: true })
const DENY: PolicyDecision = Object.freeze({ allowed: false, code: 'ERR_DENIED' as const })
const UNAUTHENTICATED: PolicyDecision = Object.freeze({ allowed: false, code: 'ERR_UNAUTHENTICATED' as const })
const EMPTY_PARAMS: Readonly<Record<string, unknown>> = Object.freeze({})

function isClaimPair(value: unknown): value is readonly [string] | readonly [string, string] {
  return (
    Array.isArray(value) &&
    (value.length === 1 || value.length === 2) &&
    value.every((part) => typeof part === 'string') &&
    value[0] !== ''
  )
}

function holdsAll(user: ClaimsPrincipal, pairs: ReadonlyArray<readonly [string] | readonly [string, string]>): boolean {
  if (!user.isAuthenticated) return false
  for (const [type, value] of pairs) if (!user.hasClaim(type, value)) return false
  return true
}

function compile(name: string, requirement: unknown): CompiledPolicy {
  if (typeof requirement === 'function') return requirement as PolicyFunction
  if (requirement === null || typeof requirement !== 'object' || Array.isArray(requirement)) {
    throw new PolicyInvalid(`policy "${name}" must be an object requirement or a function`)
  }
  const keys = Object.keys(requirement)
  if (keys.length !== 1) {
    throw new PolicyInvalid(`policy "${name}" must have exactly one of requiresClaim, requiresClaims, requiresAuthenticated`)
  }
  const req = requirement as Record<string, unknown>
  if ('requiresClaim' in req) {
    if (!isClaimPair(req.requiresClaim)) throw new PolicyInvalid(`policy "${name}": "requiresClaim" must be [type] or [type, value] of non-empty strings`)
    const pairs = [Object.freeze([...req.requiresClaim]) as readonly [string] | readonly [string, string]]
    return (user) => holdsAll(user, pairs)
  }
  if ('requiresClaims' in req) {
    const list = req.requiresClaims
    if (!Array.isArray(list) || list.length === 0 || !list.every(isClaimPair)) {
      throw new PolicyInvalid(`policy "${name}": "requiresClaims" must be a non-empty array of [type, value] pairs`)
    }
    const pairs = list.map((pair) => Object.freeze([...pair]) as readonly [string, string])
    return (user) => holdsAll(user, pairs)
  }
  // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): an unknown requirement is refused with the same code either way
  if ('requiresAuthenticated' in req) {
    if (req.requiresAuthenticated !== true) throw new PolicyInvalid(`policy "${name}": "requiresAuthenticated" must be true`)
    return (user) => user.isAuthenticated
  }
  throw new PolicyInvalid(`policy "${name}" has an unknown requirement "${keys[0]}"`)
}

/**
 * Named policies, evaluated on the server only. Evaluation fails closed: an
 * unknown policy, a throw, a rejected promise, a non-boolean result or a
 * time-out is a denial with a code, logged through `options.logger`.
 *
 * @example
 * ```ts
 * const engine = createPolicyEngine()
 * engine.addPolicy('AdminOnly', { requiresClaim: ['role', 'admin'] })
 * engine.addPolicy('OwnsItem', async (user, { params }) => user.userId === params.ownerId)
 * const { allowed } = await engine.evaluate('AdminOnly', request.user)
 * ```
 */
export class PolicyEngine {
  readonly #policies = new Map<string, CompiledPolicy>()
  readonly #logger: PolicyLogger | undefined
  /** Pending async evaluations under the time-out: one timer per engine (`deadlines.ts`, shared with fragments). */
  readonly #deadlines: DeadlineList<PendingEvaluation>

  constructor(options: PolicyEngineOptions = {}) {
    const timeoutMs = options.timeoutMs ?? 2000
    // setTimeout turns delays above 2^31-1 ms into 1 ms: such a time-out would deny everything.
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > 2_147_483_647) {
      throw new PolicyInvalid('"options.timeoutMs" must be a positive number of milliseconds up to 2147483647')
    }
    this.#logger = options.logger
    this.#deadlines = new DeadlineList<PendingEvaluation>(timeoutMs, (pending) => pending.resolve(this.#fault('ERR_POLICY_TIMEOUT', pending.name)))
  }

  /**
   * Registers a named policy.
   * @throws PolicyDuplicate `ERR_POLICY_DUPLICATE` when the name is taken.
   * @throws PolicyInvalid `ERR_POLICY_INVALID` when name or requirement is malformed.
   */
  addPolicy(name: string, requirement: PolicyRequirement): this {
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      throw new PolicyInvalid(`policy name ${JSON.stringify(name)} must be 1-128 characters of [A-Za-z0-9_.:-]`)
    }
    if (this.#policies.has(name)) throw new PolicyDuplicate(`policy "${name}" is already registered`)
    this.#policies.set(name, compile(name, requirement))
    return this
  }

  /** True when a policy of that name is registered. */
  hasPolicy(name: string): boolean {
    return this.#policies.has(name)
  }

  /** Names of the registered policies. */
  policyNames(): string[] {
    return [...this.#policies.keys()]
  }

  /**
   * Evaluates one named policy. Never throws and never rejects.
   */
  evaluate(name: string, user: ClaimsPrincipal, ctx?: Partial<PolicyContext>): Promise<PolicyDecision> {
    const policy = this.#policies.get(name)
    if (policy === undefined) {
      this.#logUnknown(name)
      return Promise.resolve({ allowed: false, code: 'ERR_POLICY_NOT_FOUND' })
    }
    return this.#run(name, policy, user, { request: ctx?.request, params: ctx?.params ?? EMPTY_PARAMS })
  }

  /**
   * Evaluates a parsed guard spec: authenticated, a policy, or a list of
   * claims that must all hold. An anonymous user is denied with
   * `ERR_UNAUTHENTICATED` (so callers can answer 401 rather than 403).
   */
  async evaluateGuard(spec: GuardSpec, user: ClaimsPrincipal, ctx?: Partial<PolicyContext>): Promise<PolicyDecision> {
    if (!user.isAuthenticated) return UNAUTHENTICATED
    switch (spec !== null && typeof spec === 'object' ? spec.kind : undefined) {
      case 'authenticated':
        return ALLOW
      case 'claims':
        try {
          const claims = (spec as Extract<GuardSpec, { kind: 'claims' }>).claims
          // An empty list would allow any signed-in user: fail closed, as parseGuardSpec does.
          if (!Array.isArray(claims) || claims.length === 0) throw new TypeError('empty claims')
          return holdsAll(user, claims) ? ALLOW : DENY
        } catch {
          // A hand-built spec whose claims are not a non-empty list of pairs.
          this.#log({ code: 'ERR_GUARD_SPEC_INVALID' }, 'malformed guard claims denied')
          return { allowed: false, code: 'ERR_GUARD_SPEC_INVALID' }
        }
      case 'policy':
        return this.evaluate((spec as Extract<GuardSpec, { kind: 'policy' }>).policy, user, ctx)
      default:
        this.#log({ code: 'ERR_GUARD_SPEC_INVALID' }, 'unknown guard kind denied')
        return { allowed: false, code: 'ERR_GUARD_SPEC_INVALID' }
    }
  }

  #run(name: string, policy: CompiledPolicy, user: ClaimsPrincipal, ctx: PolicyContext): Promise<PolicyDecision> {
    let result: unknown
    try {
      result = policy(user, ctx)
    } catch (err) {
      return Promise.resolve(this.#fault('ERR_POLICY_THREW', name, err))
    }
    if (result === true) return Promise.resolve(ALLOW)
    if (result === false) return Promise.resolve(DENY)
    let then: unknown
    try {
      // Reading `then` runs a getter of the policy's result, which may throw.
      then = result !== null && typeof result === 'object' ? (result as { then?: unknown }).then : undefined
    } catch (err) {
      return Promise.resolve(this.#fault('ERR_POLICY_THREW', name, err))
    }
    if (typeof then !== 'function') return Promise.resolve(this.#fault('ERR_POLICY_RESULT', name))
    return new Promise<PolicyDecision>((resolve) => {
      const pending: PendingEvaluation = { name, at: this.#deadlines.deadline(), resolve, prev: null, next: null, done: false }
      this.#deadlines.start(pending)
      this.#follow(pending, result, then as Then)
    })
  }

  /** Subscribes to a thenable once; a synchronous throw of its `then` is a rejection. */
  #follow(pending: PendingEvaluation, thenable: unknown, then: Then): void {
    try {
      then.call(
        thenable,
        (value) => this.#fulfilled(pending, value),
        (err) => this.#finish(pending, 'ERR_POLICY_THREW', err),
      )
    } catch (err) {
      this.#finish(pending, 'ERR_POLICY_THREW', err)
    }
  }

  /** A boolean decides; a thenable is adopted as `await` would; anything else is a bad result. */
  #fulfilled(pending: PendingEvaluation, value: unknown): void {
    // Stryker disable next-line ConditionalExpression: equivalent (docs/testing.md): #finish ignores a settled evaluation too (this only returns early)
    if (pending.done) return
    if (value === true || value === false) {
      this.#finish(pending, value ? null : 'ERR_DENIED')
      return
    }
    let then: unknown
    try {
      then = value !== null && (typeof value === 'object' || typeof value === 'function') ? (value as { then?: unknown }).then : undefined
    } catch (err) {
      this.#finish(pending, 'ERR_POLICY_THREW', err)
      return
    }
    if (typeof then === 'function') this.#follow(pending, value, then as Then)
    else this.#finish(pending, 'ERR_POLICY_RESULT')
  }

  /**
   * Settles a pending evaluation once: `null` allows, `ERR_DENIED` denies,
   * any other code is a logged fault. Later settles (a policy that answers
   * after its time-out, or calls back twice) are ignored.
   */
  #finish(pending: PendingEvaluation, code: WireAuthErrorCode | null, err?: unknown): void {
    if (!this.#deadlines.settle(pending)) return
    pending.resolve(code === null ? ALLOW : code === 'ERR_DENIED' ? DENY : this.#fault(code, pending.name, err))
  }

  #fault(code: WireAuthErrorCode, policy: string, err?: unknown): PolicyDecision {
    let detail: Record<string, unknown> = {}
    try {
      if (err instanceof Error) detail = { errorName: String(err.name), errorMessage: String(err.message) }
    } catch {
      // An error object with throwing getters: log the code alone.
    }
    this.#log({ code, policy, ...detail }, 'policy fault denied')
    return { allowed: false, code }
  }

  #unknownLoggedAt = Number.NEGATIVE_INFINITY
  #unknownSuppressed = 0
  readonly #unknownNames = new Set<string>()

  /** One line per {@link UNKNOWN_POLICY_LOG_INTERVAL_MS}, with the count and a few names of those suppressed since the last. */
  #logUnknown(name: string): void {
    const at = now()
    if (at - this.#unknownLoggedAt < UNKNOWN_POLICY_LOG_INTERVAL_MS) {
      this.#unknownSuppressed++
      if (this.#unknownNames.size < UNKNOWN_POLICY_NAMES_LOGGED) this.#unknownNames.add(name.slice(0, 128))
      return
    }
    const suppressed = this.#unknownSuppressed
    const line: Record<string, unknown> = { code: 'ERR_POLICY_NOT_FOUND', policy: name.slice(0, 128) }
    if (suppressed > 0) Object.assign(line, { suppressed, suppressedPolicies: [...this.#unknownNames] })
    this.#unknownLoggedAt = at
    this.#unknownSuppressed = 0
    this.#unknownNames.clear()
    this.#log(line, suppressed > 0 ? `unknown policy denied (and ${suppressed} more since the last line)` : 'unknown policy denied')
  }

  /** Logs a denial; a throwing logger must not turn a denial into a rejection. */
  #log(obj: Record<string, unknown>, msg: string): void {
    try {
      // Stryker disable next-line OptionalChaining: equivalent (docs/testing.md): without a logger the TypeError is caught below, as a throwing logger is
      this.#logger?.warn(obj, msg)
    } catch {
      // The decision stands without the log line.
    }
  }
}

/** Creates a {@link PolicyEngine}. */
export function createPolicyEngine(options?: PolicyEngineOptions): PolicyEngine {
  return new PolicyEngine(options)
}
