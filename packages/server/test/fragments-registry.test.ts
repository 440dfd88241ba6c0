import { ANONYMOUS, createPolicyEngine, createPrincipal, html, isMessageProblem, isRegionProblem, parseClientMessage, parseRegionRequest, parseRegionRequests, resolveSafeRedirect, type ClaimsPrincipal, type PolicyEngine, type RegionRequest } from '@wire-auth/core'
import { beforeEach, describe, expect, it } from 'vitest'
import { FragmentRegistry } from '../src/lib/fragments/fragment-registry.js'

const ORIGIN = 'https://auth.example.com'

function logger() {
  const lines: Array<Record<string, unknown>> = []
  return { lines, warn: (obj: Record<string, unknown>) => lines.push(obj), error: (obj: Record<string, unknown>) => lines.push(obj) }
}

function setup(timeoutMs = 500) {
  const log = logger()
  const engine = createPolicyEngine({ timeoutMs, logger: log })
  const registry = new FragmentRegistry({
    engine,
    log,
    loginUrl: '/login',
    timeoutMs,
    safeRedirect: (value) => resolveSafeRedirect(value, { baseOrigin: ORIGIN, allowedOrigins: ['https://www.example.com'] }),
  })
  return { engine, registry, log }
}

function region(id: string, fields: Partial<RegionRequest> = {}): RegionRequest {
  const parsed = parseRegionRequest({ id, kind: 'region', ...fields })
  if (isRegionProblem(parsed)) throw new Error(parsed.message)
  return parsed
}

const ada = createPrincipal({ userId: 'u1', name: 'Ada', claims: [{ type: 'role', value: 'beta' }] })
const admin = createPrincipal({ userId: 'u2', name: 'Root', claims: [{ type: 'role', value: 'admin' }, { type: 'role', value: 'beta' }] })

describe('registration is checked at boot', () => {
  let registry: FragmentRegistry
  beforeEach(() => {
    registry = setup().registry
  })
  const render = () => html`<p>x</p>`

  it('a fragment without a guard and without public: true throws ERR_FRAGMENT_UNGUARDED', () => {
    expect(() => registry.register('a', undefined as never, render)).toThrow(expect.objectContaining({ code: 'ERR_FRAGMENT_UNGUARDED' }))
    expect(() => registry.register('b', {}, render)).toThrow(expect.objectContaining({ code: 'ERR_FRAGMENT_UNGUARDED' }))
    expect(() => registry.register('c', { load: () => 1 }, render)).toThrow(expect.objectContaining({ code: 'ERR_FRAGMENT_UNGUARDED' }))
    expect(() => registry.register('d', { bindVerdict: true }, render)).toThrow(expect.objectContaining({ code: 'ERR_FRAGMENT_UNGUARDED' }))
    expect(registry.has('a') || registry.has('b') || registry.has('c') || registry.has('d')).toBe(false)
  })

  it('a duplicate name throws ERR_FRAGMENT_DUPLICATE', () => {
    registry.register('dup', { public: true }, render)
    expect(() => registry.register('dup', { authenticated: true }, render)).toThrow(expect.objectContaining({ code: 'ERR_FRAGMENT_DUPLICATE' }))
  })

  const invalid: Array<[string, string, unknown, unknown]> = [
    ['a name with a space', 'bad name', { public: true }, render],
    ['an empty name', '', { public: true }, render],
    ['two guards', 'x', { public: true, policy: 'P' }, render],
    ['policy and claims', 'x', { policy: 'P', claims: [['role', 'a']] }, render],
    ['an unknown option (typo)', 'x', { polcy: 'P' }, render],
    ['public: false', 'x', { public: false }, render],
    ['authenticated: false', 'x', { authenticated: false }, render],
    ['empty claims', 'x', { claims: [] }, render],
    ['claims not pairs', 'x', { claims: ['role=admin'] }, render],
    ['a malformed policy name', 'x', { policy: 'no spaces allowed' }, render],
    ['a non-function load', 'x', { public: true, load: 'nope' }, render],
    ['a non-function render', 'x', { public: true }, 'nope'],
    ['else and bindVerdict together', 'x', { authenticated: true, bindVerdict: true, else: render }, render],
    ['else on a public fragment', 'x', { public: true, else: render }, render],
    ['an array as guard', 'x', [], render],
  ]
  for (const [what, name, guard, fn] of invalid) {
    it(`${what} throws ERR_FRAGMENT_INVALID`, () => {
      expect(() => registry.register(name, guard as never, fn as never)).toThrow(expect.objectContaining({ code: 'ERR_FRAGMENT_INVALID' }))
    })
  }

  it('accepts every guard form', () => {
    registry.register('p', { policy: 'P', redirect: '/x' }, render)
    registry.register('c', { claims: [['role', 'admin'], ['email_verified']] }, render)
    registry.register('a', { authenticated: true }, render)
    registry.register('pub', { public: true }, render)
    expect(['p', 'c', 'a', 'pub'].every((name) => registry.has(name))).toBe(true)
  })
})

