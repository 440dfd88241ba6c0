import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { transformSync } from 'esbuild'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../support/free-port.mjs'
import { typescriptExamples } from './examples.js'
import { CONSUMER_COMPILER_OPTIONS } from '../support/consumer-tsconfig.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const PACKAGES = ['core', 'server', 'elements'] as const
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>
const installedVersion = (name: string) => readJson(join(root, 'node_modules', name, 'package.json')).version as string

let work: string
let project: string
const tarballs: Record<string, string> = {}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status ?? result.signal}\n${result.stdout}\n${result.stderr}`)
  return result.stdout
}

/** Every file under `dir`, relative to it, with `/` separators. */
function walk(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? walk(path, base) : [relative(base, path).split(sep).join('/')]
  })
}

const installed = (pkg: string) => join(project, 'node_modules', '@wire-auth', pkg)

/**
 * The other packages the documented examples import (a host app's own
 * `@fastify/cors`…): a stranger's project has them, so the fresh project
 * installs them too, at the versions this repository tests with.
 */
function exampleDependencies(): string[] {
  const names = new Set<string>()
  for (const { code } of typescriptExamples(root)) {
    for (const [, specifier] of code.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)) {
      if (specifier!.startsWith('.') || specifier!.startsWith('node:')) continue
      const parts = specifier!.split('/')
      const name = specifier!.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
      if (name !== 'fastify' && !name.startsWith('@wire-auth/')) names.add(name)
    }
  }
  return [...names].sort()
}

beforeAll(() => {
  if (!existsSync(join(root, 'packages/server/dist/cli.js')) || !existsSync(join(root, 'packages/elements/dist/wire-auth.js'))) {
    throw new Error('the packages are not built: run `npm run build` first (npm test does)')
  }
  work = mkdtempSync(join(tmpdir(), 'wire-auth-package-'))
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work, ...PACKAGES.flatMap((p) => ['-w', `packages/${p}`])], root)) as { name: string; filename: string }[]
  for (const { name, filename } of packed) tarballs[name] = join(work, filename)

  project = join(work, 'app')
  mkdirSync(project)
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'stranger-app', private: true, type: 'module' }, null, 2)}\n`)
  // From the npm cache (--prefer-offline), with install scripts skipped: the
  // native addons (better-sqlite3, argon2) are copied from this repository's
  // own install of the same versions, which compiled them. Their prebuilt
  // binaries come from outside the npm registry (better-sqlite3) or do not
  // load on every machine (argon2's), and compiling takes a minute each.
  run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      '--loglevel=error',
      tarballs['@wire-auth/core']!,
      tarballs['@wire-auth/elements']!,
      tarballs['@wire-auth/server']!,
      `fastify@${installedVersion('fastify')}`,
      `@types/node@${installedVersion('@types/node')}`,
      ...exampleDependencies().map((name) => `${name}@${installedVersion(name)}`),
    ],
    project,
  )
  for (const [name, addon] of [
    ['better-sqlite3', 'build/Release/better_sqlite3.node'],
    ['argon2', 'build/Release/argon2.node'],
  ] as const) {
    const target = join(project, 'node_modules', name)
    const built = join(root, 'node_modules', name, addon)
    if (readJson(join(target, 'package.json')).version === installedVersion(name) && existsSync(built)) {
      mkdirSync(dirname(join(target, addon)), { recursive: true })
      copyFileSync(built, join(target, addon))
    } else {
      run('npm', ['rebuild', name], project)
    }
  }
})

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true })
})

