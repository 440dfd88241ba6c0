import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  ANONYMOUS,
  ClaimsPrincipal,
  PolicyEngine,
  createPolicyEngine,
  createPrincipal,
  parseGuardSpec,
  type GuardSpec,
  type PolicyContext,
  type PolicyFunction,
  type PolicyLogger,
  type PolicyRequirement,
} from '@wire-auth/core'
import { UNKNOWN_POLICY_LOG_INTERVAL_MS } from '../src/lib/policy-engine.js'
import { thrownCode } from '../../../test/support/error-code.js'

const admin = createPrincipal({
  userId: 'u1',
  name: 'Ada',
  claims: [
    { type: 'role', value: 'admin' },
    { type: 'email_verified', value: 'true' },
  ],
})
const plain = createPrincipal({ userId: 'u2', name: 'Bob', claims: [{ type: 'role', value: 'user' }] })
const nobody = createPrincipal({ userId: 'u3' })

/** A logger that records what it receives, as pino would print it. */
function recordingLogger(): PolicyLogger & { entries: Array<Record<string, unknown>> } {
  const entries: Array<Record<string, unknown>> = []
  return { entries, warn: (obj) => void entries.push(obj) }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('requirement forms', () => {
  const engine = createPolicyEngine()
    .addPolicy('AnyRole', { requiresClaim: ['role'] })
    .addPolicy('AdminOnly', { requiresClaim: ['role', 'admin'] })
    .addPolicy('VerifiedAdmin', { requiresClaims: [['role', 'admin'], ['email_verified', 'true']] })
    .addPolicy('VerifiedAnyRole', { requiresClaims: [['role'], ['email_verified', 'true']] })
    .addPolicy('SignedIn', { requiresAuthenticated: true })
    .addPolicy('IsBob', (user) => user.name === 'Bob')
    .addPolicy('AsyncIsAda', async (user) => user.name === 'Ada')

  const cases: Array<[string, typeof admin, boolean]> = [
    ['AnyRole', admin, true],
    ['AnyRole', plain, true],
    ['AnyRole', nobody, false],
    ['AnyRole', ANONYMOUS, false],
    ['AdminOnly', admin, true],
    ['AdminOnly', plain, false],
    ['AdminOnly', ANONYMOUS, false],
    ['VerifiedAdmin', admin, true],
    ['VerifiedAdmin', plain, false],
    ['VerifiedAnyRole', admin, true],
    ['VerifiedAnyRole', plain, false],
    ['SignedIn', admin, true],
    ['SignedIn', nobody, true],
    ['SignedIn', ANONYMOUS, false],
    ['IsBob', plain, true],
    ['IsBob', admin, false],
    ['AsyncIsAda', admin, true],
    ['AsyncIsAda', plain, false],
  ]
  it.each(cases)('%s for %o', async (policy, user, allowed) => {
    const decision = await engine.evaluate(policy, user)
    expect(decision.allowed).toBe(allowed)
    if (allowed) expect(decision.code).toBeUndefined()
    else expect(decision.code).toBe('ERR_DENIED')
  })

  it('lists and reports registered policies', () => {
    expect(engine.hasPolicy('AdminOnly')).toBe(true)
    expect(engine.hasPolicy('Nope')).toBe(false)
    expect(engine.policyNames()).toEqual(['AnyRole', 'AdminOnly', 'VerifiedAdmin', 'VerifiedAnyRole', 'SignedIn', 'IsBob', 'AsyncIsAda'])
    expect(engine).toBeInstanceOf(PolicyEngine)
  })

  it('copies claim requirements at registration (changing the array later changes nothing)', async () => {
    const pair: [string, string] = ['role', 'admin']
    const list: Array<[string, string]> = [['role', 'admin']]
    const e = createPolicyEngine().addPolicy('One', { requiresClaim: pair }).addPolicy('Many', { requiresClaims: list })
    pair[1] = 'user'
    list[0]![1] = 'user'
    list.push(['x', 'y'])
    expect((await e.evaluate('One', admin)).allowed).toBe(true)
    expect((await e.evaluate('One', plain)).allowed).toBe(false)
    expect((await e.evaluate('Many', admin)).allowed).toBe(true)
    expect((await e.evaluate('Many', plain)).allowed).toBe(false)
  })
})

describe('registration errors', () => {
  it('refuses a duplicate name with ERR_POLICY_DUPLICATE', () => {
    const engine = createPolicyEngine().addPolicy('A', { requiresAuthenticated: true })
    expect(thrownCode(() => engine.addPolicy('A', { requiresAuthenticated: true }))).toBe('ERR_POLICY_DUPLICATE')
    expect(thrownCode(() => engine.addPolicy('A', () => true))).toBe('ERR_POLICY_DUPLICATE')
  })

  it.each([
    ['empty', ''],
    ['space', 'Admin Only'],
    ['slash', 'a/b'],
    ['too long', 'x'.repeat(129)],
    ['unicode', 'Admіn'],
    ['not a string', 42],
    ['undefined', undefined],
  ])('refuses a malformed name (%s) with ERR_POLICY_INVALID', (_label, name) => {
    expect(thrownCode(() => createPolicyEngine().addPolicy(name as string, { requiresAuthenticated: true }))).toBe('ERR_POLICY_INVALID')
  })

  it('accepts names of 128 characters from [A-Za-z0-9_.:-]', () => {
    const engine = createPolicyEngine().addPolicy('x'.repeat(128), () => true).addPolicy('org:billing.read_v2-beta', () => true)
    expect(engine.policyNames()).toHaveLength(2)
  })

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'AdminOnly'],
    ['an array', [['role', 'admin']]],
    ['an empty object', {}],
    ['two keys', { requiresClaim: ['role'], requiresAuthenticated: true }],
    ['an unknown key', { requiresRole: 'admin' }],
    ['an extra key', { requiresClaim: ['role'], note: 'x' }],
    ['requiresClaim empty', { requiresClaim: [] }],
    ['requiresClaim empty type', { requiresClaim: ['', 'admin'] }],
    ['requiresClaim number', { requiresClaim: ['role', 1] }],
    ['requiresClaim three parts', { requiresClaim: ['role', 'admin', 'x'] }],
    ['requiresClaim string', { requiresClaim: 'role' }],
    ['requiresClaims empty', { requiresClaims: [] }],
    ['requiresClaims not pairs', { requiresClaims: ['role'] }],
    ['requiresClaims bad pair', { requiresClaims: [['role', 'admin'], ['x', null]] }],
    ['requiresAuthenticated false', { requiresAuthenticated: false }],
    ['requiresAuthenticated string', { requiresAuthenticated: 'yes' }],
  ])('refuses a malformed requirement (%s) with ERR_POLICY_INVALID', (_label, requirement) => {
    expect(thrownCode(() => createPolicyEngine().addPolicy('P', requirement as PolicyRequirement))).toBe('ERR_POLICY_INVALID')
  })

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '100'])('refuses timeoutMs %s with ERR_POLICY_INVALID', (timeoutMs) => {
    expect(thrownCode(() => createPolicyEngine({ timeoutMs: timeoutMs as number }))).toBe('ERR_POLICY_INVALID')
  })
})

