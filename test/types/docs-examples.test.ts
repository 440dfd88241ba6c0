// Types a consumer compiles (issue 12, item 3): the README's and the docs'
// examples, and the consumer checks in consumer.ts, type-check under `strict`
// against the built declarations (packages/*/dist/*.d.ts, resolved through
// node_modules and each package's `exports`, as an installed package is),
// never against src/. npm test builds first; the pack helper's tarball test
// does the same from packed packages.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { CONSUMER_COMPILER_OPTIONS } from '../support/consumer-tsconfig.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** One fenced example: where it is, and its code. */
interface Example {
  source: string
  line: number
  lang: 'ts' | 'js'
  code: string
}

/**
 * The fenced `ts`/`js` blocks that import from a `@wire-auth/*` package:
 * complete examples a reader copies. Blocks without imports are fragments of
 * a sentence and are not programs.
 */
export function examplesOf(file: string): Example[] {
  const text = readFileSync(join(ROOT, file), 'utf8')
  const out: Example[] = []
  for (const match of text.matchAll(/```(ts|js|typescript|javascript)\n([\s\S]*?)```/g)) {
    const code = match[2]!
    if (!/^import .*['"]@wire-auth\//m.test(code)) continue
    out.push({ source: file, line: text.slice(0, match.index).split('\n').length, lang: match[1]!.startsWith('t') ? 'ts' : 'js', code })
  }
  return out
}

const docFiles = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  ...['core', 'server', 'elements'].map((p) => `packages/${p}/README.md`).filter((f) => existsSync(join(ROOT, f))),
]

let dir: string | undefined
afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

function typeCheck(files: Record<string, string>, skipLibCheck: boolean): { ok: boolean; output: string } {
  dir = mkdtempSync(join(tmpdir(), 'wire-auth-types-'))
  // Resolve packages the way an installed app does: through node_modules (workspace links → each package's dist/ via `exports`).
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }))
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        ...CONSUMER_COMPILER_OPTIONS,
        allowJs: true,
        checkJs: true,
        skipLibCheck,
      },
      include: ['*.ts', '*.mjs'],
    }),
  )
  for (const [name, code] of Object.entries(files)) writeFileSync(join(dir, name), code)
  try {
    const output = execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', cwd: dir })
    return { ok: true, output }
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string }
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }
  }
}

describe('examples type-check under strict against the built declarations', () => {
  const examples = docFiles.flatMap(examplesOf)

  it('finds the README server example and the docs examples', () => {
    expect(examples.some((e) => e.source === 'README.md' && e.code.includes('connectAuth'))).toBe(true)
    expect(examples.length).toBeGreaterThanOrEqual(5)
    expect(existsSync(join(ROOT, 'packages/server/dist/index.d.ts')), 'run npm run build first').toBe(true)
  })

  it('every example, and consumer.ts (with its @ts-expect-error checks), compiles', () => {
    const files: Record<string, string> = {}
    for (const [i, example] of examples.entries()) {
      const name = `${example.source.replace(/[^A-Za-z0-9]+/g, '_')}_L${example.line}_${i}.${example.lang === 'ts' ? 'ts' : 'mjs'}`
      // A module of its own (top-level await), as a reader's file would be.
      files[name] = `${example.code}\nexport {}\n`
    }
    files['consumer.ts'] = readFileSync(fileURLToPath(new URL('./consumer.ts', import.meta.url)), 'utf8')
    const result = typeCheck(files, false)
    expect(result.output).toBe('')
    expect(result.ok).toBe(true)
  })

  it('renamed decorators beside @fastify/jwt and @fastify/auth compile (skipLibCheck, as tsc --init sets it; see options.md)', () => {
    const code = [
      "import Fastify from 'fastify'",
      "import fastifyAuth from '@fastify/auth'",
      "import fastifyJwt from '@fastify/jwt'",
      "import { connectAuth, html, principalOf, wireAuthOf } from '@wire-auth/server'",
      'const app = Fastify()',
      'await app.register(fastifyAuth)',
      "await app.register(fastifyJwt, { secret: 'a-long-enough-secret-for-the-test' })",
      "await connectAuth(app, { decorators: { auth: 'wireAuth', user: 'principal' } })",
      'const { auth, fragment } = wireAuthOf(app)',
      "fragment('me', { authenticated: true }, ({ user }) => html`<p>${user.name}</p>`)",
      "app.get('/x', { preHandler: app.auth([async () => undefined]) }, async (request) => {",
      "  await auth.grant(principalOf(request), request, 'role', 'beta')",
      '  return { me: principalOf(request).userId }',
      '})',
      'export {}',
    ].join('\n')
    const result = typeCheck({ 'renamed.ts': code }, true)
    expect(result.output).toBe('')
    expect(result.ok).toBe(true)
  })

  it('positive control: a wrong example does not compile', () => {
    const result = typeCheck({ 'wrong.ts': "import { connectAuth } from '@wire-auth/server'\nawait connectAuth(null, { allowedOrigins: 'x' })\nexport {}\n" }, true)
    expect(result.ok).toBe(false)
    expect(result.output).toMatch(/wrong\.ts/)
  })
})

