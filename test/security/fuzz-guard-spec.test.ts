// Random guard specs at the parsers every entry point shares (checklist 18,
// 19): `parseGuardSpec` (options, requirePolicy, JSON), the element
// attribute parser and `app.requirePolicy`. Any input either parses into a
// frozen spec or throws ERR_GUARD_SPEC_INVALID — nothing else — and no
// parsed spec ever lets an anonymous visitor through.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ANONYMOUS, createPolicyEngine, isWireAuthError, parseGuardAttributes, parseGuardSpec } from '@wire-auth/core'
import { anyJson, budget, edgyString } from './support/fuzz.js'

const engine = createPolicyEngine({ timeoutMs: 100, logger: { warn() {}, error() {} } as never })
engine.addPolicy('AdminOnly', { requiresClaim: ['role', 'admin'] })
engine.addPolicy('Anyone', () => true)

/** Guard specs shaped like the real ones, with hostile parts. */
const specLike = fc.oneof(
  anyJson,
  edgyString,
  fc.constantFrom('AdminOnly', 'Anyone', 'NoSuch', '', ' ', 'constructor', '__proto__'),
  fc.record({ policy: fc.oneof(fc.constantFrom('AdminOnly', 'Anyone', 'NoSuch'), edgyString, anyJson), redirect: fc.oneof(edgyString, anyJson) }, { requiredKeys: [] }),
  fc.record({ claims: fc.oneof(fc.array(fc.array(fc.oneof(fc.constantFrom('role', 'admin', '*'), edgyString, anyJson), { maxLength: 3 }), { maxLength: 5 }), anyJson) }, { requiredKeys: [] }),
  fc.record({ authenticated: fc.oneof(fc.boolean(), anyJson), public: fc.oneof(fc.boolean(), anyJson) }, { requiredKeys: [] }),
)

function parsedOrCoded<T>(parse: () => T): T | null {
  try {
    return parse()
  } catch (err) {
    expect(isWireAuthError(err, 'ERR_GUARD_SPEC_INVALID'), String(err)).toBe(true)
    return null
  }
}

describe('random guard specs', () => {
  it('parseGuardSpec: a frozen spec or ERR_GUARD_SPEC_INVALID; an anonymous visitor is denied by every spec', async () => {
    let parsed = 0
    await fc.assert(
      fc.asyncProperty(specLike, async (input) => {
        const spec = parsedOrCoded(() => parseGuardSpec(input))
        if (spec === null) return
        parsed++
        expect(Object.isFrozen(spec)).toBe(true)
        const decision = await engine.evaluateGuard(spec, ANONYMOUS, { request: null, params: {} })
        expect(decision.allowed, JSON.stringify(spec)).toBe(false)
      }),
      budget(2000, 4000),
    )
    expect(parsed).toBeGreaterThan(10)
  })

  it('element attributes (policy, claims, redirect strings): the same two outcomes', () => {
    fc.assert(
      fc.property(fc.option(edgyString), fc.option(fc.oneof(edgyString, fc.constantFrom('role=admin', 'role=admin,beta', 'role', '=x', 'role==', ',,,'))), fc.option(edgyString), (policy, claims, redirect) => {
        const spec = parsedOrCoded(() => parseGuardAttributes({ policy, claims, redirect }))
        if (spec !== null) expect(Object.isFrozen(spec)).toBe(true)
      }),
      budget(2000, 3000),
    )
  })
})
