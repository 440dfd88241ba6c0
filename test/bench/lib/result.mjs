// What a scenario reports: figures with their unit, optional peer measured
// in the same run, goals (on the value or on the ratio to the peer) and
// whether they were met. The runner collects these into the table and
// docs/benchmarks.md.
import { writeFileSync } from 'node:fs'

/** True when BENCH_QUICK=1 (a fast smoke run with small counts). */
export const QUICK = process.env.BENCH_QUICK === '1'

/** Picks the full-run or the quick-run value. */
export function sized(full, quick) {
  return QUICK ? quick : full
}

function check(op, actual, target) {
  if (typeof actual !== 'number' || !Number.isFinite(actual)) return false
  return op === '<=' ? actual <= target : actual >= target
}

/**
 * One reported number.
 * @param {object} f
 * @param {string} f.label what was measured
 * @param {number} f.value
 * @param {string} f.unit
 * @param {{ label: string, value: number }} [f.peer] the same quantity of the peer, same run
 * @param {'time' | 'rate'} [f.kind] how the ratio reads: for a time, value / peer (lower is better);
 *   for a rate, value / peer (higher is better). Default 'time'.
 * @param {{ on?: 'value' | 'ratio', op: '<=' | '>=', target: number, text: string }[]} [f.goals]
 * @param {string} [f.note]
 */
export function figure(f) {
  const ratio = f.peer && typeof f.peer.value === 'number' && f.peer.value !== 0 ? f.value / f.peer.value : null
  const goals = (f.goals ?? []).map((g) => {
    const on = g.on ?? 'value'
    const actual = on === 'ratio' ? ratio : f.value
    return { ...g, on, met: g.unmeasurable ? null : check(g.op, actual, g.target) }
  })
  return { label: f.label, value: f.value, unit: f.unit, peer: f.peer ?? null, ratio, kind: f.kind ?? 'time', goals, note: f.note ?? null }
}

/**
 * Writes a scenario's result where the runner expects it (BENCH_OUT), or
 * prints it when the scenario runs on its own.
 */
export function report(result) {
  const out = { quick: QUICK, ...result }
  if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, JSON.stringify(out, null, 2))
  else console.log(JSON.stringify(out, null, 2))
}
