// Scenario 5: policy evaluation throughput on one core, through the built
// @wire-auth/core engine: claim policies, a function policy that reads the
// region params, an async function policy, and a guard spec of claims.
import { createPolicyEngine, createPrincipal, parseGuardSpec } from '@wire-auth/core'
import { figure, report, sized } from '../lib/result.mjs'
import { opsPerSecond } from '../lib/stats.mjs'

const MS = sized(1500, 300)
const engine = createPolicyEngine()
engine.addPolicy('Member', { requiresClaim: ['role', 'member'] })
engine.addPolicy('BetaAndVerified', { requiresClaims: [['role', 'beta'], ['email_verified', 'true'], ['plan']] })
engine.addPolicy('OwnsItem', (user, { params }) => user.userId === params.ownerId)
engine.addPolicy('CanReadItem', async (user, { params }) => {
  // A typical resource check: an awaited lookup (here an in-memory map) then a comparison.
  const owner = await owners.get(params.itemId)
  return owner === user.userId || user.hasClaim('role', 'admin')
})
const owners = new Map(Array.from({ length: 1000 }, (_, i) => [`item-${i}`, Promise.resolve(i % 2 ? 'u1' : 'u2')]))

const user = createPrincipal({
  userId: 'u1',
  name: 'Ada',
  claims: [
    { type: 'email', value: 'ada@example.com' },
    { type: 'email_verified', value: 'true' },
    { type: 'role', value: 'member' },
    { type: 'role', value: 'beta' },
    { type: 'plan', value: 'pro' },
    { type: 'org', value: 'acme' },
    { type: 'team', value: 'core' },
    { type: 'team', value: 'infra' },
  ],
})
const guard = parseGuardSpec({ claims: [['role', 'member'], ['org', 'acme']] })
const paramsList = Array.from({ length: 1000 }, (_, i) => Object.freeze({ itemId: `item-${i}`, ownerId: i % 2 ? 'u1' : 'u2' }))

async function check(name, ctx) {
  const decision = await engine.evaluate(name, user, ctx)
  if (typeof decision.allowed !== 'boolean') throw new Error(`bad decision for ${name}`)
}
await check('Member')
await check('BetaAndVerified')
await check('OwnsItem', { params: paramsList[1] })
await check('CanReadItem', { params: paramsList[1] })

const cases = [
  ['claim policy { requiresClaim } (evaluate + await)', (i) => engine.evaluate('Member', user)],
  ['claim policy { requiresClaims: 3 pairs } (evaluate + await)', (i) => engine.evaluate('BetaAndVerified', user)],
  ['guard spec { claims: 2 pairs } (evaluateGuard + await)', (i) => engine.evaluateGuard(guard, user)],
  ['sync function policy on params (evaluate + await)', (i) => engine.evaluate('OwnsItem', user, { params: paramsList[i % 1000] })],
  ['async function policy on params (evaluate + await)', (i) => engine.evaluate('CanReadItem', user, { params: paramsList[i % 1000] })],
]

const figures = []
for (const [label, fn] of cases) {
  const rate = await opsPerSecond(fn, { ms: MS })
  figures.push(figure({ label, value: rate, unit: 'evals/s', kind: 'rate' }))
}
// Twenty regions of a page arrive together: the engine is asked concurrently.
const concurrent = await opsPerSecond(() => Promise.all(paramsList.slice(0, 20).map((params) => engine.evaluate('CanReadItem', user, { params }))), { ms: MS, chunk: 16 })
figures.push(figure({ label: 'async function policy, 20 at a time (Promise.all)', value: concurrent * 20, unit: 'evals/s', kind: 'rate' }))

report({
  scenario: 'policy',
  title: '5. Policy evaluation (one core)',
  figures,
  notes: [
    'Each evaluation is awaited one after the other on one thread, so the rate is per core. The principal holds 8 claims.',
    'An async policy pays for its time-out on top of the promise: one entry in the engine\'s deadline list, settled through the policy\'s own then; one shared timer per engine covers every pending evaluation (PolicyEngine#run).',
  ],
})
