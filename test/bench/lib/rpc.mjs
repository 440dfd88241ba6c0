// Parent/child plumbing: children are long-lived Node processes driven by
// request/response messages over the IPC channel.
import { fork } from 'node:child_process'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Starts `script` (a path or file URL) as a child with an IPC channel.
 * `call(cmd, arg)` sends a request and resolves with the child's answer.
 * The child inherits the fd limit of this process (raised by the runner).
 */
export function startChild(script, { args = [], env = {}, execArgv = [], name = 'child' } = {}) {
  const path = script instanceof URL ? fileURLToPath(script) : script
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of every child (see profile-summary.mjs).
  // BENCH_NODE_FLAGS="--trace-gc …": extra V8/Node flags for every child (diagnostics).
  if (process.env.BENCH_NODE_FLAGS) execArgv = [...execArgv, ...process.env.BENCH_NODE_FLAGS.split(' ').filter(Boolean)]
  // One directory per child and Node's default file names (…pid.tid.seq…): a worker thread (the SQLite
  // checkpointer) writes its own profile instead of overwriting the main thread's under a shared --cpu-prof-name.
  if (process.env.BENCH_CPU_PROF) execArgv = [...execArgv, '--cpu-prof', `--cpu-prof-dir=${join(process.env.BENCH_CPU_PROF, `${name.replace(/[^\w.-]+/g, '_')}-${Date.now()}`)}`]
  const child = fork(path, args, {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  })
  let next = 1
  const pending = new Map()
  let exitError = null
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exitError = new Error(`${name} exited (${signal ?? code})`)
      for (const { reject, timer } of pending.values()) {
        clearTimeout(timer)
        reject(exitError)
      }
      pending.clear()
      resolve({ code, signal })
    })
  })
  child.on('message', (message) => {
    const entry = pending.get(message?.id)
    if (entry === undefined) return
    pending.delete(message.id)
    clearTimeout(entry.timer)
    if (message.ok) entry.resolve(message.result)
    else entry.reject(new Error(`${name} ${entry.cmd}: ${message.error}`))
  })
  return {
    name,
    process: child,
    exited,
    call(cmd, arg, timeoutMs = 120_000) {
      if (exitError !== null) return Promise.reject(exitError)
      const id = next++
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id)
          reject(new Error(`${name} ${cmd}: no answer within ${timeoutMs} ms`))
        }, timeoutMs)
        pending.set(id, { resolve, reject, timer, cmd })
        child.send({ id, cmd, arg })
      })
    },
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return
      try {
        await this.call('exit', null, graceMs)
      } catch {
        // no answer: killed below
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
  }
}

/** In a child: answers requests with `handlers[cmd](arg)`; exits with its parent. */
export function serveRequests(handlers) {
  process.on('disconnect', () => process.exit(0))
  process.on('message', async (message) => {
    const { id, cmd, arg } = message ?? {}
    if (cmd === 'exit') {
      try {
        await handlers.exit?.()
      } finally {
        process.send({ id, ok: true, result: null }, () => process.exit(0))
      }
      return
    }
    try {
      const handler = handlers[cmd]
      if (handler === undefined) throw new Error(`unknown command ${cmd}`)
      const result = await handler(arg)
      process.send({ id, ok: true, result })
    } catch (err) {
      process.send({ id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) })
    }
  })
}

/**
 * Offset of a child's clock against ours (child - ours), from the
 * round trip with the smallest delay among `samples` pings.
 */
export async function clockOffset(child, now, samples = 40) {
  let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 }
  for (let i = 0; i < samples; i++) {
    const sent = now()
    const theirs = await child.call('clock')
    const received = now()
    const rtt = received - sent
    if (rtt < best.rtt) best = { rtt, offset: theirs - (sent + received) / 2 }
  }
  return best
}

/**
 * The `eldStart` / `eldStop` commands of a server process: event-loop delay
 * (p50, p99, max in ms) between the two calls.
 */
export function loopDelayCommands() {
  let eld = null
  return {
    eldStart() {
      eld = monitorEventLoopDelay({ resolution: 1 })
      eld.enable()
      return true
    },
    eldStop() {
      eld?.disable()
      const out = eld ? { p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6 } : null
      eld = null
      return out
    },
  }
}