describe('load and render run only after the guard allowed', () => {
  let engine: PolicyEngine
  let registry: FragmentRegistry
  let calls: { load: number; render: number }
  beforeEach(() => {
    ;({ engine, registry } = setup())
    calls = { load: 0, render: 0 }
    engine.addPolicy('BetaOnly', { requiresClaim: ['role', 'beta'] })
    engine.addPolicy('Throws', () => {
      throw new Error('boom')
    })
    const hooks = {
      load: () => {
        calls.load++
        return { secret: 's3cret' }
      },
    }
    const render = ({ data }: { data: { secret: string } | undefined }) => {
      calls.render++
      return html`<p>${data?.secret}</p>`
    }
    registry.register('by-claims', { claims: [['role', 'admin']], ...hooks }, render)
    registry.register('by-policy', { policy: 'BetaOnly', ...hooks }, render)
    registry.register('by-throwing-policy', { policy: 'Throws', ...hooks }, render)
    registry.register('by-missing-policy', { policy: 'NotRegistered', ...hooks }, render)
    registry.register('signed-in', { authenticated: true, ...hooks }, render)
  })

  const denials: Array<[string, string, ClaimsPrincipal, string]> = [
    ['anonymous on claims', 'by-claims', ANONYMOUS, 'ERR_UNAUTHENTICATED'],
    ['a user without the claim', 'by-claims', ada, 'ERR_DENIED'],
    ['anonymous on a policy', 'by-policy', ANONYMOUS, 'ERR_UNAUTHENTICATED'],
    ['a throwing policy', 'by-throwing-policy', admin, 'ERR_POLICY_THREW'],
    ['a missing policy', 'by-missing-policy', admin, 'ERR_POLICY_NOT_FOUND'],
    ['anonymous on authenticated', 'signed-in', ANONYMOUS, 'ERR_UNAUTHENTICATED'],
  ]
  for (const [what, fragment, user, code] of denials) {
    it(`${what}: denied with ${code} and no fragment code runs`, async () => {
      const result = await registry.evaluateRegion(region('r1', { fragment }), user, null)
      expect(result).toEqual({ id: 'r1', status: 'denied', html: '', code })
      expect(calls).toEqual({ load: 0, render: 0 })
    })
  }

  it('allowed: load runs once, its data reaches render', async () => {
    const result = await registry.evaluateRegion(region('r1', { fragment: 'by-policy' }), ada, null)
    expect(result).toEqual({ id: 'r1', status: 'allowed', html: '<p>s3cret</p>' })
    expect(calls).toEqual({ load: 1, render: 1 })
  })
})

