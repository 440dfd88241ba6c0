import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleScript, REDIS_URL, runUntilExit, SERVER_SRC as serverSrc, uniqueChannel } from './redis-channel-helpers.js'

// "No open handles" is only proven by a process that exits on its own: the
// script below opens channels (one of them against a port where nothing
// listens, so it is busy reconnecting), uses them, closes them and then
// simply returns. If a socket or timer were left behind, it would hang.


const script = `
import { RedisAuthChannel } from ${JSON.stringify(join(serverSrc, 'lib/channel/redis-channel.ts'))}

const logger = { info() {}, warn() {}, error(obj: object, msg?: string) { console.error(msg, JSON.stringify(obj)) } }
const { REDIS_URL: url, DEAD_URL: deadUrl, CHANNEL: channel } = process.env

async function main(): Promise<void> {
  const early = new RedisAuthChannel({ routing: 'broadcast', url, channel, logger })
  await early.close() // closed while still connecting

  const a = new RedisAuthChannel({ url, channel, workerId: 'a', logger })
  const b = new RedisAuthChannel({ url, channel, workerId: 'b', logger, healthCheckMs: 20 })
  const dead = new RedisAuthChannel({ routing: 'broadcast', url: deadUrl, channel, logger, retry: { initialMs: 10, maxMs: 40 } })
  await Promise.all([a.ready(), b.ready()])
  // Per-user routing: B holds sockets of u1 (its subscription hint comes first).
  const received = new Promise((resolve) => b.subscribe((event) => event.origin === 'a' && resolve(event)))
  b.watchUser('u1')
  b.watchUser('u2')
  b.unwatchUser('u2')
  await new Promise((resolve) => b.subscribe((event) => event.userId === 'u1' && resolve(event)))
  await a.publish({ type: 'claims-changed', userId: 'u1', version: 1 })
  await received
  await dead.publish({ type: 'claims-changed', userId: 'u1', version: 1 })
  await new Promise((resolve) => setTimeout(resolve, 150)) // dead reconnects a few times; b pings
  const deadReady = dead.ready().then(() => 'ready', (err) => err.code)
  await Promise.all([a.close(), b.close(), dead.close()])
  await new Promise((resolve) => setTimeout(resolve, 5)) // let zero-delay timers run
  const left = process.getActiveResourcesInfo().filter((name) => /Timeout|Immediate|TCP/.test(name))
  console.log(JSON.stringify({ closed: true, deadReady: await deadReady, dropped: dead.stats().dropped, left }))
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
`

let dir: string
let bundle: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wire-auth-redis-close-'))
  bundle = join(dir, 'close-script.cjs')
  await bundleScript(script, bundle)
})
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('RedisAuthChannel.close()', () => {
  it('leaves no open handles: a process that closed its channels exits by itself', async () => {
    const deadPort = await unusedPort()
    const { code, killed, stdout, stderr } = await runUntilExit(bundle, {
      REDIS_URL,
      DEAD_URL: `redis://127.0.0.1:${deadPort}`,
      CHANNEL: uniqueChannel('close'),
    })

    expect(killed, `the process did not exit on its own; stderr:\n${stderr}`).toBe(false)
    expect(code, stderr).toBe(0)
    // No timer or socket is left once close() resolved (a timer ioredis arms
    // on an already closed socket used to hold the process for 2 s).
    expect(JSON.parse(stdout.trim())).toEqual({ closed: true, deadReady: 'ERR_CHANNEL_UNAVAILABLE', dropped: 1, left: [] })
  })
})

function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}
