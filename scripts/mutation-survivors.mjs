#!/usr/bin/env node
// Lists the surviving (and uncovered) mutants of a StrykerJS JSON report:
//   node scripts/mutation-survivors.mjs reports/mutation/core-html-ts.json
import { readFileSync } from 'node:fs'

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'))
for (const [file, entry] of Object.entries(report.files)) {
  const lines = entry.source.split('\n')
  for (const m of entry.mutants) {
    if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue
    const { line, column } = m.location.start
    const original = lines[line - 1].trim().slice(0, 110)
    console.log(`${file}:${line}:${column} ${m.status} ${m.mutatorName} → ${JSON.stringify(m.replacement ?? '').slice(0, 80)}\n    ${original}`)
  }
}