describe('the published tarballs', () => {
  it('hold LICENSE, README.md, package.json and only dist/, src/ (and server data/): no tsbuildinfo, no tests', () => {
    for (const pkg of PACKAGES) {
      const files = walk(installed(pkg))
      expect(files, pkg).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']))
      const stray = files.filter((f) => !['LICENSE', 'README.md', 'package.json', 'custom-elements.json'].includes(f) && !/^(dist|src|data)\//.test(f))
      expect(stray, pkg).toEqual([])
      expect(files.filter((f) => f.endsWith('.tsbuildinfo') || /(^|\/)test\//.test(f) || f.endsWith('.test.ts')), pkg).toEqual([])
      expect(readFileSync(join(installed(pkg), 'LICENSE'), 'utf8')).toMatch(/^MIT License/)
      expect(readJson(join(installed(pkg), 'package.json')).engines?.node, pkg).toMatch(/^>=20/)
    }
  })

  it('declare fastify as a peer, mongodb and ioredis as optional peers, and the elements as a dependency of the server', () => {
    const server = readJson(join(installed('server'), 'package.json'))
    expect(server.dependencies.fastify).toBeUndefined()
    expect(server.peerDependencies).toMatchObject({ fastify: expect.any(String), mongodb: expect.any(String), ioredis: expect.any(String) })
    expect(server.peerDependenciesMeta).toMatchObject({ mongodb: { optional: true }, ioredis: { optional: true } })
    expect(server.peerDependenciesMeta.fastify).toBeUndefined()
    expect(server.dependencies['@wire-auth/elements']).toBe(readJson(join(installed('elements'), 'package.json')).version)
    // Optional peers are not installed for a stranger who did not ask for them.
    expect(existsSync(join(project, 'node_modules/mongodb'))).toBe(false)
    expect(existsSync(join(project, 'node_modules/ioredis'))).toBe(false)
  })

  it('every package a shipped module imports is declared (dependency or peer): no phantom dependencies', () => {
    const builtins = new Set(builtinModules)
    for (const pkg of PACKAGES) {
      const base = installed(pkg)
      const manifest = readJson(join(base, 'package.json'))
      const declared = new Set([manifest.name, ...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})])
      const undeclared = new Set<string>()
      for (const file of walk(join(base, 'dist')).filter((f) => f.endsWith('.js'))) {
        const text = readFileSync(join(base, 'dist', file), 'utf8')
        // Static imports and re-exports start a line in the compiled output; dynamic imports are import('…').
        const specifiers = [
          ...text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gm),
          ...text.matchAll(/^import\s*['"]([^'"]+)['"]/gm),
          ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
        ]
        for (const [, specifier] of specifiers) {
          if (specifier!.startsWith('.') || specifier!.startsWith('node:') || builtins.has(specifier!)) continue
          const parts = specifier!.split('/')
          const name = specifier!.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
          if (!declared.has(name)) undeclared.add(`${name} (dist/${file})`)
        }
      }
      expect([...undeclared], pkg).toEqual([])
    }
  })

  it("every source map resolves inside the package: each source is in the tarball or embedded (sourcesContent)", () => {
    let maps = 0
    for (const pkg of PACKAGES) {
      const base = installed(pkg)
      for (const file of walk(base).filter((f) => f.endsWith('.map'))) {
        maps += 1
        const map = readJson(join(base, file)) as { sources: string[]; sourceRoot?: string; sourcesContent?: (string | null)[] }
        map.sources.forEach((source, i) => {
          if (typeof map.sourcesContent?.[i] === 'string') return
          const target = resolve(dirname(join(base, file)), map.sourceRoot ?? '', source)
          expect(target.startsWith(base + sep), `${pkg}/${file} → ${source}`).toBe(true)
          expect(existsSync(target), `${pkg}/${file} → ${source}`).toBe(true)
        })
      }
    }
    expect(maps).toBeGreaterThan(100)
  })

  it('custom-elements.json is exported and every path in it is a shipped file', () => {
    const resolved = run(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('@wire-auth/elements/custom-elements.json'))"], project).trim()
    const manifestPath = fileURLToPath(resolved)
    expect(manifestPath).toBe(join(installed('elements'), 'custom-elements.json'))
    const paths = new Set<string>()
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(visit)
      else if (node !== null && typeof node === 'object') {
        const record = node as Record<string, unknown>
        for (const [key, value] of Object.entries(record)) {
          if ((key === 'path' || key === 'module') && typeof value === 'string' && record.package === undefined) paths.add(value)
          else visit(value)
        }
      }
    }
    visit(readJson(manifestPath).modules)
    expect(paths.size).toBeGreaterThan(5)
    for (const path of paths) expect(existsSync(join(installed('elements'), path)), path).toBe(true)
    expect(readJson(manifestPath).modules.some((m: { declarations?: { tagName?: string }[] }) => m.declarations?.some((d) => d.tagName === 'wire-auth-region'))).toBe(true)
  })

  it('the bundle keeps the licence comments of Lit', () => {
    const bundle = readFileSync(join(installed('elements'), 'dist/wire-auth.js'), 'utf8')
    expect(bundle).toMatch(/@license[\s\S]*SPDX-License-Identifier: BSD-3-Clause/)
  })
})

