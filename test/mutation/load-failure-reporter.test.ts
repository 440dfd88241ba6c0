// The reporter that makes a test file failing to load count as a failed test
// under StrykerJS (otherwise the mutant that broke the file "survives").
import { describe, expect, it } from 'vitest'
import type { TestModule } from 'vitest/node'
import LoadFailureReporter from './load-failure-reporter.js'

type FileTask = TestModule['task']

function moduleOf(file: Partial<FileTask>): TestModule {
  return { task: { id: 'f1', name: 'a.test.ts', tasks: [], ...file } as FileTask } as unknown as TestModule
}

describe('LoadFailureReporter', () => {
  it('adds one failed test, carrying the load error, to a file that failed without tests', () => {
    const error = { message: 'Transform failed', name: 'Error' }
    const failed = moduleOf({ result: { state: 'fail', errors: [error] } })
    const reporter = new LoadFailureReporter()
    reporter.onTestRunEnd([failed])
    reporter.onTestRunEnd([failed])
    expect(failed.task.tasks).toHaveLength(1)
    expect(failed.task.tasks[0]).toMatchObject({ type: 'test', mode: 'run', result: { state: 'fail', errors: [error] } })
  })

  it('leaves passing files and files whose failures are in their tests alone', () => {
    const passed = moduleOf({ result: { state: 'pass' } })
    const testFailed = moduleOf({ result: { state: 'fail', errors: [] } })
    new LoadFailureReporter().onTestRunEnd([passed, testFailed])
    expect(passed.task.tasks).toEqual([])
    expect(testFailed.task.tasks).toEqual([])
  })
})
