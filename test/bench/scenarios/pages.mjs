// Scenario 12: a page served by wire-auth (processed once with parse5's
// rewriter, in-place regions cut out, kept in memory) against the same file
// served by @fastify/static, both measured with autocannon in this run. Each
// server runs in its own process; autocannon runs here. The page is the
// demo's home page (demo/public/index.html: regions named and written in place).
import { spawn } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { figure, report, sized } from '../lib/result.mjs'

const SECONDS = sized(5, 1)
const ROUNDS = sized(2, 1)
const CONNECTIONS = 16
const server = fileURLToPath(new URL('../lib/page-server.mjs', import.meta.url))
const demo = fileURLToPath(new URL('../../../demo/public/', import.meta.url))

function start(mode, dir) {
  const child = spawn(process.execPath, [server, mode, dir], { stdio: ['pipe', 'pipe', 'inherit'] })
  const port = new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line).port))
    child.once('exit', (code) => reject(new Error(`${mode} server exited (${code})`)))
  })
  return { child, port, stop: () => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', resolve), child.stdin.end()))) }
}

const dir = mkdtempSync(join(tmpdir(), 'wire-auth-bench-pages-'))
copyFileSync(join(demo, 'index.html'), join(dir, 'index.html'))
copyFileSync(join(demo, 'admin.html'), join(dir, 'admin.html'))
const peer = start('static', dir)
const wire = start('page', dir)
try {
  const targets = {
    static: { url: `http://127.0.0.1:${await peer.port}/index.html`, headers: {} },
    page: { url: `http://127.0.0.1:${await wire.port}/index.html`, headers: {} },
  }
  const signIn = await fetch(`http://127.0.0.1:${await wire.port}/bench/sign-in`, { method: 'POST' })
  const cookie = signIn.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ')
  targets.guarded = { url: `http://127.0.0.1:${await wire.port}/admin.html`, headers: { cookie } }

  // Both must really answer before anything is timed; the processed page holds none of the in-place markup.
  const raw = await (await fetch(targets.static.url)).text()
  const processed = await (await fetch(targets.page.url)).text()
  if (!raw.includes('beta-inplace') || processed.includes('beta-inplace') || !processed.includes('fragment="page.')) throw new Error('the pages are not what this scenario measures')
  const guarded = await fetch(targets.guarded.url, { headers: targets.guarded.headers, redirect: 'manual' })
  if (guarded.status !== 200) throw new Error(`the guarded page answered ${guarded.status}`)

  const run = (name, duration) => autocannon({ url: targets[name].url, headers: targets[name].headers, connections: CONNECTIONS, pipelining: 1, duration })
  await run('static', 1)
  await run('page', 1)
  const results = { static: [], page: [] }
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 === 0 ? ['static', 'page'] : ['page', 'static']) {
      const r = await run(name, SECONDS)
      if (r.non2xx > 0 || r.errors > 0) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`)
      results[name].push(r)
    }
  }
  await run('guarded', 1)
  const guardedRun = await run('guarded', SECONDS)
  if (guardedRun.non2xx > 0 || guardedRun.errors > 0) throw new Error(`guarded: ${guardedRun.non2xx} non-2xx`)
  const mean = (list, pick) => list.reduce((sum, r) => sum + pick(r), 0) / list.length
  const staticRate = mean(results.static, (r) => r.requests.average)
  const pageRate = mean(results.page, (r) => r.requests.average)
  const lat = (list, key) => mean(list, (r) => r.latency[key])

  report({
    scenario: 'pages',
    title: '12. A page served by wire-auth vs the same file by @fastify/static (autocannon)',
    figures: [
      figure({ label: `@fastify/static, index.html as on disk (${Buffer.byteLength(raw)} B), req/s`, value: staticRate, unit: 'req/s', kind: 'rate', note: `latency p50 ${lat(results.static, 'p50')} ms, p99 ${lat(results.static, 'p99')} ms` }),
      figure({
        label: `app.page(), the processed index.html (${Buffer.byteLength(processed)} B, ${(processed.match(/fragment="page\./g) ?? []).length} in-place regions cut out), req/s`,
        value: pageRate,
        unit: 'req/s',
        kind: 'rate',
        peer: { label: '@fastify/static, same file, same run', value: staticRate },
        goals: [{ on: 'ratio', op: '>=', target: 0.8, text: '≥ 0.8× @fastify/static' }],
        note: `latency p50 ${lat(results.page, 'p50')} ms, p99 ${lat(results.page, 'p99')} ms`,
      }),
      figure({
        label: 'diagnostic: admin.html with its page guard (cookie → session → AdminOnly) for an admin, req/s',
        value: guardedRun.requests.average,
        unit: 'req/s',
        kind: 'rate',
        peer: { label: '@fastify/static, same run', value: staticRate },
        note: `latency p50 ${guardedRun.latency.p50} ms, p99 ${guardedRun.latency.p99} ms`,
      }),
    ],
    notes: [
      `autocannon: ${CONNECTIONS} connections, no pipelining, ${ROUNDS} × ${SECONDS} s per target alternating (after 1 s warm-up each); the figure is the mean.`,
      "wire-auth is registered with `connectAuth` (embedded: its headers and CORS cover its own routes, so the page carries the host's — here none, like the static peer), reads the session cookie on every request, and runs with `pages.watch: false` (production): each page was read and processed once at boot. @fastify/static stats and streams the file on every request (with ETag / Last-Modified).",
    ],
  })
} finally {
  await Promise.allSettled([peer.stop(), wire.stop()])
  rmSync(dir, { recursive: true, force: true })
}