describe('fails closed', () => {
  it('denies an unknown policy with ERR_POLICY_NOT_FOUND and logs the code', async () => {
    const logger = recordingLogger()
    const decision = await createPolicyEngine({ logger }).evaluate('Missing', admin)
    expect(decision).toEqual({ allowed: false, code: 'ERR_POLICY_NOT_FOUND' })
    expect(logger.entries).toEqual([expect.objectContaining({ code: 'ERR_POLICY_NOT_FOUND', policy: 'Missing' })])
  })

  it('unknown policy names from clients are logged at most once per interval, with a count (issue 13 C6, regression: one line each)', async () => {
    vi.useFakeTimers({ toFake: ['performance'] })
    try {
      const logger = recordingLogger()
      const engine = createPolicyEngine({ logger })
      for (let i = 0; i < 1000; i++) {
        expect(await engine.evaluate(`Attacker-${i}`, admin)).toEqual({ allowed: false, code: 'ERR_POLICY_NOT_FOUND' })
      }
      expect(logger.entries).toEqual([{ code: 'ERR_POLICY_NOT_FOUND', policy: 'Attacker-0' }])
      vi.advanceTimersByTime(UNKNOWN_POLICY_LOG_INTERVAL_MS)
      await engine.evaluate('Later', admin)
      expect(logger.entries).toHaveLength(2)
      expect(logger.entries[1]).toEqual({
        code: 'ERR_POLICY_NOT_FOUND',
        policy: 'Later',
        suppressed: 999,
        suppressedPolicies: ['Attacker-1', 'Attacker-2', 'Attacker-3', 'Attacker-4', 'Attacker-5'],
      })
      // A name never reaches the log longer than a valid policy name.
      vi.advanceTimersByTime(UNKNOWN_POLICY_LOG_INTERVAL_MS)
      await engine.evaluate('x'.repeat(5000), admin)
      expect(String(logger.entries[2].policy).length).toBe(128)
    } finally {
      vi.useRealTimers()
    }
  })

  it('denies a policy that throws synchronously with ERR_POLICY_THREW', async () => {
    const logger = recordingLogger()
    const engine = createPolicyEngine({ logger }).addPolicy('Boom', () => {
      throw new Error('kaput')
    })
    expect(await engine.evaluate('Boom', admin)).toEqual({ allowed: false, code: 'ERR_POLICY_THREW' })
    expect(logger.entries).toEqual([expect.objectContaining({ code: 'ERR_POLICY_THREW', policy: 'Boom', errorName: 'Error' })])
  })

  it('denies a rejected promise with ERR_POLICY_THREW', async () => {
    const logger = recordingLogger()
    const engine = createPolicyEngine({ logger })
      .addPolicy('Rejects', () => Promise.reject(new Error('nope')))
      .addPolicy('AsyncThrows', async () => {
        throw new TypeError('bad')
      })
      .addPolicy('RejectsNonError', () => Promise.reject('a string'))
    for (const name of ['Rejects', 'AsyncThrows', 'RejectsNonError']) {
      expect(await engine.evaluate(name, admin)).toEqual({ allowed: false, code: 'ERR_POLICY_THREW' })
    }
    expect(logger.entries.map((e) => e.code)).toEqual(['ERR_POLICY_THREW', 'ERR_POLICY_THREW', 'ERR_POLICY_THREW'])
  })

  it.each([
    ['1', 1],
    ["'true'", 'true'],
    ['null', null],
    ['undefined', undefined],
    ['{}', {}],
    ['[]', []],
    ['{ allowed: true }', { allowed: true }],
  ])('denies the non-boolean result %s (sync and async) with ERR_POLICY_RESULT', async (_label, result) => {
    const logger = recordingLogger()
    const engine = createPolicyEngine({ logger })
      .addPolicy('Sync', (() => result) as unknown as PolicyFunction)
      .addPolicy('Async', (async () => result) as unknown as PolicyFunction)
    expect(await engine.evaluate('Sync', admin)).toEqual({ allowed: false, code: 'ERR_POLICY_RESULT' })
    expect(await engine.evaluate('Async', admin)).toEqual({ allowed: false, code: 'ERR_POLICY_RESULT' })
    expect(logger.entries.map((e) => e.code)).toEqual(['ERR_POLICY_RESULT', 'ERR_POLICY_RESULT'])
  })

  it('denies a result whose then getter throws with ERR_POLICY_THREW instead of rejecting', async () => {
    const trap = {
      get then(): never {
        throw new Error('getter')
      },
    }
    const engine = createPolicyEngine().addPolicy('Trap', (() => trap) as unknown as PolicyFunction)
    await expect(engine.evaluate('Trap', admin)).resolves.toEqual({ allowed: false, code: 'ERR_POLICY_THREW' })
  })

  it('accepts a thenable that resolves to true', async () => {
    const thenable = { then: (resolve: (v: unknown) => void) => resolve(true) }
    const engine = createPolicyEngine().addPolicy('Thenable', (() => thenable) as unknown as PolicyFunction)
    expect(await engine.evaluate('Thenable', admin)).toEqual({ allowed: true })
  })

  it('still answers when the logger throws', async () => {
    const logger: PolicyLogger = {
      warn: () => {
        throw new Error('logger down')
      },
    }
    const engine = createPolicyEngine({ logger }).addPolicy('Boom', () => {
      throw new Error('x')
    })
    await expect(engine.evaluate('Boom', admin)).resolves.toEqual({ allowed: false, code: 'ERR_POLICY_THREW' })
    await expect(engine.evaluate('Missing', admin)).resolves.toEqual({ allowed: false, code: 'ERR_POLICY_NOT_FOUND' })
  })

  it('denies a policy that does not settle within timeoutMs with ERR_POLICY_TIMEOUT', async () => {
    vi.useFakeTimers()
    const logger = recordingLogger()
    const engine = createPolicyEngine({ timeoutMs: 50, logger }).addPolicy('Hangs', () => new Promise<boolean>(() => {}))
    let decision: unknown
    void engine.evaluate('Hangs', admin).then((d) => {
      decision = d
    })
    await vi.advanceTimersByTimeAsync(49)
    expect(decision).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(decision).toEqual({ allowed: false, code: 'ERR_POLICY_TIMEOUT' })
    expect(logger.entries).toEqual([expect.objectContaining({ code: 'ERR_POLICY_TIMEOUT', policy: 'Hangs' })])
  })

  it('uses 2000 ms as the default time-out', async () => {
    vi.useFakeTimers()
    const engine = createPolicyEngine().addPolicy('Hangs', () => new Promise<boolean>(() => {}))
    let decision: unknown
    void engine.evaluate('Hangs', admin).then((d) => {
      decision = d
    })
    await vi.advanceTimersByTimeAsync(1999)
    expect(decision).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(decision).toEqual({ allowed: false, code: 'ERR_POLICY_TIMEOUT' })
  })

  it('allows a slow policy that settles before the time-out and leaves no timer once its deadline has passed', async () => {
    vi.useFakeTimers()
    const engine = createPolicyEngine({ timeoutMs: 100 }).addPolicy(
      'Slow',
      () => new Promise<boolean>((resolve) => setTimeout(resolve, 60, true)),
    )
    const pending = engine.evaluate('Slow', admin)
    await vi.advanceTimersByTimeAsync(60)
    expect(await pending).toEqual({ allowed: true })
    // The engine's one deadline timer may still fire once (unreferenced, finding nothing); it is not re-armed.
    await vi.advanceTimersByTimeAsync(100)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('arms no timer for policies that answer synchronously', async () => {
    vi.useFakeTimers()
    const engine = createPolicyEngine({ timeoutMs: 100 })
      .addPolicy('Sync', () => true)
      .addPolicy('Claim', { requiresClaim: ['role', 'admin'] })
    expect(await engine.evaluate('Sync', admin)).toEqual({ allowed: true })
    expect(await engine.evaluate('Claim', plain)).toEqual({ allowed: false, code: 'ERR_DENIED' })
    expect(vi.getTimerCount()).toBe(0)
  })

  describe('time-outs at the edge', () => {
    /** Evaluates `name` and records the decision and the (fake) time it arrived. */
    function watch(engine: PolicyEngine, name: string): { decision?: unknown; at?: number } {
      const seen: { decision?: unknown; at?: number } = {}
      void engine.evaluate(name, admin).then((decision) => {
        seen.decision = decision
        seen.at = Date.now()
      })
      return seen
    }

    it('allows a policy that settles 1 ms before its deadline', async () => {
      vi.useFakeTimers({ now: 0 })
      const logger = recordingLogger()
      const engine = createPolicyEngine({ timeoutMs: 50, logger }).addPolicy('Edge', () => new Promise<boolean>((resolve) => setTimeout(resolve, 49, true)))
      const seen = watch(engine, 'Edge')
      await vi.advanceTimersByTimeAsync(49)
      expect(seen).toEqual({ decision: { allowed: true }, at: 49 })
      await vi.advanceTimersByTimeAsync(100)
      expect(seen.decision).toEqual({ allowed: true })
      expect(logger.entries).toEqual([])
    })

    it('denies at exactly timeoutMs and ignores a settle 1 ms later (no second decision, no second log)', async () => {
      vi.useFakeTimers({ now: 0 })
      const logger = recordingLogger()
      let settled = false
      const engine = createPolicyEngine({ timeoutMs: 50, logger })
        .addPolicy('LateTrue', () => new Promise<boolean>((resolve) => setTimeout(() => ((settled = true), resolve(true)), 51)))
        .addPolicy('LateReject', () => new Promise<boolean>((_resolve, reject) => setTimeout(reject, 51, new Error('late'))))
      const lateTrue = watch(engine, 'LateTrue')
      const lateReject = watch(engine, 'LateReject')
      await vi.advanceTimersByTimeAsync(49)
      expect(lateTrue.decision).toBeUndefined()
      await vi.advanceTimersByTimeAsync(1)
      expect(lateTrue).toEqual({ decision: { allowed: false, code: 'ERR_POLICY_TIMEOUT' }, at: 50 })
      expect(lateReject).toEqual({ decision: { allowed: false, code: 'ERR_POLICY_TIMEOUT' }, at: 50 })
      await vi.advanceTimersByTimeAsync(10)
      expect(settled).toBe(true)
      expect(lateTrue.decision).toEqual({ allowed: false, code: 'ERR_POLICY_TIMEOUT' })
      expect(logger.entries.map((e) => [e.code, e.policy])).toEqual([
        ['ERR_POLICY_TIMEOUT', 'LateTrue'],
        ['ERR_POLICY_TIMEOUT', 'LateReject'],
      ])
    })

    it('decides many concurrent evaluations of different timing each against its own deadline', async () => {
      vi.useFakeTimers({ now: 0 })
      const timeoutMs = 40
      const logger = recordingLogger()
      const engine = createPolicyEngine({ timeoutMs, logger })
      // Settle delays around the edge, plus never; starts spread over several deadlines.
      const delays = [0, 1, 10, timeoutMs - 1, timeoutMs + 1, 2 * timeoutMs, Number.POSITIVE_INFINITY]
      const cases: Array<{ start: number; delay: number; result: boolean | 'reject'; seen?: { decision?: unknown; at?: number } }> = []
      for (let i = 0; i < 140; i++) {
        cases.push({ start: (i * 7) % 97, delay: delays[i % delays.length]!, result: i % 3 === 0 ? false : i % 5 === 0 ? 'reject' : true })
      }
      cases.forEach((c, i) => {
        engine.addPolicy(`P${i}`, () =>
          new Promise<boolean>((resolve, reject) => {
            if (c.delay === Number.POSITIVE_INFINITY) return
            setTimeout(() => (c.result === 'reject' ? reject(new Error('no')) : resolve(c.result as boolean)), c.delay)
          }),
        )
      })
      for (let t = 0; t <= 97 + 3 * timeoutMs; t++) {
        cases.forEach((c, i) => {
          if (c.start === t) c.seen = watch(engine, `P${i}`)
        })
        await vi.advanceTimersByTimeAsync(1)
      }
      for (const c of cases) {
        if (c.delay < timeoutMs) {
          const expected = c.result === true ? { allowed: true } : c.result === false ? { allowed: false, code: 'ERR_DENIED' } : { allowed: false, code: 'ERR_POLICY_THREW' }
          expect(c.seen, `start ${c.start}, delay ${c.delay}`).toEqual({ decision: expected, at: c.start + c.delay })
        } else {
          expect(c.seen, `start ${c.start}, delay ${c.delay}`).toEqual({ decision: { allowed: false, code: 'ERR_POLICY_TIMEOUT' }, at: c.start + timeoutMs })
        }
      }
      const timeouts = cases.filter((c) => c.delay >= timeoutMs).length
      const rejects = cases.filter((c) => c.delay < timeoutMs && c.result === 'reject').length
      expect(logger.entries.filter((e) => e.code === 'ERR_POLICY_TIMEOUT')).toHaveLength(timeouts)
      expect(logger.entries.filter((e) => e.code === 'ERR_POLICY_THREW')).toHaveLength(rejects)
      expect(logger.entries).toHaveLength(timeouts + rejects)
      expect(vi.getTimerCount()).toBe(0)
    })

    it('ignores a thenable that calls back twice or both ways: the first call decides', async () => {
      const twice = { then: (ok: (v: unknown) => void, fail: (e: unknown) => void) => (ok(true), ok(false), fail(new Error('x'))) }
      const failFirst = { then: (ok: (v: unknown) => void, fail: (e: unknown) => void) => (fail(new Error('x')), ok(true)) }
      const logger = recordingLogger()
      const engine = createPolicyEngine({ logger })
        .addPolicy('Twice', (() => twice) as unknown as PolicyFunction)
        .addPolicy('FailFirst', (() => failFirst) as unknown as PolicyFunction)
      expect(await engine.evaluate('Twice', admin)).toEqual({ allowed: true })
      expect(await engine.evaluate('FailFirst', admin)).toEqual({ allowed: false, code: 'ERR_POLICY_THREW' })
      expect(logger.entries.map((e) => e.code)).toEqual(['ERR_POLICY_THREW'])
    })

    it('adopts a thenable that fulfils with another promise, as await does', async () => {
      const nested = { then: (ok: (v: unknown) => void) => ok(Promise.resolve(true)) }
      const nestedTrap = {
        then: (ok: (v: unknown) => void) =>
          ok({
            get then(): never {
              throw new Error('getter')
            },
          }),
      }
      const throwsInThen = {
        then: () => {
          throw new Error('then threw')
        },
      }
      const engine = createPolicyEngine()
        .addPolicy('Nested', (() => nested) as unknown as PolicyFunction)
        .addPolicy('NestedTrap', (() => nestedTrap) as unknown as PolicyFunction)
        .addPolicy('ThrowsInThen', (() => throwsInThen) as unknown as PolicyFunction)
      expect(await engine.evaluate('Nested', admin)).toEqual({ allowed: true })
      expect(await engine.evaluate('NestedTrap', admin)).toEqual({ allowed: false, code: 'ERR_POLICY_THREW' })
      expect(await engine.evaluate('ThrowsInThen', admin)).toEqual({ allowed: false, code: 'ERR_POLICY_THREW' })
    })
  })

  describe('the deadline timer and the process (real timers)', () => {
    // Issue 21: counting the process's Timeout resources was flaky under load
    // (other timers come and go); these tests watch the engine's own timer.
    /** A stack frame in core's sources (the deadline list and the engine arm the timers). */
    const ENGINE_SOURCE = /packages\/core\/src\/lib\//

    /**
     * Records the engine's timers created through setTimeout from now until
     * `restore()`, and the most that were armed and not yet fired at once.
     */
    function watchTimers(): { created: NodeJS.Timeout[]; mostAtOnce: () => number; restore: () => void } {
      const created: NodeJS.Timeout[] = []
      let armed = 0
      let most = 0
      const original = globalThis.setTimeout
      const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: (...args: unknown[]) => void, ms?: number, ...rest: unknown[]) => {
        // Only the engine's own timers: the test runner arms some of its own in this process
        // (its messages to the main process), more of them on a loaded machine.
        const limit = Error.stackTraceLimit
        Error.stackTraceLimit = 100
        const stack = new Error().stack ?? ''
        Error.stackTraceLimit = limit
        if (!ENGINE_SOURCE.test(stack)) return original(callback, ms, ...rest)
        armed++
        most = Math.max(most, armed)
        const timer = original(
          (...args: unknown[]) => {
            armed--
            callback(...args)
          },
          ms,
          ...rest,
        )
        created.push(timer)
        return timer
      }) as typeof setTimeout)
      return { created, mostAtOnce: () => most, restore: () => spy.mockRestore() }
    }

    /** Calls `fn` and returns the timers it created through setTimeout. */
    function timersCreatedBy(fn: () => void): NodeJS.Timeout[] {
      const watch = watchTimers()
      try {
        fn()
      } finally {
        watch.restore()
      }
      return watch.created
    }

    it('keeps the process alive while an async policy is pending, and not after it settled', async () => {
      const engine = createPolicyEngine({ timeoutMs: 60_000 })
      let release: (value: boolean) => void = () => {}
      engine.addPolicy('Waits', () => new Promise<boolean>((resolve) => (release = resolve)))
      let pending: Promise<unknown> = Promise.resolve()
      const [timer] = timersCreatedBy(() => (pending = engine.evaluate('Waits', admin)))
      expect(timer?.hasRef()).toBe(true)
      release(true)
      expect(await pending).toEqual({ allowed: true })
      expect(timer?.hasRef()).toBe(false)
      // A second evaluation reuses the same (re-referenced) timer.
      let again: Promise<unknown> = Promise.resolve()
      expect(timersCreatedBy(() => (again = engine.evaluate('Waits', admin)))).toEqual([])
      expect(timer?.hasRef()).toBe(true)
      release(false)
      expect(await again).toEqual({ allowed: false, code: 'ERR_DENIED' })
      expect(timer?.hasRef()).toBe(false)
      clearTimeout(timer)
    })

    it('keeps the timer referenced while any of two pending evaluations is left', async () => {
      const engine = createPolicyEngine({ timeoutMs: 60_000 })
      const releases: Array<(value: boolean) => void> = []
      engine.addPolicy('Waits', () => new Promise<boolean>((resolve) => releases.push(resolve)))
      let first: Promise<unknown> = Promise.resolve()
      let second: Promise<unknown> = Promise.resolve()
      const timers = timersCreatedBy(() => {
        first = engine.evaluate('Waits', admin)
        second = engine.evaluate('Waits', admin)
      })
      expect(timers).toHaveLength(1)
      const timer = timers[0]!
      // Settle the first: the second still needs its deadline.
      releases[0]!(true)
      expect(await first).toEqual({ allowed: true })
      expect(timer.hasRef()).toBe(true)
      releases[1]!(true)
      expect(await second).toEqual({ allowed: true })
      expect(timer.hasRef()).toBe(false)
      // Settle the later one first: the earlier still holds the timer.
      let third: Promise<unknown> = Promise.resolve()
      let fourth: Promise<unknown> = Promise.resolve()
      timersCreatedBy(() => {
        third = engine.evaluate('Waits', admin)
        fourth = engine.evaluate('Waits', admin)
      })
      releases[3]!(false)
      expect(await fourth).toEqual({ allowed: false, code: 'ERR_DENIED' })
      expect(timer.hasRef()).toBe(true)
      releases[2]!(false)
      expect(await third).toEqual({ allowed: false, code: 'ERR_DENIED' })
      expect(timer.hasRef()).toBe(false)
      clearTimeout(timer)
    })

    it('times out on the real clock and keeps no timer referenced afterwards', async () => {
      const logger = recordingLogger()
      const engine = createPolicyEngine({ timeoutMs: 30, logger }).addPolicy('Hangs', () => new Promise<boolean>(() => {}))
      const started = performance.now()
      // The real setTimeout, for the test's own wait (not counted).
      const original = globalThis.setTimeout
      const { created, mostAtOnce, restore } = watchTimers()
      try {
        const decisions = await Promise.all([engine.evaluate('Hangs', admin), engine.evaluate('Hangs', admin)])
        expect(decisions).toEqual([
          { allowed: false, code: 'ERR_POLICY_TIMEOUT' },
          { allowed: false, code: 'ERR_POLICY_TIMEOUT' },
        ])
        // One timer at a time for both deadlines (it re-arms for the second
        // deadline, or for the rest when the clock woke it a little early: how
        // often depends on the machine's load), and nothing armed once both
        // are decided.
        const armed = created.length
        expect(armed).toBeGreaterThanOrEqual(1)
        expect(mostAtOnce()).toBe(1)
        await new Promise<void>((resolve) => original(resolve, 40))
        expect(created).toHaveLength(armed)
      } finally {
        restore()
      }
      expect(performance.now() - started).toBeGreaterThanOrEqual(29)
      expect(logger.entries.map((e) => e.code)).toEqual(['ERR_POLICY_TIMEOUT', 'ERR_POLICY_TIMEOUT'])
    })
  })

  describe('the deadline timer wakes up once per deadline (fake timers)', () => {
    /** Counts the engine's setTimeout calls while the test runs (the policies here arm none). */
    function countArms(): { count: () => number; restore: () => void } {
      const original = globalThis.setTimeout
      let n = 0
      const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((...args: Parameters<typeof setTimeout>) => {
        n++
        return original(...args)
      }) as typeof setTimeout)
      return { count: () => n, restore: () => spy.mockRestore() }
    }

    it('one hanging evaluation: one timer, fired once at the deadline', async () => {
      vi.useFakeTimers({ now: 0 })
      const engine = createPolicyEngine({ timeoutMs: 50 }).addPolicy('Hangs', () => new Promise<boolean>(() => {}))
      const arms = countArms()
      let decision: unknown
      void engine.evaluate('Hangs', admin).then((d) => (decision = d))
      await vi.advanceTimersByTimeAsync(49)
      expect(decision).toBeUndefined()
      expect(arms.count()).toBe(1)
      await vi.advanceTimersByTimeAsync(1)
      expect(decision).toEqual({ allowed: false, code: 'ERR_POLICY_TIMEOUT' })
      expect(arms.count()).toBe(1)
      expect(vi.getTimerCount()).toBe(0)
      arms.restore()
    })

    it('two staggered evaluations: armed for the first deadline, re-armed once for the second', async () => {
      vi.useFakeTimers({ now: 0 })
      const engine = createPolicyEngine({ timeoutMs: 50 }).addPolicy('Hangs', () => new Promise<boolean>(() => {}))
      const arms = countArms()
      const seen: Array<[number, unknown]> = []
      void engine.evaluate('Hangs', admin).then((d) => seen.push([Date.now(), d]))
      await vi.advanceTimersByTimeAsync(10)
      void engine.evaluate('Hangs', admin).then((d) => seen.push([Date.now(), d]))
      expect(arms.count()).toBe(1)
      await vi.advanceTimersByTimeAsync(40)
      expect(seen).toEqual([[50, { allowed: false, code: 'ERR_POLICY_TIMEOUT' }]])
      expect(arms.count()).toBe(2)
      await vi.advanceTimersByTimeAsync(9)
      expect(seen).toHaveLength(1)
      await vi.advanceTimersByTimeAsync(1)
      expect(seen[1]).toEqual([60, { allowed: false, code: 'ERR_POLICY_TIMEOUT' }])
      expect(arms.count()).toBe(2)
      expect(vi.getTimerCount()).toBe(0)
      arms.restore()
    })

    it('a deadline earlier than the armed one re-arms the timer for it', async () => {
      vi.useFakeTimers({ now: 0 })
      const engine = createPolicyEngine({ timeoutMs: 50 }).addPolicy('Hangs', () => new Promise<boolean>(() => {}))
      const seen: number[] = []
      void engine.evaluate('Hangs', admin).then(() => seen.push(Date.now()))
      // The monotonic clock going back (as a suspended laptop's may not, but
      // fake timers can) puts the second deadline before the first.
      vi.spyOn(performance, 'now').mockReturnValue(-20)
      void engine.evaluate('Hangs', admin).then(() => seen.push(Date.now()))
      vi.mocked(performance.now).mockRestore()
      await vi.advanceTimersByTimeAsync(50)
      expect(seen).toEqual([50, 50])
    })
  })

  describe('claims policies fail closed for a principal that is not signed in', () => {
    it('an unauthenticated principal carrying the claims is denied by evaluate()', async () => {
      const forged = new ClaimsPrincipal({
        isAuthenticated: false,
        userId: 'u1',
        name: 'Ada',
        claims: [{ type: 'role', value: 'admin' }],
        raw: {},
      })
      expect(forged.hasClaim('role', 'admin')).toBe(true)
      const engine = createPolicyEngine()
        .addPolicy('Claim', { requiresClaim: ['role', 'admin'] })
        .addPolicy('Claims', { requiresClaims: [['role', 'admin']] })
        .addPolicy('SignedIn', { requiresAuthenticated: true })
      expect(await engine.evaluate('Claim', forged)).toEqual({ allowed: false, code: 'ERR_DENIED' })
      expect(await engine.evaluate('Claims', forged)).toEqual({ allowed: false, code: 'ERR_DENIED' })
      expect(await engine.evaluate('SignedIn', forged)).toEqual({ allowed: false, code: 'ERR_DENIED' })
    })
  })

  it('never logs for plain allows and denials', async () => {
    const logger = recordingLogger()
    const engine = createPolicyEngine({ logger }).addPolicy('AdminOnly', { requiresClaim: ['role', 'admin'] })
    await engine.evaluate('AdminOnly', admin)
    await engine.evaluate('AdminOnly', plain)
    expect(logger.entries).toEqual([])
  })
})

