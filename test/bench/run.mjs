#!/usr/bin/env node
// Runs every benchmark scenario in sequence, each in its own process (the
// socket scenarios start further processes for servers and clients),
// prints one table and writes docs/benchmarks.md. `npm run bench -- --help`
// prints the usage below and runs nothing.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fmt } from './lib/stats.mjs'

const root = fileURLToPath(new URL('../..', import.meta.url))
const QUICK = process.env.BENCH_QUICK === '1'
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim())) : null

/** In run order; limitS bounds each scenario's process (it is killed after that). */
const SCENARIOS = [
  { id: 'bundle', file: 'bundle.mjs', limitS: 30 },
  { id: 'policy', file: 'policy.mjs', limitS: 60 },
  { id: 'tokens', file: 'tokens.mjs', limitS: 60 },
  { id: 'passwords', file: 'passwords.mjs', limitS: 90 },
  { id: 'http', file: 'http-fragment.mjs', limitS: 120 },
  { id: 'batch', file: 'batch-render.mjs', limitS: 150 },
  { id: 'held', file: 'sockets-held.mjs', limitS: 150 },
  { id: 'fanout', file: 'fanout.mjs', limitS: 720 },
  { id: 'peers-http', file: 'peers-http.mjs', limitS: 180 },
  { id: 'peers-live', file: 'peers-live.mjs', limitS: 360 },
  { id: 'channel', file: 'channel-scale.mjs', limitS: 300 },
  { id: 'pages', file: 'pages.mjs', limitS: 90 },
]
const SCENARIO_IDS = SCENARIOS.map((s) => s.id).join(', ')
const USAGE = `Usage: npm run bench [-- --help]

Runs every scenario in test/bench/scenarios, each in its own process, prints one
table and writes docs/benchmarks.md (a subset or a quick run writes to the temp
dir instead).

Environment:
  BENCH_QUICK=1                 smoke run with small counts
  BENCH_ONLY=id,id              a subset: ${SCENARIO_IDS}
  BENCH_CPU_PROF=DIR            V8 CPU profiles of every server process, one file per
                                thread (read them with test/bench/profile-summary.mjs)
  BENCH_DRIVE_PROF=DIR          fan-out: CPU profiles of each drive phase only
  BENCH_HEAP_SAMPLING=1         with a drive profile: allocation samples beside it
  BENCH_NODE_FLAGS="..."        extra Node/V8 flags for every server process
  BENCH_FANOUT_PARTS=B          fan-out: stop after parts B and B'
  BENCH_FANOUT_DUMP=FILE        fan-out: every timed change as JSON
  BENCH_SQLITE_DIR=DIR          where the fan-out's SQLite file lives
  BENCH_NO_BUILD=1              skip the build that runs first`

const args = process.argv.slice(2)
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE)
  process.exit(0)
}
if (args.length > 0) {
  console.error(`bench: unknown argument ${args[0]}\n\n${USAGE}`)
  process.exit(2)
}
const unknown = ONLY ? [...ONLY].filter((id) => !SCENARIOS.some((s) => s.id === id)) : []
if (unknown.length > 0) {
  console.error(`bench: BENCH_ONLY names no scenario ${unknown.join(', ')} (scenarios: ${SCENARIO_IDS})`)
  process.exit(2)
}

// Raise the soft open-files limit to the hard one (capped at 200,000) for the
// scenario and every process it starts; more needs CAP_SYS_RESOURCE.
const RAISE_FD_LIMIT = 'h=$(ulimit -Hn); if [ "$h" = unlimited ] || [ "$h" -gt 200000 ]; then h=200000; fi; ulimit -n "$h"; exec "$0" "$@"'

function runScenario(scenario, outFile) {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn('bash', ['-c', RAISE_FD_LIMIT, process.execPath, join(root, 'test/bench/scenarios', scenario.file)], {
      cwd: root,
      env: { ...process.env, BENCH_OUT: outFile },
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    })
    const timer = setTimeout(() => {
      console.error(`bench: ${scenario.id} exceeded ${scenario.limitS} s, killing it`)
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }, scenario.limitS * 1000)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      // The scenario's own children die with their parent (IPC disconnect); make sure.
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // group already gone
      }
      resolve({ code, signal, seconds: (Date.now() - started) / 1000 })
    })
  })
}

