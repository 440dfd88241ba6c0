// Scenario 9: the HTTP fragment endpoint against the stacks users would
// build instead, doing the same work — cookie → session from SQLite → user →
// role check → ~1 KB escaped render — each in its own process, measured
// with autocannon in interleaved rounds, with the server's own CPU time per
// request (stable on a shared machine, unlike req/s):
//   wire-auth                GET /auth/fragments/card, defaults
//   Fastify session stack    @fastify/session + better-sqlite3-session-store + @fastify/passport,
//                            default (rolling: true) and tuned (rolling: false)
//   Express session stack    Express 5 + express-session + passport + better-sqlite3-session-store
//   Fastify hello world      the floor
// and the anonymous (denied) request of wire-auth and of the tuned Fastify stack.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { figure, report, sized } from '../lib/result.mjs'
import { startChild } from '../lib/rpc.mjs'

const lib = new URL('../lib/', import.meta.url)
const SECONDS = sized(4, 1)
const ROUNDS = sized(3, 1)
const CONNECTIONS = 16
const QUERY = `params=${encodeURIComponent('{"item":7}')}`

const dir = mkdtempSync(join(tmpdir(), 'wire-auth-bench-peers-http-'))
const servers = {}
try {
  servers.hello = startChild(new URL('server-worker.mjs', lib), { name: 'hello' })
  servers.wire = startChild(new URL('server-worker.mjs', lib), { name: 'wire-auth' })
  for (const stack of ['fastify-session', 'fastify-session-fixed', 'express-session']) servers[stack] = startChild(new URL('peer-worker.mjs', lib), { name: stack })

  const targets = {}
  const { port: helloPort } = await servers.hello.call('start', { mode: 'hello' })
  targets.hello = { url: `http://127.0.0.1:${helloPort}/`, headers: {} }
  const { port: wirePort } = await servers.wire.call('start', { mode: 'wire', sqlitePath: join(dir, 'wire.sqlite') })
  const [{ cookie: wireCookie }] = await servers.wire.call('seed', { count: 1, prefix: 'http' })
  targets.wire = { url: `http://127.0.0.1:${wirePort}/auth/fragments/card?${QUERY}`, headers: { cookie: wireCookie } }
  targets['wire anonymous'] = { url: targets.wire.url, headers: {}, server: 'wire', denied: true }
  for (const stack of ['fastify-session', 'fastify-session-fixed', 'express-session']) {
    const { port } = await servers[stack].call('start', { stack, sqlitePath: join(dir, `${stack}.sqlite`) })
    const [{ cookie }] = await servers[stack].call('seed', { count: 1, prefix: 'http', port })
    targets[stack] = { url: `http://127.0.0.1:${port}/card?item=7`, headers: { cookie } }
  }
  targets['fastify-session-fixed anonymous'] = { url: targets['fastify-session-fixed'].url, headers: {}, server: 'fastify-session-fixed', denied: true }

  // Every signed-in target must really answer the same card before anything is timed.
  for (const [name, t] of Object.entries(targets)) {
    const res = await fetch(t.url, { headers: t.headers })
    const body = await res.text()
    const ok = name === 'hello' ? res.status === 200 : t.denied ? res.status === 401 || res.status === 403 : res.status === 200 && body.includes('data-item="7"') && body.includes('&lt;This text is escaped &amp; so is &quot;this&quot;&gt;')
    if (!ok) throw new Error(`${name} answered ${res.status}: ${body.slice(0, 200)}`)
    t.bytes = Buffer.byteLength(body)
  }

  const run = async (name, duration) => {
    const t = targets[name]
    const server = servers[t.server ?? name]
    const before = await server.call('cpu')
    const r = await autocannon({ url: t.url, headers: t.headers, connections: CONNECTIONS, pipelining: 1, duration })
    const after = await server.call('cpu')
    if (r.errors > 0 || (!t.denied && r.non2xx > 0)) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`)
    return { rate: r.requests.average, p99: r.latency.p99, cpu: (after.user - before.user + after.system - before.system) / Math.max(1, r.requests.total) }
  }
  const names = Object.keys(targets)
  for (const name of names) await run(name, 1)
  const results = Object.fromEntries(names.map((n) => [n, []]))
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order every round so that no target always runs right after the same one.
    const order = names.map((_, i) => names[(i + round) % names.length])
    for (const name of order) results[name].push(await run(name, SECONDS))
  }
  const mean = (name, key) => results[name].reduce((sum, r) => sum + r[key], 0) / results[name].length
  const rate = (name) => mean(name, 'rate')
  const cpu = (name) => mean(name, 'cpu')
  const labels = {
    wire: 'wire-auth fragment endpoint (defaults)',
    'fastify-session': 'Fastify + @fastify/session + SQLite store + @fastify/passport (rolling: true, its default)',
    'fastify-session-fixed': 'the same Fastify stack, tuned (rolling: false: no session write per request)',
    'express-session': 'Express 5 + express-session + passport + SQLite store',
    hello: 'Fastify hello world',
  }
  const figures = []
  for (const name of ['wire', 'fastify-session', 'fastify-session-fixed', 'express-session', 'hello']) {
    figures.push(figure({ label: `${labels[name]}: req/s`, value: rate(name), unit: 'req/s', kind: 'rate', note: `server CPU ${cpu(name).toFixed(0)} µs per request; p99 ${mean(name, 'p99').toFixed(1)} ms; ${targets[name].bytes} B body` }))
  }
  figures.push(
    figure({
      label: 'wire-auth signed in vs the tuned Fastify session stack: req/s',
      value: rate('wire'),
      unit: 'req/s',
      kind: 'rate',
      peer: { label: 'tuned Fastify session stack, same run', value: rate('fastify-session-fixed') },
      goals: [{ on: 'ratio', op: '>=', target: 1.5, text: '≥ 1.5× the tuned Fastify stack' }],
    }),
  )
  figures.push(
    figure({
      label: 'wire-auth signed in: server CPU per request vs Fastify hello world',
      value: cpu('wire'),
      unit: 'µs',
      peer: { label: 'Fastify hello world CPU per request, same run', value: cpu('hello') },
      goals: [{ on: 'ratio', op: '<=', target: 3, text: '≤ 3× hello world' }],
    }),
  )
  figures.push(figure({ label: 'wire-auth signed in: server CPU per request vs the Express stack', value: cpu('wire'), unit: 'µs', peer: { label: 'Express session stack, same run', value: cpu('express-session') } }))
  figures.push(
    figure({
      label: 'anonymous (denied) request: wire-auth server CPU per request',
      value: cpu('wire anonymous'),
      unit: 'µs',
      peer: { label: "the tuned Fastify stack's 401, same run", value: cpu('fastify-session-fixed anonymous') },
      goals: [{ on: 'ratio', op: '<=', target: 1, text: 'no slower than the Fastify stack' }],
      note: `${rate('wire anonymous').toFixed(0)} vs ${rate('fastify-session-fixed anonymous').toFixed(0)} req/s`,
    }),
  )
  report({
    scenario: 'peers-http',
    title: '9. HTTP: wire-auth against the session stacks users would build instead',
    figures,
    notes: [
      `autocannon: ${CONNECTIONS} connections, no pipelining; every target ${ROUNDS} × ${SECONDS} s in rotating order (after 1 s warm-up each); figures are means. Each server is its own process; CPU per request is the server's own user+system time over the requests it answered.`,
      'Every stack reads its session from a SQLite file (WAL) and its user row from SQLite on each request, checks role=member and renders the same ~1 KB card with the same escaped prose. The peers are built as their READMEs show (passport session deserialisation, express-session with resave: false and saveUninitialized: false).',
    ],
  })
} finally {
  await Promise.allSettled(Object.values(servers).map((s) => s.stop()))
  rmSync(dir, { recursive: true, force: true })
}