describe('context', () => {
  it('passes the user, params and request to the policy function', async () => {
    const seen: Array<{ userId: string | null; ctx: PolicyContext }> = []
    const request = { id: 'req-1', headers: {} }
    const engine = createPolicyEngine().addPolicy('OwnsItem', (user, ctx) => {
      seen.push({ userId: user.userId, ctx })
      return user.userId === ctx.params.ownerId
    })
    expect(await engine.evaluate('OwnsItem', admin, { params: { ownerId: 'u1' }, request })).toEqual({ allowed: true })
    expect(await engine.evaluate('OwnsItem', plain, { params: { ownerId: 'u1' }, request })).toEqual({ allowed: false, code: 'ERR_DENIED' })
    expect(seen[0]!.userId).toBe('u1')
    expect(seen[0]!.ctx.request).toBe(request)
    expect(seen[0]!.ctx.params).toEqual({ ownerId: 'u1' })
  })

  it('gives empty frozen params when none are passed', async () => {
    let params: unknown
    const engine = createPolicyEngine().addPolicy('P', (_user, ctx) => {
      params = ctx.params
      return true
    })
    await engine.evaluate('P', admin)
    expect(params).toEqual({})
    expect(Object.isFrozen(params)).toBe(true)
  })
})

describe('evaluateGuard', () => {
  const engine = createPolicyEngine()
    .addPolicy('AdminOnly', { requiresClaim: ['role', 'admin'] })
    .addPolicy('Owner', (user, { params }) => user.userId === params.ownerId)

  it('authenticated: allows any signed-in user', async () => {
    const spec = parseGuardSpec(undefined)
    expect(await engine.evaluateGuard(spec, nobody)).toEqual({ allowed: true })
  })

  it('claims: all pairs must hold, [type] accepts any value', async () => {
    const spec = parseGuardSpec({ claims: [['role', 'admin'], ['email_verified', 'true']] })
    expect(await engine.evaluateGuard(spec, admin)).toEqual({ allowed: true })
    expect(await engine.evaluateGuard(spec, plain)).toEqual({ allowed: false, code: 'ERR_DENIED' })
    const anyRole = parseGuardSpec({ claims: [['role']] })
    expect(await engine.evaluateGuard(anyRole, plain)).toEqual({ allowed: true })
    expect(await engine.evaluateGuard(anyRole, nobody)).toEqual({ allowed: false, code: 'ERR_DENIED' })
  })

  it('policy: evaluates the named policy with the context', async () => {
    expect(await engine.evaluateGuard(parseGuardSpec('AdminOnly'), admin)).toEqual({ allowed: true })
    expect(await engine.evaluateGuard(parseGuardSpec('AdminOnly'), plain)).toEqual({ allowed: false, code: 'ERR_DENIED' })
    expect(await engine.evaluateGuard(parseGuardSpec('Owner'), plain, { params: { ownerId: 'u2' } })).toEqual({ allowed: true })
    expect(await engine.evaluateGuard(parseGuardSpec('Missing'), admin)).toEqual({ allowed: false, code: 'ERR_POLICY_NOT_FOUND' })
  })

  it.each([
    ['authenticated', parseGuardSpec(null)],
    ['claims', parseGuardSpec({ claims: [['role']] })],
    ['policy', parseGuardSpec('AdminOnly')],
    ['missing policy', parseGuardSpec('Missing')],
  ])('denies an anonymous user with ERR_UNAUTHENTICATED (%s)', async (_label, spec) => {
    expect(await engine.evaluateGuard(spec, ANONYMOUS)).toEqual({ allowed: false, code: 'ERR_UNAUTHENTICATED' })
  })

  it('does not run a policy function for an anonymous user', async () => {
    let calls = 0
    const e = createPolicyEngine().addPolicy('Counts', () => {
      calls++
      return true
    })
    await e.evaluateGuard(parseGuardSpec('Counts'), ANONYMOUS)
    expect(calls).toBe(0)
  })

  it.each([
    ['unknown kind', { kind: 'public' }],
    ['empty claims', { kind: 'claims', claims: [] }],
    ['claims not a list', { kind: 'claims', claims: 'role=admin' }],
    ['null', null],
    ['a string', 'AdminOnly'],
  ])('denies a malformed hand-built spec (%s) with ERR_GUARD_SPEC_INVALID', async (_label, spec) => {
    const logger = recordingLogger()
    const e = createPolicyEngine({ logger })
    await expect(e.evaluateGuard(spec as unknown as GuardSpec, admin)).resolves.toEqual({ allowed: false, code: 'ERR_GUARD_SPEC_INVALID' })
    expect(logger.entries.map((entry) => entry.code)).toEqual(['ERR_GUARD_SPEC_INVALID'])
  })
})

