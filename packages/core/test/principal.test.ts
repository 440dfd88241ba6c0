import { describe, expect, it } from 'vitest'
import { ANONYMOUS, ClaimsPrincipal, createPrincipal } from '@wire-auth/core'

const ada = createPrincipal({
  userId: 'u1',
  name: 'Ada',
  claims: [
    { type: 'role', value: 'admin' },
    { type: 'role', value: 'beta' },
    { type: 'email_verified', value: 'true' },
  ],
  raw: { sid: 'hash' },
})

describe('ClaimsPrincipal', () => {
  it('hasClaim without a value matches any value of the type', () => {
    expect(ada.hasClaim('role')).toBe(true)
    expect(ada.hasClaim('email_verified')).toBe(true)
    expect(ada.hasClaim('department')).toBe(false)
  })

  it('hasClaim with a value matches exactly that value', () => {
    expect(ada.hasClaim('role', 'admin')).toBe(true)
    expect(ada.hasClaim('role', 'beta')).toBe(true)
    expect(ada.hasClaim('role', 'Admin')).toBe(false)
    expect(ada.hasClaim('role', '')).toBe(false)
    expect(ada.hasClaim('email_verified', 'false')).toBe(false)
  })

  it('findAll returns every claim of a type in order', () => {
    expect(ada.findAll('role')).toEqual([
      { type: 'role', value: 'admin' },
      { type: 'role', value: 'beta' },
    ])
    expect(ada.findAll('nothing')).toEqual([])
  })

  it('toSummary exposes only authenticated, id and name', () => {
    expect(ada.toSummary()).toEqual({ authenticated: true, id: 'u1', name: 'Ada' })
    expect(ANONYMOUS.toSummary()).toEqual({ authenticated: false, id: null, name: null })
  })
})

describe('createPrincipal', () => {
  it('builds an authenticated principal with a null name by default', () => {
    const p = createPrincipal({ userId: 'u2' })
    expect(p).toBeInstanceOf(ClaimsPrincipal)
    expect(p.isAuthenticated).toBe(true)
    expect(p.userId).toBe('u2')
    expect(p.name).toBeNull()
    expect(p.claims).toEqual([])
    expect(p.raw).toEqual({})
  })

  it('freezes the principal, its claims and raw data', () => {
    expect(Object.isFrozen(ada)).toBe(true)
    expect(Object.isFrozen(ada.claims)).toBe(true)
    expect(ada.claims.every((c) => Object.isFrozen(c))).toBe(true)
    expect(Object.isFrozen(ada.raw)).toBe(true)
    expect(() => {
      ;(ada as { userId: string | null }).userId = 'u666'
    }).toThrow(TypeError)
    expect(() => (ada.claims as unknown as unknown[]).push({ type: 'role', value: 'root' })).toThrow(TypeError)
    expect(ada.hasClaim('role', 'root')).toBe(false)
  })

  it('copies claims so later changes to the input do not leak in', () => {
    const claims = [{ type: 'role', value: 'user' }]
    const raw: Record<string, unknown> = { a: 1 }
    const p = createPrincipal({ userId: 'u3', claims, raw })
    claims[0]!.value = 'admin'
    claims.push({ type: 'role', value: 'root' })
    raw.a = 2
    expect(p.hasClaim('role', 'admin')).toBe(false)
    expect(p.hasClaim('role', 'root')).toBe(false)
    expect(p.findAll('role')).toEqual([{ type: 'role', value: 'user' }])
    expect(p.raw).toEqual({ a: 1 })
  })

  it('stringifies claim types and values', () => {
    const p = createPrincipal({ userId: 'u4', claims: [{ type: 'level', value: 3 as unknown as string }] })
    expect(p.hasClaim('level', '3')).toBe(true)
  })
})

describe('ANONYMOUS', () => {
  it('is a frozen, unauthenticated principal without claims', () => {
    expect(ANONYMOUS).toBeInstanceOf(ClaimsPrincipal)
    expect(ANONYMOUS.isAuthenticated).toBe(false)
    expect(ANONYMOUS.userId).toBeNull()
    expect(ANONYMOUS.name).toBeNull()
    expect(ANONYMOUS.claims).toEqual([])
    expect(Object.isFrozen(ANONYMOUS)).toBe(true)
    expect(Object.isFrozen(ANONYMOUS.claims)).toBe(true)
    expect(Object.isFrozen(ANONYMOUS.raw)).toBe(true)
    expect(() => {
      ;(ANONYMOUS as { isAuthenticated: boolean }).isAuthenticated = true
    }).toThrow(TypeError)
    expect(ANONYMOUS.isAuthenticated).toBe(false)
    expect(ANONYMOUS.hasClaim('role')).toBe(false)
  })
})
