// Issue 21: every branch of a fragment registration, each where it decides,
// asserted by code (compileFragment is what app.fragment and the registry call).
import { html, isWireAuthError } from '@wire-auth/core'
import { describe, expect, it } from 'vitest'
import { compileFragment, FRAGMENT_NAME } from '../src/lib/fragments/fragment-definition.js'
import { thrownCode } from '../../../test/support/error-code.js'

const render = () => html`<p>x</p>`
const hook = () => html`<p>denied</p>`

describe('compileFragment', () => {
  it('names: 1..128 of [A-Za-z0-9_.:-], strings only', () => {
    expect(compileFragment('a'.repeat(128), { public: true }, render).name).toHaveLength(128)
    expect(compileFragment('A-z_0.9:x', { public: true }, render).name).toBe('A-z_0.9:x')
    expect(thrownCode(() => compileFragment('a'.repeat(129), { public: true }, render))).toBe('ERR_FRAGMENT_INVALID')
    expect(thrownCode(() => compileFragment(42, { public: true }, render))).toBe('ERR_FRAGMENT_INVALID')
    expect(thrownCode(() => compileFragment('a/b', { public: true }, render))).toBe('ERR_FRAGMENT_INVALID')
    expect(FRAGMENT_NAME.test('x'.repeat(129))).toBe(false)
  })

  it('no guard object at all is unguarded; a guard that is no object is invalid', () => {
    expect(thrownCode(() => compileFragment('f', null, render))).toBe('ERR_FRAGMENT_UNGUARDED')
    expect(thrownCode(() => compileFragment('f', undefined, render))).toBe('ERR_FRAGMENT_UNGUARDED')
    expect(thrownCode(() => compileFragment('f', 'AdminOnly', render))).toBe('ERR_FRAGMENT_INVALID')
    expect(thrownCode(() => compileFragment('f', 1, render))).toBe('ERR_FRAGMENT_INVALID')
    expect(thrownCode(() => compileFragment('f', [{ public: true }], render))).toBe('ERR_FRAGMENT_INVALID')
  })

  it('options set to undefined count as absent; unknown ones are refused', () => {
    expect(compileFragment('f', { public: true, polcy: undefined, load: undefined }, render).load).toBeUndefined()
    expect(thrownCode(() => compileFragment('f', { public: true, polcy: 'P' }, render))).toBe('ERR_FRAGMENT_INVALID')
    expect(thrownCode(() => compileFragment('f', { policy: undefined, claims: undefined }, render))).toBe('ERR_FRAGMENT_UNGUARDED')
  })

  it('render, load and else must be functions; bindVerdict a boolean', () => {
    expect(thrownCode(() => compileFragment('f', { public: true }, undefined))).toBe('ERR_FRAGMENT_INVALID')
    expect(thrownCode(() => compileFragment('f', { public: true, load: {} }, render))).toBe('ERR_FRAGMENT_INVALID')
    expect(thrownCode(() => compileFragment('f', { authenticated: true, else: '<p>no</p>' }, render))).toBe('ERR_FRAGMENT_INVALID')
    expect(thrownCode(() => compileFragment('f', { authenticated: true, bindVerdict: 'yes' }, render))).toBe('ERR_FRAGMENT_INVALID')
    expect(thrownCode(() => compileFragment('f', { authenticated: true, bindVerdict: 1 }, render))).toBe('ERR_FRAGMENT_INVALID')
  })

  it('else with bindVerdict: false is fine; with bindVerdict: true it is refused', () => {
    const compiled = compileFragment('f', { authenticated: true, bindVerdict: false, else: hook }, render)
    expect(compiled.bindVerdict).toBe(false)
    expect(compiled.elseRender).toBe(hook)
    expect(thrownCode(() => compileFragment('f', { authenticated: true, bindVerdict: true, else: hook }, render))).toBe('ERR_FRAGMENT_INVALID')
  })

  it('a public fragment takes no redirect, else or bindVerdict, and public must be true', () => {
    expect(compileFragment('f', { public: true }, render).spec).toBeNull()
    expect(thrownCode(() => compileFragment('f', { public: true, redirect: '/x' }, render))).toBe('ERR_FRAGMENT_INVALID')
    expect(thrownCode(() => compileFragment('f', { public: true, bindVerdict: true }, render))).toBe('ERR_FRAGMENT_INVALID')
    expect(thrownCode(() => compileFragment('f', { public: true, else: hook }, render))).toBe('ERR_FRAGMENT_INVALID')
    expect(thrownCode(() => compileFragment('f', { public: 'yes' }, render))).toBe('ERR_FRAGMENT_INVALID')
    expect(compileFragment('f', { public: true, bindVerdict: false }, render).bindVerdict).toBe(false)
  })

  it('exactly one guard', () => {
    expect(thrownCode(() => compileFragment('f', { authenticated: true, public: true }, render))).toBe('ERR_FRAGMENT_INVALID')
    expect(thrownCode(() => compileFragment('f', { claims: [['role']], authenticated: true }, render))).toBe('ERR_FRAGMENT_INVALID')
  })

  it('a malformed guard is ERR_FRAGMENT_INVALID with the parser error as the cause', () => {
    try {
      compileFragment('f', { claims: [] }, render)
      expect.unreachable()
    } catch (err) {
      expect(isWireAuthError(err, 'ERR_FRAGMENT_INVALID')).toBe(true)
      expect(isWireAuthError((err as Error).cause, 'ERR_GUARD_SPEC_INVALID')).toBe(true)
      expect((err as { statusCode?: number }).statusCode).toBe(500)
    }
    expect(thrownCode(() => compileFragment('f', { policy: 'P', redirect: '' }, render))).toBe('ERR_FRAGMENT_INVALID')
  })

  it('returns a frozen fragment with its guard, hooks and redirect', () => {
    const load = () => 1
    const compiled = compileFragment('f', { policy: 'P', redirect: '/login', load, else: hook }, render)
    expect(compiled).toEqual({ name: 'f', spec: { kind: 'policy', policy: 'P', redirect: '/login' }, load, render, elseRender: hook, bindVerdict: false })
    expect(Object.isFrozen(compiled)).toBe(true)
    expect(compileFragment('g', { claims: [['role', 'a']] }, render).spec).toEqual({ kind: 'claims', claims: [['role', 'a']] })
    expect(compileFragment('h', { authenticated: true, bindVerdict: true }, render)).toMatchObject({ spec: { kind: 'authenticated' }, bindVerdict: true })
  })
})
