// Small statistics helpers shared by the scenarios.

/** The q-quantile (0..1) of an ascending-sorted array (nearest rank). */
export function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil(q * sorted.length) - 1
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]
}

/** p50 / p90 / p99 / max / mean of a list of numbers. */
export function summarize(values) {
  const sorted = Float64Array.from(values).sort()
  let sum = 0
  for (const v of sorted) sum += v
  return {
    n: sorted.length,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  }
}

/** Epoch milliseconds with sub-millisecond resolution, comparable between processes of one machine. */
export function now() {
  return performance.timeOrigin + performance.now()
}

/**
 * Runs `fn` (sync or async) repeatedly for about `ms` (and at most `maxOps`),
 * after `warmupMs` of warm-up, and returns operations per second.
 * `fn` gets the iteration number. Loops are bounded in count and time.
 */
export async function opsPerSecond(fn, { ms = 2000, warmupMs = 300, maxOps = 50_000_000, chunk = 256 } = {}) {
  const run = async (budgetMs, limit) => {
    let ops = 0
    const start = performance.now()
    const deadline = start + budgetMs
    while (ops < limit) {
      for (let i = 0; i < chunk; i++) {
        const r = fn(ops + i)
        if (r !== undefined && typeof r.then === 'function') await r
      }
      ops += chunk
      if (performance.now() >= deadline) break
    }
    return { ops, elapsed: performance.now() - start }
  }
  await run(warmupMs, maxOps)
  const { ops, elapsed } = await run(ms, maxOps)
  return (ops / elapsed) * 1000
}

/** Formats a number for tables: 3 significant digits under 1000, thousands separators above. */
export function fmt(value, digits = 3) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US')
  if (abs === 0) return '0'
  return Number(value.toPrecision(digits)).toString()
}
