// Issue 21: the registry's smaller APIs and fail-closed paths, unit-tested
// (mutation testing found them covered only through served pages or not at all).
import { createPolicyEngine, createPrincipal, html, isRegionProblem, parseRegionRequest, resolveSafeRedirect, type ClaimsPrincipal, type RegionRequest } from '@wire-auth/core'
import { describe, expect, it } from 'vitest'
import { FragmentRegistry } from '../src/lib/fragments/fragment-registry.js'

function setup(timeoutMs = 200) {
  const lines: Array<Record<string, unknown>> = []
  const log = { warn: (obj: Record<string, unknown>) => void lines.push(obj), error: (obj: Record<string, unknown>) => void lines.push(obj) }
  const engine = createPolicyEngine({ logger: log })
  const outcomes: string[] = []
  const registry = new FragmentRegistry({
    engine,
    log,
    loginUrl: '/login',
    timeoutMs,
    safeRedirect: (value) => resolveSafeRedirect(value, { baseOrigin: 'https://auth.example.com', allowedOrigins: [] }),
    onRender: (outcome) => void outcomes.push(outcome),
  })
  return { engine, registry, lines, outcomes }
}

function region(fields: Record<string, unknown>): RegionRequest {
  const parsed = parseRegionRequest({ id: 'r', kind: 'region', ...fields })
  if (isRegionProblem(parsed)) throw new Error(parsed.message)
  return parsed
}

const ada = createPrincipal({ userId: 'u1', name: 'Ada', claims: [{ type: 'role', value: 'admin' }] })
const bob = createPrincipal({ userId: 'u2', name: 'Bob' })

describe('FragmentRegistry: page fragments and lookups', () => {
  it('policyOf, pinnedParamsOf, remove and definePageFragment', () => {
    const { registry } = setup()
    registry.register('byPolicy', { policy: 'P' }, () => html`x`)
    registry.register('byClaims', { claims: [['role', 'admin']] }, () => html`x`)
    registry.definePageFragment('page:1', { authenticated: true }, () => html`<p>in place</p>`, Object.freeze({ n: 1 }))
    expect(registry.policyOf('byPolicy')).toBe('P')
    expect(registry.policyOf('byClaims')).toBeUndefined()
    expect(registry.policyOf('missing')).toBeUndefined()
    expect(registry.policyOf(undefined)).toBeUndefined()
    expect(registry.pinnedParamsOf('page:1')).toEqual({ n: 1 })
    expect(registry.pinnedParamsOf('byPolicy')).toBeUndefined()
    expect(registry.pinnedParamsOf(undefined)).toBeUndefined()
    // A page fragment may be defined again (the page changed); a registered one may not.
    registry.definePageFragment('page:1', { authenticated: true }, () => html`<p>changed</p>`, Object.freeze({ n: 2 }))
    expect(registry.pinnedParamsOf('page:1')).toEqual({ n: 2 })
    registry.remove('page:1')
    expect(registry.has('page:1')).toBe(false)
  })

  it('a page fragment renders with its pinned params, whatever the client sends, and all its requirements must hold', async () => {
    const { registry, engine } = setup()
    engine.addPolicy('Admin', { requiresClaim: ['role', 'admin'] })
    registry.definePageFragment('page:2', { authenticated: true }, ({ params }) => html`<p>${String(params.n)}</p>`, Object.freeze({ n: 7 }), [{ kind: 'policy', policy: 'Admin' }])
    expect(await registry.evaluateRegion(region({ fragment: 'page:2', params: { n: 99 } }), ada, null)).toEqual({ id: 'r', status: 'allowed', html: '<p>7</p>' })
    expect(await registry.evaluateRegion(region({ fragment: 'page:2' }), bob, null)).toMatchObject({ status: 'denied', code: 'ERR_DENIED' })
    expect(await registry.authorize(region({ fragment: 'page:2', params: { n: 99 } }), ada, null)).toEqual({ allowed: true })
    expect(await registry.authorize(region({ fragment: 'page:2' }), bob, null)).toEqual({ allowed: false, code: 'ERR_DENIED' })
  })
})