describe('else and bindVerdict', () => {
  it('bindVerdict renders in both cases with allowed, and load runs only when allowed', async () => {
    const { registry } = setup()
    const seen: Array<{ allowed: boolean; data: unknown }> = []
    let loads = 0
    registry.register(
      'beta-teaser',
      {
        claims: [['role', 'beta']],
        bindVerdict: true,
        load: () => {
          loads++
          return 'loaded'
        },
      },
      ({ allowed, data }) => {
        seen.push({ allowed, data })
        return allowed ? html`<p>in: ${data}</p>` : html`<p>join the beta</p>`
      },
    )
    const denied = await registry.evaluateRegion(region('r', { fragment: 'beta-teaser' }), ANONYMOUS, null)
    expect(denied).toEqual({ id: 'r', status: 'denied', html: '<p>join the beta</p>', code: 'ERR_UNAUTHENTICATED' })
    expect(loads).toBe(0)
    const allowed = await registry.evaluateRegion(region('r', { fragment: 'beta-teaser' }), ada, null)
    expect(allowed).toEqual({ id: 'r', status: 'allowed', html: '<p>in: loaded</p>' })
    expect(seen).toEqual([
      { allowed: false, data: undefined },
      { allowed: true, data: 'loaded' },
    ])
    expect(loads).toBe(1)
  })

  it('else gets only the principal summary, the params and the code — no request, no claims', async () => {
    const { registry } = setup()
    let received: Record<string, unknown> | undefined
    registry.register(
      'admin-panel',
      {
        claims: [['role', 'admin']],
        else: (ctx) => {
          received = ctx as unknown as Record<string, unknown>
          return html`<p>sorry ${ctx.principal.name}</p>`
        },
      },
      () => html`<p>admin</p>`,
    )
    const result = await registry.evaluateRegion(region('r', { fragment: 'admin-panel', params: { tab: 'x' } }), ada, { secret: 'request' })
    expect(result).toEqual({ id: 'r', status: 'denied', html: '<p>sorry Ada</p>', code: 'ERR_DENIED' })
    expect(Object.keys(received!).sort()).toEqual(['code', 'params', 'principal'])
    expect(received!.principal).toEqual({ authenticated: true, id: 'u1', name: 'Ada' })
  })

  it('a throwing else denies with empty html (the element shows its own else content)', async () => {
    const { registry, log } = setup()
    registry.register('f', { claims: [['role', 'admin']], else: () => { throw new Error('x') } }, () => html`<p>a</p>`)
    const result = await registry.evaluateRegion(region('r', { fragment: 'f' }), ada, null)
    expect(result).toEqual({ id: 'r', status: 'denied', html: '', code: 'ERR_DENIED' })
    expect(log.lines.some((line) => line.code === 'ERR_FRAGMENT_RENDER_FAILED' && line.hook === 'else')).toBe(true)
  })
})

describe('element policy and claims only add requirements', () => {
  let engine: PolicyEngine
  let registry: FragmentRegistry
  beforeEach(() => {
    ;({ engine, registry } = setup())
    engine.addPolicy('Everyone', () => true)
    engine.addPolicy('BetaOnly', { requiresClaim: ['role', 'beta'] })
    registry.register('admin-only', { claims: [['role', 'admin']] }, () => html`<p>admin</p>`)
    registry.register('news', { public: true }, () => html`<p>news</p>`)
  })

  it('a permissive element policy never loosens the fragment guard', async () => {
    const result = await registry.evaluateRegion(region('r', { fragment: 'admin-only', policy: 'Everyone' }), ada, null)
    expect(result).toMatchObject({ status: 'denied', code: 'ERR_DENIED' })
  })

  it('element claims a user holds never loosen the fragment guard', async () => {
    const result = await registry.evaluateRegion(region('r', { fragment: 'admin-only', claims: [['role', 'beta']] }), ada, null)
    expect(result).toMatchObject({ status: 'denied', code: 'ERR_DENIED' })
  })

  it('an element policy adds to a public fragment (anonymous denied, non-beta denied, beta allowed)', async () => {
    const r = region('r', { fragment: 'news', policy: 'BetaOnly' })
    expect(await registry.evaluateRegion(r, ANONYMOUS, null)).toMatchObject({ status: 'denied', code: 'ERR_UNAUTHENTICATED' })
    expect(await registry.evaluateRegion(r, createPrincipal({ userId: 'u9' }), null)).toMatchObject({ status: 'denied', code: 'ERR_DENIED' })
    expect(await registry.evaluateRegion(r, ada, null)).toEqual({ id: 'r', status: 'allowed', html: '<p>news</p>' })
  })

  it('element claims add to the fragment guard: all must hold', async () => {
    const r = region('r', { fragment: 'admin-only', claims: [['role', 'superuser']] })
    expect(await registry.evaluateRegion(r, admin, null)).toMatchObject({ status: 'denied', code: 'ERR_DENIED' })
    expect(await registry.evaluateRegion(region('r', { fragment: 'admin-only', claims: [['role', 'beta']] }), admin, null)).toMatchObject({ status: 'allowed' })
  })

  it('an element policy decides per evaluation: unknown denies, registered later allows, on re-mounted and mounted regions alike', async () => {
    const mounted = region('r', { fragment: 'news', policy: 'LateBeta' })
    expect(await registry.evaluateRegion(mounted, ada, null)).toMatchObject({ status: 'denied', code: 'ERR_POLICY_NOT_FOUND' })
    engine.addPolicy('LateBeta', { requiresClaim: ['role', 'beta'] })
    expect(await registry.evaluateRegion(mounted, ada, null)).toMatchObject({ status: 'allowed' })
    // Fresh requests naming it (each mount parses anew) and other users.
    for (let i = 0; i < 3; i++) {
      expect(await registry.evaluateRegion(region(`r${i}`, { fragment: 'news', policy: 'LateBeta' }), ada, null)).toMatchObject({ status: 'allowed' })
      expect(await registry.evaluateRegion(region(`r${i}`, { fragment: 'news', policy: 'LateBeta' }), createPrincipal({ userId: 'u9' }), null)).toMatchObject({ status: 'denied', code: 'ERR_DENIED' })
    }
    // With element claims too: both add.
    expect(await registry.evaluateRegion(region('c', { fragment: 'news', policy: 'LateBeta', claims: [['role', 'admin']] }), ada, null)).toMatchObject({ status: 'denied', code: 'ERR_DENIED' })
    expect(await registry.evaluateRegion(region('c', { fragment: 'news', policy: 'LateBeta', claims: [['role', 'admin']] }), admin, null)).toMatchObject({ status: 'allowed' })
  })

  it('a malformed element policy or claim denies with ERR_GUARD_SPEC_INVALID', async () => {
    expect(await registry.evaluateRegion(region('r', { fragment: 'news', policy: 'not a name' }), admin, null)).toMatchObject({ status: 'denied', code: 'ERR_GUARD_SPEC_INVALID' })
    // The parser refuses an empty claim value (issue 20); a request built around it still fails closed.
    const unparsed: RegionRequest = Object.freeze({ id: 'r', kind: 'region', fragment: 'news', claims: Object.freeze([Object.freeze(['role', ''] as const)]) })
    expect(await registry.evaluateRegion(unparsed, admin, null)).toMatchObject({ status: 'denied', code: 'ERR_GUARD_SPEC_INVALID' })
  })
})