describe('a stranger project', () => {
  it('importing @wire-auth/server/mongodb or /redis without its driver fails with ERR_OPTIONAL_DEPENDENCY_MISSING naming the package', () => {
    const probe = `
      const out = {}
      for (const entry of ['mongodb', 'redis']) {
        try { await import('@wire-auth/server/' + entry); out[entry] = 'loaded' }
        catch (err) { out[entry] = { code: err.code, packageName: err.packageName, message: err.message } }
      }
      console.log(JSON.stringify(out))`
    const out = JSON.parse(run(process.execPath, ['--input-type=module', '-e', probe], project)) as Record<string, { code: string; packageName: string; message: string }>
    expect(out.mongodb).toMatchObject({ code: 'ERR_OPTIONAL_DEPENDENCY_MISSING', packageName: 'mongodb' })
    expect(out.mongodb!.message).toContain('npm install mongodb')
    expect(out.redis).toMatchObject({ code: 'ERR_OPTIONAL_DEPENDENCY_MISSING', packageName: 'ioredis' })
  })

  it('the wire-auth bin answers --version', () => {
    const version = run(join(project, 'node_modules/.bin/wire-auth'), ['--version'], project).trim()
    expect(version).toBe(readJson(join(installed('server'), 'package.json')).version)
  })

  it("the main entries' declarations compile with skipLibCheck off, without the optional peers installed", () => {
    // A consumer without mongodb/ioredis whose tsconfig checks declarations
    // (skipLibCheck: false) must not meet an import of either from the main
    // entries (it did: ChannelLogger lived in a file importing ioredis).
    const dir = join(project, 'declarations')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'entries.ts'), "import '@wire-auth/server'\nimport '@wire-auth/core'\nimport '@wire-auth/elements'\nexport {}\n")
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023', 'DOM', 'DOM.Iterable'], types: ['node'], strict: true, noEmit: true, skipLibCheck: false },
        files: ['entries.ts'],
      }),
    )
    const result = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], { cwd: project, encoding: 'utf8' })
    expect(`${result.stdout}${result.stderr}`).toBe('')
    expect(result.status).toBe(0)
  })

  it("type-checks every TypeScript example of the READMEs and docs under strict against the installed declarations", () => {
    const examples = typescriptExamples(root)
    expect(examples.length).toBeGreaterThanOrEqual(4)
    const dir = join(project, 'examples')
    mkdirSync(dir, { recursive: true })
    const names = new Map<string, string>()
    for (const [i, example] of examples.entries()) {
      // `export {}` keeps a block without imports a module (top-level await is allowed in modules).
      const file = `example-${i}.ts`
      names.set(file, `${example.name} (line ${example.line})`)
      writeFileSync(join(dir, file), `${example.code}\nexport {}\n`)
    }
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          ...CONSUMER_COMPILER_OPTIONS,
          skipLibCheck: true,
        },
        include: ['examples/*.ts'],
      }),
    )
    const tsc = join(root, 'node_modules/typescript/bin/tsc')
    const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: project, encoding: 'utf8' })
    // Name the documented example behind each error, not the temp file.
    const report = `${result.stdout}${result.stderr}`.replace(/examples\/(example-\d+\.ts)/g, (_m, file: string) => names.get(file) ?? file)
    expect(report).toBe('')
    expect(result.status).toBe(0)
  })
})