// Issue 21: survivors of mutation testing that a test can tell apart.
describe('policy engine details found by mutation testing', () => {
  it('accepts the largest timer delay, 2147483647 ms, and refuses one more', () => {
    expect(() => createPolicyEngine({ timeoutMs: 2_147_483_647 })).not.toThrow()
    expect(thrownCode(() => createPolicyEngine({ timeoutMs: 2_147_483_648 }))).toBe('ERR_POLICY_INVALID')
  })

  it('a null or primitive guard spec is denied, never a rejection', async () => {
    const engine = createPolicyEngine()
    for (const spec of [null, undefined, 'policy', 42]) {
      await expect(engine.evaluateGuard(spec as unknown as GuardSpec, admin)).resolves.toEqual({ allowed: false, code: 'ERR_GUARD_SPEC_INVALID' })
    }
  })

  it('adopts a thenable that is a function, as await does', async () => {
    const thenableFunction = Object.assign(() => undefined, { then: (ok: (v: unknown) => void) => ok(true) })
    const outer = { then: (ok: (v: unknown) => void) => ok(thenableFunction) }
    const engine = createPolicyEngine().addPolicy('FnThenable', (() => outer) as unknown as PolicyFunction)
    expect(await engine.evaluate('FnThenable', admin)).toEqual({ allowed: true })
  })

  it('logs the name and message of a thrown Error, and only the code for anything else thrown', async () => {
    const logger = recordingLogger()
    const engine = createPolicyEngine({ logger })
      .addPolicy('ThrowsError', () => {
        throw new RangeError('out of range')
      })
      .addPolicy('ThrowsString', () => {
        throw 'plain string'
      })
    await engine.evaluate('ThrowsError', admin)
    await engine.evaluate('ThrowsString', admin)
    expect(logger.entries).toEqual([
      { code: 'ERR_POLICY_THREW', policy: 'ThrowsError', errorName: 'RangeError', errorMessage: 'out of range' },
      { code: 'ERR_POLICY_THREW', policy: 'ThrowsString' },
    ])
  })
})