describe('regions are evaluated independently', () => {
  it('100 regions in one batch: one failing policy and one unknown fragment deny only themselves', async () => {
    const { engine, registry } = setup()
    engine.addPolicy('Owner', (user, { params }) => {
      if (params.itemId === '13') throw new Error('unlucky')
      return user.userId === params.ownerId
    })
    registry.register('item', { policy: 'Owner' }, ({ params }) => html`<li>${String(params.itemId)}</li>`)
    const regions = Array.from({ length: 100 }, (_, i) => region(`item-${i}`, { fragment: 'item', params: { itemId: String(i), ownerId: 'u1' } }))
    regions[42] = region('item-42', { fragment: 'no-such-fragment' })
    const results = await registry.evaluateRegions(regions, ada, null)
    expect(results).toHaveLength(100)
    expect(results.map((result) => result.id)).toEqual(regions.map((r) => r.id))
    expect(results[13]).toEqual({ id: 'item-13', status: 'denied', html: '', code: 'ERR_POLICY_THREW' })
    expect(results[42]).toEqual({ id: 'item-42', status: 'denied', html: '', code: 'ERR_FRAGMENT_NOT_FOUND' })
    const allowed = results.filter((result) => result.status === 'allowed')
    expect(allowed).toHaveLength(98)
    expect(results[7]).toEqual({ id: 'item-7', status: 'allowed', html: '<li>7</li>' })
  })

  it('a throwing load, a throwing render or a plain-string render fail only their region with ERR_FRAGMENT_RENDER_FAILED', async () => {
    const { registry, log } = setup()
    registry.register('bad-load', { public: true, load: async () => { throw new Error('db down') } }, () => html`<p>never</p>`)
    registry.register('bad-render', { public: true }, () => { throw new Error('bug') })
    registry.register('plain-string', { public: true }, (() => '<p>unescaped</p>') as never)
    registry.register('good', { public: true }, () => html`<p>ok</p>`)
    const results = await registry.evaluateRegions(['bad-load', 'bad-render', 'plain-string', 'good'].map((fragment) => region(fragment, { fragment })), ANONYMOUS, null)
    expect(results.slice(0, 3).map((result) => [result.status, (result as { code?: string }).code])).toEqual([
      ['denied', 'ERR_FRAGMENT_RENDER_FAILED'],
      ['denied', 'ERR_FRAGMENT_RENDER_FAILED'],
      ['denied', 'ERR_FRAGMENT_RENDER_FAILED'],
    ])
    expect(results[3]).toEqual({ id: 'good', status: 'allowed', html: '<p>ok</p>' })
    expect(log.lines.filter((line) => line.code === 'ERR_FRAGMENT_RENDER_FAILED').map((line) => line.fragment).sort()).toEqual(['bad-load', 'bad-render', 'plain-string'])
  })

  it('a hanging load times out and denies with ERR_FRAGMENT_RENDER_FAILED', async () => {
    const { registry } = setup(50)
    registry.register('slow', { public: true, load: () => new Promise(() => {}) }, () => html`<p>x</p>`)
    expect(await registry.evaluateRegion(region('r', { fragment: 'slow' }), ANONYMOUS, null)).toMatchObject({ status: 'denied', code: 'ERR_FRAGMENT_RENDER_FAILED' })
  })

  it('user-controlled text is escaped in fragments', async () => {
    const { registry } = setup()
    registry.register('hello', { authenticated: true }, ({ user }) => html`<p title="${user.name}">Hi ${user.name}</p>`)
    const mallory = createPrincipal({ userId: 'm', name: '<img src=x onerror=alert(1)>"' })
    const result = await registry.evaluateRegion(region('r', { fragment: 'hello' }), mallory, null)
    expect(result.status).toBe('allowed')
    expect((result as { html: string }).html).not.toContain('<img')
  })
})