describe('FragmentRegistry.authorize and location', () => {
  it('decides without load or render; an unknown fragment is not found; a guard without fragment needs a user', async () => {
    const { registry } = setup()
    let loads = 0
    registry.register('f', { authenticated: true, load: () => ++loads }, () => html`x`)
    expect(await registry.authorize(region({ fragment: 'f' }), ada, null)).toEqual({ allowed: true })
    expect(loads).toBe(0)
    expect(await registry.authorize(region({ fragment: 'nope' }), ada, null)).toEqual({ allowed: false, code: 'ERR_FRAGMENT_NOT_FOUND' })
    const bare = parseRegionRequest({ id: 'g', kind: 'guard' }) as RegionRequest
    expect(await registry.authorize(bare, ada, null)).toEqual({ allowed: true })
    expect(await registry.authorize(bare, createPrincipal({ userId: 'x' }), null)).toEqual({ allowed: true })
  })

  it('a throw while deciding is ERR_INTERNAL, logged, never a rejection', async () => {
    const { registry, lines } = setup()
    registry.register('f', { authenticated: true }, () => html`x`)
    const broken = { get isAuthenticated(): boolean { throw new Error('broken principal') } } as unknown as ClaimsPrincipal
    expect(await registry.authorize(region({ fragment: 'f' }), broken, null)).toEqual({ allowed: false, code: 'ERR_INTERNAL' })
    expect(await registry.evaluateRegion(region({ fragment: 'f' }), broken, null)).toEqual({ id: 'r', status: 'denied', html: '', code: 'ERR_INTERNAL' })
    const guard = parseRegionRequest({ id: 'g', kind: 'guard', fragment: 'f', returnTo: '/back' }) as RegionRequest
    expect(await registry.evaluateRegion(guard, broken, null)).toEqual({ id: 'g', status: 'redirect', location: '/login?returnTo=%2Fback', code: 'ERR_INTERNAL' })
    expect(lines.filter((line) => line.code === 'ERR_INTERNAL').map((line) => line.fragment)).toEqual(['f', 'f', 'f'])
  })

  it('location: the element redirect, else the fragment redirect, else the login URL with returnTo', () => {
    const { registry } = setup()
    registry.register('withRedirect', { authenticated: true, redirect: '/no-access' }, () => html`x`)
    registry.register('plain', { authenticated: true }, () => html`x`)
    expect(registry.location({ fragment: 'withRedirect', redirect: '/mine' })).toBe('/mine')
    expect(registry.location({ fragment: 'withRedirect' })).toBe('/no-access')
    expect(registry.location({ fragment: 'plain', returnTo: '/here' })).toBe('/login?returnTo=%2Fhere')
    expect(registry.location({ returnTo: '/here' })).toBe('/login?returnTo=%2Fhere')
    expect(registry.location({ fragment: 'missing' })).toBe('/login')
  })
})

