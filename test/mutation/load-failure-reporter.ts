import type { Reporter, TestModule } from 'vitest/node'

/**
 * Makes a test file that fails to load count as a failed test.
 *
 * StrykerJS's vitest runner only looks at the tests of a run: a file that
 * throws while it is imported or collected (a mutant that breaks module
 * initialisation, engine code called in a `describe` body) has no tests, so
 * the mutant would be reported "survived". This reporter adds one failed test
 * to such a file, so the mutant is "killed" — and the initial (dry) run fails
 * loudly when a file is broken without any mutant.
 */
export default class LoadFailureReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    for (const testModule of testModules) {
      const file = testModule.task
      const errors = file.result?.errors ?? []
      if (file.result?.state !== 'fail' || errors.length === 0) continue
      if (file.tasks.some((task) => task.name === LOAD_FAILURE)) continue
      file.tasks.push({
        type: 'test',
        id: `${file.id}_load_failure`,
        name: LOAD_FAILURE,
        mode: 'run',
        fullName: `${file.name} ${LOAD_FAILURE}`,
        file,
        suite: file,
        meta: {},
        context: {} as never,
        timeout: 0,
        annotations: [],
        artifacts: [],
        result: { state: 'fail', errors },
      } as unknown as (typeof file.tasks)[number])
    }
  }
}

const LOAD_FAILURE = 'the test file loads'