describe('guards redirect when denied', () => {
  let registry: FragmentRegistry
  beforeEach(() => {
    ;({ registry } = setup())
    registry.register('admin-page', { claims: [['role', 'admin']], redirect: '/no-access' }, () => html`<h1>admin</h1>`)
    registry.register('evil-redirect', { claims: [['role', 'admin']], redirect: 'https://evil.example/' }, () => html`<h1>x</h1>`)
  })
  const guard = (fields: Partial<RegionRequest>) => {
    const parsed = parseRegionRequest({ id: 'g', kind: 'guard', ...fields })
    if (isRegionProblem(parsed)) throw new Error(parsed.message)
    return parsed
  }

  it('a bare guard needs a signed-in user, then allows with empty html', async () => {
    expect(await registry.evaluateRegion(guard({}), ANONYMOUS, null)).toEqual({ id: 'g', status: 'redirect', location: '/login', code: 'ERR_UNAUTHENTICATED' })
    expect(await registry.evaluateRegion(guard({}), ada, null)).toEqual({ id: 'g', status: 'allowed', html: '' })
  })

  it('uses the fragment redirect when it passes the check', async () => {
    expect(await registry.evaluateRegion(guard({ fragment: 'admin-page' }), ada, null)).toEqual({ id: 'g', status: 'redirect', location: '/no-access', code: 'ERR_DENIED' })
  })

  it('an element redirect wins when safe; unsafe redirects fall back to the login URL with returnTo', async () => {
    expect(await registry.evaluateRegion(guard({ fragment: 'admin-page', redirect: 'https://www.example.com/denied' }), ada, null)).toMatchObject({ location: 'https://www.example.com/denied' })
    for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)']) {
      const result = await registry.evaluateRegion(guard({ policy: 'X', redirect: bad, returnTo: '/admin?tab=1' }), ANONYMOUS, null)
      expect(result).toEqual({ id: 'g', status: 'redirect', location: '/login?returnTo=%2Fadmin%3Ftab%3D1', code: 'ERR_UNAUTHENTICATED' })
    }
    expect(await registry.evaluateRegion(guard({ fragment: 'evil-redirect', returnTo: '//evil.example' }), ada, null)).toMatchObject({ location: '/login' })
  })

  it('an unknown fragment on a guard redirects (fails closed)', async () => {
    expect(await registry.evaluateRegion(guard({ fragment: 'nope' }), admin, null)).toMatchObject({ status: 'redirect', code: 'ERR_FRAGMENT_NOT_FOUND' })
  })
})