function machine() {
  const cpus = os.cpus()
  const models = [...new Set(cpus.map((c) => `${c.model.trim()}${c.speed ? ` @ ${c.speed} MHz` : ''}`))]
  return {
    cpus: `${cpus.length} × ${models.join(', ')}`,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB total, ${(os.freemem() / 1024 ** 3).toFixed(1)} GiB free at start`,
    node: process.version,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    load: os.loadavg().map((l) => l.toFixed(2)).join(' / '),
  }
}

function valueText(value, unit) {
  if (value === null || value === undefined || Number.isNaN(value)) return 'n/a'
  return `${fmt(value)} ${unit}`
}

function goalText(f) {
  return f.goals.map((g) => g.text).join('; ') || ''
}

function metText(f) {
  if (f.goals.length === 0) return ''
  if (f.goals.some((g) => g.met === null)) return f.goals.every((g) => g.met !== false) ? 'not measurable here' : 'MISSED'
  return f.goals.every((g) => g.met) ? 'met' : 'MISSED'
}

function rows(results) {
  const out = []
  for (const r of results) {
    if (r.error) {
      out.push({ scenario: r.id, label: `FAILED: ${r.error}`, value: '', peer: '', ratio: '', goal: '', met: '' })
      continue
    }
    for (const f of r.figures) {
      out.push({
        scenario: r.id,
        label: f.label,
        value: valueText(f.value, f.unit),
        peer: f.peer ? `${valueText(f.peer.value, f.unit)} (${f.peer.label})` : '',
        ratio: f.ratio === null ? '' : `${f.ratio.toFixed(2)}×`,
        goal: goalText(f),
        met: metText(f),
        note: f.note ?? '',
      })
    }
  }
  return out
}

function printTable(list) {
  const cols = [
    ['scenario', 'scenario'],
    ['label', 'figure'],
    ['value', 'value'],
    ['ratio', 'vs peer'],
    ['goal', 'goal'],
    ['met', 'met'],
  ]
  const width = cols.map(([key, title]) => Math.min(key === 'label' ? 70 : 40, Math.max(title.length, ...list.map((r) => String(r[key]).length))))
  const cut = (s, w) => (s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w))
  console.log(cols.map(([, title], i) => cut(title, width[i])).join('  '))
  console.log(width.map((w) => '-'.repeat(w)).join('  '))
  for (const r of list) console.log(cols.map(([key], i) => cut(String(r[key]), width[i])).join('  '))
}

const md = (s) => String(s).replace(/\|/g, '\\|')

function markdown(results, info) {
  const lines = []
  lines.push('# Benchmarks', '')
  lines.push(`Generated by \`${info.command}\` on ${info.date} (total ${info.totalSeconds.toFixed(0)} s${QUICK ? ', BENCH_QUICK=1 smoke run' : ''}). Do not edit by hand: run the command again; the analysis of missed goals comes from \`test/bench/findings.md\`.`, '')
  lines.push('## Machine', '')
  lines.push(`- CPU: ${info.machine.cpus}`)
  lines.push(`- Memory: ${info.machine.memory}`)
  lines.push(`- Node.js ${info.machine.node} on ${info.machine.os}`)
  lines.push(`- Load average (1/5/15 min) at start: ${info.machine.load}; at end: ${info.loadEnd}. The machine was shared with other work, so absolute figures vary between runs; every ratio compares with a peer measured in the same run, moments apart.`)
  lines.push(`- Open-files limit of the benchmark processes: ${info.fdLimit}`)
  lines.push('')
  lines.push('## Goals', '')
  lines.push('| scenario | figure | value | peer (same run) | ratio | goal | met |', '|---|---|---|---|---|---|---|')
  for (const r of rows(results).filter((x) => x.goal !== '' || x.label.startsWith('FAILED'))) {
    lines.push(`| ${md(r.scenario)} | ${md(r.label)} | ${md(r.value)} | ${md(r.peer)} | ${md(r.ratio)} | ${md(r.goal)} | ${md(r.met === 'MISSED' ? '**missed**' : r.met)} |`)
  }
  lines.push('')
  for (const r of results) {
    lines.push(`## ${r.title ?? r.id}`, '')
    lines.push(`Scenario \`test/bench/scenarios/${r.file}\`, ${r.seconds.toFixed(0)} s.`, '')
    if (r.error) {
      lines.push(`**Failed:** ${md(r.error)}`, '')
      continue
    }
    lines.push('| figure | value | peer (same run) | ratio | goal | met | note |', '|---|---|---|---|---|---|---|')
    for (const x of rows([r])) lines.push(`| ${md(x.label)} | ${md(x.value)} | ${md(x.peer)} | ${md(x.ratio)} | ${md(x.goal)} | ${md(x.met === 'MISSED' ? '**missed**' : x.met)} | ${md(x.note)} |`)
    lines.push('')
    for (const note of r.notes ?? []) lines.push(`- ${note}`)
    lines.push('')
  }
  try {
    lines.push(readFileSync(join(root, 'test/bench/findings.md'), 'utf8').trim(), '')
  } catch {
    // no findings written yet
  }
  return lines.join('\n')
}

