import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

/** One fenced ```ts block of a Markdown file. */
export interface Example {
  /** `README.md#2`: the file (relative to the repo) and the block's number in it. */
  name: string
  /** Line of the opening fence, 1-based. */
  line: number
  code: string
}

/**
 * Every ```ts (or ```typescript) block that imports from a `@wire-auth/*`
 * package, in the Markdown files that document the packages: the root
 * README, each package's README and docs/*.md. Such a block is a complete
 * module a reader copies; blocks without such an import are fragments of a
 * sentence (the same rule as test/types/docs-examples.test.ts, which checks
 * them against the workspace build).
 */
export function typescriptExamples(root: string): Example[] {
  const files = [
    join(root, 'README.md'),
    ...['core', 'server', 'elements'].map((p) => join(root, 'packages', p, 'README.md')),
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => join(root, 'docs', f)),
  ]
  const examples: Example[] = []
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n')
    let open: { line: number; body: string[] } | null = null
    let n = 0
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!
      if (open === null) {
        if (/^```(ts|typescript)\s*$/.test(line)) open = { line: i + 1, body: [] }
      } else if (/^```\s*$/.test(line)) {
        n += 1
        const code = `${open.body.join('\n')}\n`
        if (/^import .*['"]@wire-auth\//m.test(code)) examples.push({ name: `${relative(root, file)}#${n}`, line: open.line, code })
        open = null
      } else {
        open.body.push(line)
      }
    }
  }
  return examples
}
