// The MongoDB server of the benches: BENCH_MONGODB_URL when set (a real
// mongod, say), else a FerretDB 1.24 (SQLite backend) started for the
// scenario by scripts/ferretdb.mjs — on this machine, sharing its cores.
import { readFileSync } from 'node:fs'
import { startFerretDB } from '../../../scripts/ferretdb.mjs'

/**
 * @returns {Promise<{ url: (dbName: string) => string, label: string, cpuMs: () => number | null, stop: () => Promise<void> }>}
 *   `url(dbName)`: a connection string for that database; `cpuMs()`: the
 *   server's CPU time so far (FerretDB started here only, else null).
 */
export async function startBenchMongo() {
  const given = process.env.BENCH_MONGODB_URL
  if (given) {
    return {
      url: (dbName) => withDb(given, dbName),
      label: 'MongoDB at BENCH_MONGODB_URL',
      cpuMs: () => null,
      stop: async () => undefined,
    }
  }
  const server = await startFerretDB({ log: (line) => console.error(line) })
  return {
    url: (dbName) => withDb(server.url, dbName),
    label: 'FerretDB 1.24.2 (SQLite backend), same machine',
    cpuMs: () => processCpuMs(server.pid),
    stop: () => server.stop(),
  }
}

function withDb(url, dbName) {
  const u = new URL(url)
  u.pathname = `/${dbName}`
  return u.href
}

/** User + system CPU of a process from /proc (Linux), ms; null elsewhere. */
export function processCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime are fields 14 and 15 of the whole line (11 and 12 after the name), in clock ticks (100 Hz on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return null
  }
}