const fdLimit = await new Promise((resolve) => {
  const c = spawn('bash', ['-c', `${RAISE_FD_LIMIT.replace('exec "$0" "$@"', 'echo "soft $(ulimit -n), hard $(ulimit -Hn)"')}`], { stdio: ['ignore', 'pipe', 'ignore'] })
  let text = ''
  c.stdout.on('data', (d) => (text += d))
  c.on('exit', () => resolve(text.trim()))
})
const info = { machine: machine(), date: new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'), fdLimit, command: `${QUICK ? 'BENCH_QUICK=1 ' : ''}${ONLY ? `BENCH_ONLY=${[...ONLY].join(',')} ` : ''}npm run bench` }
console.log(`bench: ${info.machine.cpus}; ${info.machine.memory}; Node ${info.machine.node}; load ${info.machine.load}; open files ${fdLimit}${QUICK ? ' (quick run)' : ''}`)

// Build first (after the arguments were checked, so that --help runs nothing).
if (process.env.BENCH_NO_BUILD !== '1') {
  const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' })
  if (build.status !== 0) process.exit(build.status ?? 1)
}

const tmp = mkdtempSync(join(os.tmpdir(), 'wire-auth-bench-run-'))
const results = []
const started = Date.now()
for (const scenario of SCENARIOS) {
  if (ONLY && !ONLY.has(scenario.id)) continue
  console.log(`\nbench: ${scenario.id} …`)
  const out = join(tmp, `${scenario.id}.json`)
  const { code, signal, seconds } = await runScenario(scenario, out)
  let result
  try {
    result = JSON.parse(readFileSync(out, 'utf8'))
  } catch {
    result = { error: signal ? `killed (${signal}) after ${seconds.toFixed(0)} s` : `exited with ${code} and no result` }
  }
  results.push({ id: scenario.id, file: scenario.file, seconds, ...result })
  console.log(`bench: ${scenario.id} done in ${seconds.toFixed(0)} s${result.error ? ` (${result.error})` : ''}`)
}
info.totalSeconds = (Date.now() - started) / 1000
// Report in the issue's order (titles start with the goal number), whatever the run order was.
const order = (r) => Number(/^(\d+)\./.exec(r.title ?? '')?.[1] ?? 99)
results.sort((a, b) => order(a) - order(b))
info.loadEnd = os.loadavg().map((l) => l.toFixed(2)).join(' / ')
rmSync(tmp, { recursive: true, force: true })

console.log('')
printTable(rows(results))
const text = markdown(results, info)
const target = QUICK || ONLY ? join(os.tmpdir(), 'wire-auth-benchmarks.md') : join(root, 'docs/benchmarks.md')
writeFileSync(target, text)
console.log(`\nbench: ${results.length} scenarios in ${info.totalSeconds.toFixed(0)} s; wrote ${target}`)
if (results.some((r) => r.error)) process.exitCode = 1
