// Measuring live fan-out across processes: align the clocks of servers and
// clients, wait until traffic settles, and time every change from its stamp
// on the server until the last of the user's sockets showed it.
import { clockOffset } from './rpc.mjs'
import { now } from './stats.mjs'

/** Sets `offset` (child clock − ours) on every child in `list`. */
export async function align(list) {
  for (const c of list) c.offset = (await clockOffset(c, now)).offset
}

/**
 * Times every change: from its stamp (orchestrator clock) until the last of
 * the user's sockets showed that version or a later one.
 */
export async function collect(workers, clients, userWorker, perUser) {
  const changes = []
  for (const w of workers) {
    for (const [user, version, t0] of await w.call('takeStamps')) {
      if (version >= 0) changes.push({ user, version, t0: t0 - w.offset, issuer: w.index, holder: userWorker(user) })
    }
  }
  const socketsOf = new Map()
  let unparsed = 0
  for (const c of clients) {
    const { logs, unparsed: u } = await c.call('arrivals', null, 120_000)
    unparsed += u
    for (const [user, log] of logs) {
      for (let i = 1; i < log.length; i += 2) log[i] -= c.offset
      let list = socketsOf.get(user)
      if (list === undefined) socketsOf.set(user, (list = []))
      list.push(log)
    }
  }
  const complete = []
  for (const change of changes) {
    const logs = socketsOf.get(change.user) ?? []
    let last = -Infinity
    let first = Infinity
    let reached = 0
    for (const log of logs) {
      for (let i = 0; i < log.length; i += 2) {
        if (log[i] >= change.version) {
          reached++
          last = Math.max(last, log[i + 1])
          first = Math.min(first, log[i + 1])
          break
        }
      }
    }
    if (reached >= perUser) complete.push({ ...change, first, last })
  }
  return { changes: changes.length, complete, incomplete: changes.length - complete.length, unparsed }
}

/** Waits until the clients stopped receiving for 500 ms (at most 30 s): queued renders drain. */
export async function settle(clients) {
  let last = -1
  for (let i = 0; i < 60; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500))
    const total = (await Promise.all(clients.map((c) => c.call('received')))).reduce((a, b) => a + b, 0)
    if (total === last) return
    last = total
  }
}
