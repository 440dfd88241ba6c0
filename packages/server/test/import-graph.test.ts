import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, posix, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
// vitest's own engine: its parser (oxc, through rolldown) reads TypeScript.
import { parseAst } from 'vite'
import { describe, expect, it } from 'vitest'

// The server's import graph from its static import and export declarations, read with a real parser
// (type-only imports included: a reader follows them too). Keys and targets are paths relative to src/lib.
const lib = join(dirname(fileURLToPath(import.meta.url)), '../src/lib')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** Every module specifier a file's import and export declarations name. */
function specifiers(file: string): string[] {
  return parseAst(readFileSync(file, 'utf8'), { lang: 'ts' }).body.flatMap((node) =>
    'source' in node && node.source !== null && typeof node.source?.value === 'string' ? [node.source.value] : [],
  )
}

const graph = new Map<string, string[]>()
for (const file of sources(lib)) {
  const from = relative(lib, file).split('\\').join('/')
  const imports = specifiers(file)
    .filter((name) => name.startsWith('.'))
    .map((name) => posix.normalize(posix.join(posix.dirname(from), name)).replace(/\.js$/, '.ts'))
  graph.set(from, imports)
}

function reachable(start: string): Set<string> {
  const seen = new Set<string>()
  const todo = [...(graph.get(start) ?? [])]
  while (todo.length > 0) {
    const next = todo.pop() as string
    if (seen.has(next)) continue
    seen.add(next)
    todo.push(...(graph.get(next) ?? []))
  }
  return seen
}

function importersOf(target: string): string[] {
  return [...graph].filter(([, imports]) => imports.includes(target)).map(([from]) => from)
}

describe('the server import graph', () => {
  it('reads every module (the walk found the composition root and its imports)', () => {
    expect(graph.get('context.ts')).toEqual(expect.arrayContaining(['sessions.ts', 'signer.ts', 'local-idp/local-idp.ts']))
  })

  it('points down from the composition root: nothing context.ts builds on imports context.ts back', () => {
    const below = reachable('context.ts')
    const upward = [...below].filter((from) => graph.get(from)?.includes('context.ts'))
    expect(upward).toEqual([])
  })

  it('keeps each contract beside its implementation: SessionManager, CookieSigner, TokenVerifier, the audit writer', () => {
    for (const module of ['sessions.ts', 'signer.ts', 'local-idp/local-idp.ts', 'audit.ts', 'authenticate.ts']) {
      expect(graph.get(module), module).not.toContain('context.ts')
    }
    // The live path gets what it needs passed in, not the context: only the route module takes it.
    expect(importersOf('context.ts').filter((from) => from.startsWith('live/'))).toEqual(['live/live-socket.ts'])
  })

  it('core imports nothing; elements import no wire-auth package but core, and nothing outside their own folder', () => {
    const packages = join(lib, '../../..')
    const leaving = (file: string, root: string) => specifiers(file).filter((name) => name.startsWith('.') && !join(dirname(file), name).startsWith(root))
    const core = sources(join(packages, 'core/src'))
    const elements = sources(join(packages, 'elements/src'))
    expect(core.length * elements.length).toBeGreaterThan(0)
    for (const file of core) {
      expect(specifiers(file).filter((name) => !name.startsWith('.')), file).toEqual([])
      expect(leaving(file, join(packages, 'core/src')), file).toEqual([])
    }
    for (const file of elements) {
      expect(specifiers(file).filter((name) => name.startsWith('@wire-auth/') && name !== '@wire-auth/core'), file).toEqual([])
      expect(leaving(file, join(packages, 'elements/src')), file).toEqual([])
    }
  })

  it('keeps fragments/ off live/ and the store, and channel/ off live/', () => {
    for (const [from, imports] of graph) {
      if (from.startsWith('fragments/')) expect(imports.filter((to) => to.startsWith('live/') || to.startsWith('store/')), from).toEqual([])
      if (from.startsWith('channel/')) expect(imports.filter((to) => to.startsWith('live/')), from).toEqual([])
    }
  })
})