describe('FragmentRegistry: evaluation details', () => {
  it('evaluates regions equal but for their id once and answers each id', async () => {
    const { registry } = setup()
    let renders = 0
    registry.register('f', { public: true }, () => html`<p>${++renders}</p>`)
    const a = region({ fragment: 'f' })
    const b = parseRegionRequest({ id: 'b', fragment: 'f' }) as RegionRequest
    const c = parseRegionRequest({ id: 'c', fragment: 'f', params: { x: 1 } }) as RegionRequest
    const results = await registry.evaluateRegions([a, b, c], bob, null)
    expect(results.map((result) => result.id)).toEqual(['r', 'b', 'c'])
    expect(results[0]).toEqual({ id: 'r', status: 'allowed', html: '<p>1</p>' })
    expect(results[1]).toEqual({ id: 'b', status: 'allowed', html: '<p>1</p>' })
    expect(renders).toBe(2)
  })

  it('else and bindVerdict receive the region params', async () => {
    const { registry } = setup()
    registry.register('withElse', { claims: [['role', 'x']], else: ({ params, code }) => html`<p>${String(params.k)} ${code}</p>` }, () => html`x`)
    registry.register('bound', { claims: [['role', 'x']], bindVerdict: true }, ({ params, allowed }) => html`<p>${String(params.k)} ${String(allowed)}</p>`)
    expect(await registry.evaluateRegion(region({ fragment: 'withElse', params: { k: 'v' } }), ada, null)).toEqual({ id: 'r', status: 'denied', html: '<p>v ERR_DENIED</p>', code: 'ERR_DENIED' })
    expect(await registry.evaluateRegion(region({ fragment: 'bound', params: { k: 'v' } }), ada, null)).toEqual({ id: 'r', status: 'denied', html: '<p>v false</p>', code: 'ERR_DENIED' })
    expect(await registry.evaluateRegion(region({ fragment: 'bound' }), ada, null)).toEqual({ id: 'r', status: 'denied', html: '<p>undefined false</p>', code: 'ERR_DENIED' })
  })

  it('an async render is awaited with the time-out; a slow one fails closed and is logged as a time-out', async () => {
    const { registry, lines, outcomes } = setup(50)
    registry.register('async', { public: true }, async () => html`<p>later</p>`)
    registry.register('slow', { public: true }, () => new Promise(() => {}))
    registry.register('slowLoad', { public: true, load: () => new Promise(() => {}) }, () => html`x`)
    registry.register('throws', { public: true }, () => {
      throw new TypeError('render bug')
    })
    registry.register('plain', { public: true }, (() => '<p>not html</p>') as never)
    expect(await registry.evaluateRegion(region({ fragment: 'async' }), bob, null)).toEqual({ id: 'r', status: 'allowed', html: '<p>later</p>' })
    expect(await registry.evaluateRegion(region({ fragment: 'slow' }), bob, null)).toEqual({ id: 'r', status: 'denied', html: '', code: 'ERR_FRAGMENT_RENDER_FAILED' })
    expect(await registry.evaluateRegion(region({ fragment: 'slowLoad' }), bob, null)).toMatchObject({ status: 'denied', code: 'ERR_FRAGMENT_RENDER_FAILED' })
    expect(await registry.evaluateRegion(region({ fragment: 'throws' }), bob, null)).toMatchObject({ status: 'denied', code: 'ERR_FRAGMENT_RENDER_FAILED' })
    expect(await registry.evaluateRegion(region({ fragment: 'plain' }), bob, null)).toMatchObject({ status: 'denied', code: 'ERR_FRAGMENT_RENDER_FAILED' })
    const faults = lines.filter((line) => line.code === 'ERR_FRAGMENT_RENDER_FAILED')
    expect(faults.map((line) => [line.fragment, line.hook, line.timeout])).toEqual([
      ['slow', 'render', true],
      ['slowLoad', 'load', true],
      ['throws', 'render', false],
      ['plain', 'render', false],
    ])
    expect(faults[2]).toMatchObject({ errorName: 'TypeError', errorMessage: 'render bug' })
    expect(outcomes).toEqual(['ok', 'failed', 'failed', 'failed'])
  })

  it('a thenable render result is awaited; a non-thenable object is not html', async () => {
    const { registry } = setup()
    const value = html`<p>t</p>`
    registry.register('thenable', { public: true }, (() => ({ then: (ok: (v: unknown) => void) => ok(value) })) as never)
    registry.register('object', { public: true }, (() => ({ then: 'no' })) as never)
    expect(await registry.evaluateRegion(region({ fragment: 'thenable' }), bob, null)).toEqual({ id: 'r', status: 'allowed', html: '<p>t</p>' })
    expect(await registry.evaluateRegion(region({ fragment: 'object' }), bob, null)).toMatchObject({ status: 'denied', code: 'ERR_FRAGMENT_RENDER_FAILED' })
  })

  it('an element policy alone on a guard without fragment is the requirement (no bare sign-in check)', async () => {
    const { registry, engine } = setup()
    engine.addPolicy('Anyone', () => true)
    const guard = parseRegionRequest({ id: 'g', kind: 'guard', policy: 'Anyone' }) as RegionRequest
    expect(await registry.evaluateRegion(guard, bob, null)).toEqual({ id: 'g', status: 'allowed', html: '' })
    const claimsGuard = parseRegionRequest({ id: 'g', kind: 'guard', claims: [['role', 'admin']] }) as RegionRequest
    expect(await registry.evaluateRegion(claimsGuard, ada, null)).toEqual({ id: 'g', status: 'allowed', html: '' })
    expect(await registry.evaluateRegion(claimsGuard, bob, null)).toMatchObject({ status: 'redirect', code: 'ERR_DENIED' })
  })
})

