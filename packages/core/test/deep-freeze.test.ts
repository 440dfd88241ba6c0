import { describe, expect, it } from 'vitest'
import { deepFreeze } from '../src/index.js'

describe('deepFreeze', () => {
  it('freezes the object and every object and array reachable from it, and returns the same object', () => {
    const value = { a: { b: [1, { c: 'x' }] }, d: 'text', e: null }
    const frozen = deepFreeze(value)
    expect(frozen).toBe(value)
    expect(Object.isFrozen(value)).toBe(true)
    expect(Object.isFrozen(value.a)).toBe(true)
    expect(Object.isFrozen(value.a.b)).toBe(true)
    expect(Object.isFrozen(value.a.b[1])).toBe(true)
    expect(() => {
      ;(value.a.b[1] as { c: string }).c = 'y'
    }).toThrow(TypeError)
  })

  it('returns primitives and null unchanged', () => {
    expect(deepFreeze(null)).toBe(null)
    expect(deepFreeze('s')).toBe('s')
    expect(deepFreeze(3)).toBe(3)
    expect(deepFreeze(undefined)).toBe(undefined)
  })

  it('ends on cycles', () => {
    const node: { self?: unknown; list: unknown[] } = { list: [] }
    node.self = node
    node.list.push(node)
    expect(deepFreeze(node)).toBe(node)
    expect(Object.isFrozen(node.list)).toBe(true)
  })

  it('leaves functions unfrozen (only data is frozen)', () => {
    const callback = () => 1
    const value = { callback }
    deepFreeze(value)
    expect(Object.isFrozen(value)).toBe(true)
    expect(Object.isFrozen(callback)).toBe(false)
  })
})
