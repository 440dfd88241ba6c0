#!/usr/bin/env node
// Summarises V8 CPU profiles written with BENCH_CPU_PROF=<dir>: self time
// per function and per file (node_modules package or project file).
// Usage: node test/bench/profile-summary.mjs <file.cpuprofile> [top=30]
import { readFileSync } from 'node:fs'

const [file, topArg] = process.argv.slice(2)
if (!file) {
  console.error('usage: node test/bench/profile-summary.mjs <file.cpuprofile> [top]')
  process.exit(2)
}
const top = Number(topArg ?? 30)
const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map()
const dt = profile.timeDeltas
for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0))
const total = [...self.values()].reduce((a, b) => a + b, 0)

function where(url) {
  if (!url) return '(native)'
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/')
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
  }
  const pk = url.indexOf('/packages/')
  if (pk >= 0) return url.slice(pk + 1)
  if (url.startsWith('node:')) return url
  return url.replace(/^file:\/\//, '')
}

const fns = new Map()
const files = new Map()
for (const [id, us] of self) {
  const node = byId.get(id)
  const { functionName, url, lineNumber } = node.callFrame
  const key = `${functionName || '(anonymous)'} ${where(url)}:${lineNumber + 1}`
  fns.set(key, (fns.get(key) ?? 0) + us)
  const f = where(url)
  files.set(f, (files.get(f) ?? 0) + us)
}
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`
console.log(`total sampled ${(total / 1000).toFixed(0)} ms`)
console.log('\n-- self time by file / package')
for (const [k, v] of [...files].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(v), k)
console.log('\n-- self time by function')
for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(v), k)