describe('FragmentRegistry: requirement order and contexts', () => {
  it('every requirement must allow: a page fragment requirement, then the element policy, then the element claims', async () => {
    const { registry, engine } = setup()
    engine.addPolicy('Allow', () => true).addPolicy('Deny', () => false)
    registry.definePageFragment('page:3', { authenticated: true }, () => html`<p>p</p>`, Object.freeze({}), [{ kind: 'authenticated' }])
    registry.definePageFragment('page:4', { authenticated: true }, () => html`<p>p</p>`, Object.freeze({}))
    expect(await registry.evaluateRegion(region({ fragment: 'page:4' }), ada, null)).toEqual({ id: 'r', status: 'allowed', html: '<p>p</p>' })
    expect(await registry.evaluateRegion(region({ fragment: 'page:3', policy: 'Deny' }), ada, null)).toMatchObject({ status: 'denied', code: 'ERR_DENIED' })
    expect(await registry.evaluateRegion(region({ fragment: 'page:3', policy: 'Allow', claims: [['role', 'nobody']] }), ada, null)).toMatchObject({ status: 'denied', code: 'ERR_DENIED' })
    expect(await registry.evaluateRegion(region({ fragment: 'page:3', policy: 'Deny', claims: [['role', 'admin']] }), ada, null)).toMatchObject({ status: 'denied', code: 'ERR_DENIED' })
    expect(await registry.evaluateRegion(region({ fragment: 'page:3', policy: 'Allow', claims: [['role', 'admin']] }), ada, null)).toMatchObject({ status: 'allowed' })
  })

  it('a malformed element policy name denies with ERR_GUARD_SPEC_INVALID, alone or with claims', async () => {
    const { registry } = setup()
    registry.register('f', { public: true }, () => html`x`)
    expect(await registry.evaluateRegion(region({ fragment: 'f', policy: 'no spaces allowed' }), ada, null)).toMatchObject({ status: 'denied', code: 'ERR_GUARD_SPEC_INVALID' })
    expect(await registry.evaluateRegion(region({ fragment: 'f', policy: 'no spaces allowed', claims: [['role', 'admin']] }), ada, null)).toMatchObject({ status: 'denied', code: 'ERR_GUARD_SPEC_INVALID' })
  })

  it('authorize hands policies the region params, or the pinned params of a page fragment', async () => {
    const { registry, engine } = setup()
    engine.addPolicy('Owner', (user, { params }) => user.userId === params.ownerId)
    registry.register('item', { policy: 'Owner' }, () => html`x`)
    registry.definePageFragment('page:5', { policy: 'Owner' }, () => html`x`, Object.freeze({ ownerId: 'u2' }))
    expect(await registry.authorize(region({ fragment: 'item', params: { ownerId: 'u1' } }), ada, null)).toEqual({ allowed: true })
    expect(await registry.authorize(region({ fragment: 'item' }), ada, null)).toEqual({ allowed: false, code: 'ERR_DENIED' })
    expect(await registry.authorize(region({ fragment: 'page:5', params: { ownerId: 'u1' } }), ada, null)).toEqual({ allowed: false, code: 'ERR_DENIED' })
    expect(await registry.authorize(region({ fragment: 'page:5' }), bob, null)).toEqual({ allowed: true })
  })

  it('load receives the user and params; its result reaches render, also null or a non-thenable object', async () => {
    const { registry } = setup()
    const seen: unknown[] = []
    registry.register('loads', { public: true, load: ({ user, params }) => `${user.userId}:${String(params.k)}` }, ({ data }) => html`<p>${String(data)}</p>`)
    registry.register('nullData', { public: true, load: () => null }, ({ data }) => (seen.push(data), html`<p>n</p>`))
    const notThenable = { then: 'no' }
    registry.register('objectData', { public: true, load: () => notThenable }, ({ data }) => (seen.push(data), html`<p>o</p>`))
    const thenableFunction = Object.assign(() => undefined, { then: (ok: (v: unknown) => void) => ok('from a function') })
    registry.register('fnData', { public: true, load: () => thenableFunction as never }, ({ data }) => html`<p>${String(data)}</p>`)
    expect(await registry.evaluateRegion(region({ fragment: 'loads', params: { k: 'v' } }), ada, null)).toEqual({ id: 'r', status: 'allowed', html: '<p>u1:v</p>' })
    expect(await registry.evaluateRegion(region({ fragment: 'nullData' }), ada, null)).toMatchObject({ status: 'allowed' })
    expect(await registry.evaluateRegion(region({ fragment: 'objectData' }), ada, null)).toMatchObject({ status: 'allowed' })
    expect(seen).toEqual([null, notThenable])
    expect(seen[1]).toBe(notThenable)
    expect(await registry.evaluateRegion(region({ fragment: 'fnData' }), ada, null)).toEqual({ id: 'r', status: 'allowed', html: '<p>from a function</p>' })
  })

  it('lookups of unknown names answer undefined; a public fragment has no redirect of its own', () => {
    const { registry } = setup()
    registry.register('pub', { public: true }, () => html`x`)
    expect(registry.pinnedParamsOf('missing')).toBeUndefined()
    expect(registry.location({ fragment: 'pub', returnTo: '/p' })).toBe('/login?returnTo=%2Fp')
  })
})
