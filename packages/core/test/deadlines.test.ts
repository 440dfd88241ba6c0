// Issue 20: one mechanism for "user code under a time-out", shared by the
// policy engine and the fragment registry (load / render / else).
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DeadlineList, type Deadline } from '../src/index.js'

interface Entry extends Deadline {
  name: string
}

function entry(list: DeadlineList<Entry>, name: string): Entry {
  const e: Entry = { name, at: list.deadline(), prev: null, next: null, done: false }
  list.start(e)
  return e
}

describe('DeadlineList', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('expires what is still pending at its deadline, in order, once; a settled entry never expires', () => {
    vi.useFakeTimers()
    const expired: string[] = []
    const list = new DeadlineList<Entry>(100, (e) => expired.push(e.name))
    const a = entry(list, 'a')
    vi.advanceTimersByTime(40)
    const b = entry(list, 'b')
    const c = entry(list, 'c')
    expect(list.settle(b)).toBe(true)
    vi.advanceTimersByTime(60)
    expect(expired).toEqual(['a'])
    expect(a.done).toBe(true)
    vi.advanceTimersByTime(40)
    expect(expired).toEqual(['a', 'c'])
    // A late answer (after the time-out) or a second one is ignored.
    expect(list.settle(a)).toBe(false)
    expect(list.settle(b)).toBe(false)
    vi.advanceTimersByTime(1000)
    expect(expired).toEqual(['a', 'c'])
  })

  it('keeps working after it emptied: a new entry re-arms the timer', () => {
    vi.useFakeTimers()
    const expired: string[] = []
    const list = new DeadlineList<Entry>(50, (e) => expired.push(e.name))
    list.settle(entry(list, 'a'))
    vi.advanceTimersByTime(100)
    entry(list, 'b')
    vi.advanceTimersByTime(50)
    expect(expired).toEqual(['b'])
  })
})