describe('the quick start (docs/quick-start.md, the server README), run from the installed packages', () => {
  let server: ChildProcess | undefined
  let browser: Browser | undefined
  let url: string
  let output = ''

  beforeAll(async () => {
    const quickStart = (doc: string) => typescriptExamples(root).find((e) => e.name.startsWith(doc) && e.code.includes('app.listen'))
    const example = quickStart('docs/quick-start.md')
    if (example === undefined) throw new Error('docs/quick-start.md has no quick start (a ```ts block calling app.listen)')
    // One quick start: the server's README shows the very same file.
    expect(quickStart('packages/server/README.md')?.code).toBe(example.code)
    // Node 20 runs no TypeScript: strip the types the way `tsx` would.
    writeFileSync(join(project, 'server.mjs'), transformSync(example.code, { loader: 'ts', format: 'esm', target: 'es2022' }).code)
    const port = await freePort()
    server = spawn(process.execPath, ['server.mjs'], { cwd: project, env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] })
    url = await new Promise<string>((resolveUrl, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk
        const match = /listening on (\S+)/.exec(output)
        if (match) resolveUrl(match[1]!)
      }
      server!.stdout!.on('data', onData)
      server!.stderr!.on('data', (chunk: Buffer) => (output += chunk))
      server!.once('exit', (code) => reject(new Error(`the quick start exited ${code}:\n${output}`)))
    })
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    })
  })

  afterAll(async () => {
    await browser?.close()
    server?.kill('SIGTERM')
  })

  it('serves /wire-auth.js from a plain install, and a region renders its fragment in Chromium', async () => {
    const bundle = await fetch(`${url}/wire-auth.js`)
    expect(bundle.status).toBe(200)
    expect(bundle.headers.get('content-type')).toMatch(/^text\/javascript/)
    const page = await browser!.newPage()
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(err.message))
    await page.goto(`${url}/`)
    await page.locator('wire-auth-region[fragment="hello"] #hello').waitFor({ timeout: 15_000 })
    expect(await page.locator('#hello').textContent()).toBe('Hello from the server')
    await page.locator('wire-auth-region[fragment="admin-panel"][status="denied"]').waitFor({ timeout: 15_000 })
    expect(await page.locator('wire-auth-region[fragment="admin-panel"]').textContent()).toContain('Admins only.')
    expect(problems).toEqual([])
    await page.close()
  })

  it('the versioned bundle URL serves the bytes whose SRI hash bundle-info prints, and Chromium accepts the pinned script (and refuses a wrong hash)', async () => {
    const info = JSON.parse(run(join(project, 'node_modules/.bin/wire-auth'), ['bundle-info', '--json'], project)) as { path: string; integrity: string }
    expect(info).toEqual(readJson(join(installed('elements'), 'dist/bundle-info.json')))
    const served = Buffer.from(await (await fetch(`${url}${info.path}`)).arrayBuffer())
    expect(`sha384-${createHash('sha384').update(served).digest('base64')}`).toBe(info.integrity)

    const page = await browser!.newPage()
    await page.goto(`${url}/`)
    const load = (integrity: string) =>
      page.evaluate(
        ({ src, integrity }) =>
          new Promise<string>((done) => {
            const script = document.createElement('script')
            script.type = 'module'
            script.crossOrigin = 'anonymous'
            script.integrity = integrity
            script.src = src
            script.onload = () => done('loaded')
            script.onerror = () => done('refused')
            document.head.append(script)
          }),
        { src: `${info.path}?attempt=${integrity.length}${integrity.slice(-4)}`, integrity },
      )
    expect(await load(info.integrity)).toBe('loaded')
    expect(await load(`sha384-${createHash('sha384').update('something else').digest('base64')}`)).toBe('refused')
    await page.close()
  })

  it('a page that pins the bundle pins the UI module it imports: wire-auth-ui@<version>.js, checked against the import map integrity', async () => {
    const info = readJson(join(installed('elements'), 'dist/bundle-info.json')) as { path: string; integrity: string; ui: { path: string; integrity: string } }
    const wrong = `sha384-${createHash('sha384').update('something else').digest('base64')}`
    const pinnedPage = (uiIntegrity: string) => `<!doctype html>
      <script type="importmap">${JSON.stringify({ integrity: { [`${url}${info.ui.path}`]: uiIntegrity } })}</script>
      <script type="module" src="${info.path}" integrity="${info.integrity}" crossorigin="anonymous"></script>
      <wire-auth-sign-in></wire-auth-sign-in>`
    for (const [uiIntegrity, expected] of [
      [info.ui.integrity, 'loaded'],
      [wrong, 'refused'],
    ] as const) {
      const page = await browser!.newPage()
      const errors: string[] = []
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text())
      })
      // A page of the backend's origin (so the import map governs the same URLs), served by the test.
      await page.route(`${url}/pinned.html`, (route) => route.fulfill({ contentType: 'text/html', body: pinnedPage(uiIntegrity) }))
      const uiRequest = page.waitForRequest((request) => request.url().endsWith(info.ui.path), { timeout: 15_000 })
      await page.goto(`${url}/pinned.html`)
      await uiRequest
      if (expected === 'loaded') {
        await page.waitForFunction(() => customElements.get('wire-auth-sign-in') !== undefined, undefined, { timeout: 15_000 })
        expect(errors.filter((e) => e.includes('UI module'))).toEqual([])
      } else {
        await expect.poll(() => errors.some((e) => e.includes('the UI module') && e.includes('did not load')), { timeout: 15_000 }).toBe(true)
        expect(await page.evaluate(() => customElements.get('wire-auth-sign-in') === undefined)).toBe(true)
      }
      await page.close()
    }
  })

  it('a pinned page pins the token module the bundle loads on the first WireAuth.getToken(): wire-auth-tokens@<version>.js, checked against the import map', async () => {
    const info = readJson(join(installed('elements'), 'dist/bundle-info.json')) as { path: string; integrity: string; tokens: { path: string; integrity: string } }
    const wrong = `sha384-${createHash('sha384').update('something else').digest('base64')}`
    for (const [integrity, expected] of [
      [info.tokens.integrity, 'null'],
      [wrong, 'refused'],
    ] as const) {
      const page = await browser!.newPage()
      const body = `<!doctype html>
        <script type="importmap">${JSON.stringify({ integrity: { [`${url}${info.tokens.path}`]: integrity } })}</script>
        <script type="module">
          import { WireAuth } from '${info.path}'
          WireAuth.getToken().then((token) => (document.body.dataset.token = String(token)), () => (document.body.dataset.token = 'refused'))
        </script><body></body>`
      await page.route(`${url}/pinned-token.html`, (route) => route.fulfill({ contentType: 'text/html', body }))
      const tokensRequest = page.waitForRequest((request) => request.url().endsWith(info.tokens.path), { timeout: 15_000 })
      await page.goto(`${url}/pinned-token.html`)
      await tokensRequest
      // Anonymous: the loaded module answers null; a module that fails its pin is never run.
      await expect.poll(() => page.evaluate(() => document.body.dataset.token ?? ''), { timeout: 15_000 }).toBe(expected)
      await page.close()
    }
  })
})