describe('region requests are validated strictly', () => {
  const bad: Array<[string, unknown]> = [
    ['not an object', 'r1'],
    ['an array', []],
    ['a missing id', { kind: 'region', fragment: 'f' }],
    ['an id with a space', { id: 'a b', fragment: 'f' }],
    ['an id over 64 chars', { id: 'a'.repeat(65), fragment: 'f' }],
    ['an unknown kind', { id: 'r', kind: 'page', fragment: 'f' }],
    ['a region without fragment', { id: 'r', kind: 'region' }],
    ['an unknown field', { id: 'r', fragment: 'f', html: '<p>' }],
    ['a fragment name over 256 chars', { id: 'r', fragment: 'f'.repeat(257) }],
    ['a non-string policy', { id: 'r', fragment: 'f', policy: 1 }],
    ['17 claims', { id: 'r', fragment: 'f', claims: Array.from({ length: 17 }, () => ['a', 'b']) }],
    ['a claim triple', { id: 'r', fragment: 'f', claims: [['a', 'b', 'c']] }],
    ['a non-string claim', { id: 'r', fragment: 'f', claims: [['a', 1]] }],
    ['params as array', { id: 'r', fragment: 'f', params: [1] }],
    ['params over 4 KiB', { id: 'r', fragment: 'f', params: { x: 'y'.repeat(4100) } }],
    ['a redirect on a region', { id: 'r', fragment: 'f', redirect: '/x' }],
  ]
  for (const [what, raw] of bad) {
    it(`refuses ${what}`, () => {
      expect(isRegionProblem(parseRegionRequest(raw))).toBe(true)
    })
  }

  it('refuses duplicate ids and too many regions in one list', () => {
    expect(isRegionProblem(parseRegionRequests([{ id: 'a', fragment: 'f' }, { id: 'a', fragment: 'g' }], 10))).toBe(true)
    expect(isRegionProblem(parseRegionRequests([{ id: 'a', fragment: 'f' }, { id: 'b', fragment: 'g' }], 1))).toBe(true)
  })

  it('reads own fields only: a key added to Object.prototype is neither refused nor read', () => {
    ;(Object.prototype as Record<string, unknown>).polluted = 'x'
    ;(Object.prototype as Record<string, unknown>).policy = 'Injected'
    try {
      const parsed = parseRegionRequest(JSON.parse('{"id":"r","fragment":"f"}'))
      expect(parsed).toEqual({ id: 'r', kind: 'region', fragment: 'f' })
      expect(Object.hasOwn(parsed, 'policy')).toBe(false)
      expect(parseRegionRequest(JSON.parse('{"id":"r","fragment":"f","html":"x"}'))).toMatchObject({ id: 'r', message: 'unknown field "html"' })
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted
      delete (Object.prototype as Record<string, unknown>).policy
    }
  })

  it('socket messages: params are deep-frozen in place (the parsed message is not kept) and bounded alike', () => {
    const message = parseClientMessage(JSON.stringify({ t: 'mount', regions: [
      { id: 'a', fragment: 'f', params: { nested: { list: [1, { x: 2 }] } } },
      { id: 'b', fragment: 'f', params: { x: 'y'.repeat(4100) } },
    ] }), 10)
    if (isMessageProblem(message) || message.t !== 'mount') throw new Error('not a mount')
    expect(message.regions.map((r) => r.id)).toEqual(['a'])
    expect(message.invalid).toEqual([{ id: 'b', message: '"params" must be at most 4096 bytes serialised', code: 'ERR_PARAMS_TOO_LARGE' }])
    const params = message.regions[0]!.params as { nested: { list: [number, { x: number }] } }
    expect(params).toEqual({ nested: { list: [1, { x: 2 }] } })
    for (const part of [params, params.nested, params.nested.list, params.nested.list[1]]) expect(Object.isFrozen(part)).toBe(true)
  })

  it('returns deep-frozen params, detached from the input', () => {
    const input = { id: 'r', fragment: 'f', params: { nested: { a: 1 } } }
    const parsed = parseRegionRequest(input) as RegionRequest
    input.params.nested.a = 2
    expect((parsed.params as { nested: { a: number } }).nested.a).toBe(1)
    expect(Object.isFrozen((parsed.params as { nested: object }).nested)).toBe(true)
  })
})
