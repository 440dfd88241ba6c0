// Checklist 29: the channel is not an authority. A message on it may make a
// worker re-read the store, never skip, grant or reorder what the store says.
// Against the real Redis of the machine (a unique channel per test, nothing
// flushed): an attacker with publish access forges events by hand with a
// plain ioredis client, then a real change must still reach every socket.
import { RedisAuthChannel } from '@wire-auth/server/redis'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { html } from '@wire-auth/core'
import { liveHarness } from '../../packages/server/test/live-harness.js'
import { memoryLogger, rawClient, REDIS_URL, uniqueChannel } from '../../packages/server/test/redis-channel-helpers.js'
import { sessionCookie } from '../../packages/server/test/support/app.js'

const live = liveHarness()
const raws: Redis[] = []
afterEach(async () => {
  await Promise.all(raws.splice(0).map((client) => client.quit().catch(() => undefined)))
})

async function start() {
  const name = uniqueChannel('authority')
  const channel = new RedisAuthChannel({ url: REDIS_URL, channel: name, workerId: 'worker-a', logger: memoryLogger().logger })
  const app = await live.start({ channel })
  app.authEngine.addPolicy('AdminOnly', { requiresClaim: ['role', 'admin'] })
  app.fragment('admin-panel', { policy: 'AdminOnly' }, () => html`<p>admin console</p>`)
  await channel.ready()
  const user = await app.authStore.createUser({ email: 'admin@example.com', name: 'Admin', passwordHash: null })
  await app.auth.grantTo(user.id, 'role', 'admin')
  const cookie = sessionCookie(await app.inject({ method: 'POST', url: `/test/sign-in/${user.id}` }))!
  const socket = await live.connect(cookie)
  await socket.next('principal')
  socket.send({ t: 'mount', regions: [{ id: 'admin', fragment: 'admin-panel' }, { id: 'news', fragment: 'news' }] })
  expect(await socket.render()).toEqual([
    { id: 'admin', status: 'allowed', html: '<p>admin console</p>' },
    { id: 'news', status: 'allowed', html: '<p>news</p>' },
  ])
  const raw = rawClient()
  raws.push(raw)
  const forge = async (event: Record<string, unknown>) => {
    const before = channel.stats().received
    await raw.publish(name, JSON.stringify({ origin: 'attacker', ...event }))
    await vi.waitFor(() => expect(channel.stats().received).toBe(before + 1))
  }
  return { app, user, socket, channel, forge }
}

describe('checklist 29: a forged channel message never outranks the store', () => {
  it('a forged claims-changed with a huge version does not make the worker ignore a later real revocation', async () => {
    const { app, user, socket, forge } = await start()
    await forge({ type: 'claims-changed', userId: user.id, version: Number.MAX_SAFE_INTEGER })
    // The forged event only made the socket re-read the store: nothing changed, nothing was sent.
    socket.send({ t: 'mount', regions: [{ id: 'probe', fragment: 'news' }] })
    expect((await socket.render()).map((r) => r.id)).toEqual(['probe'])

    // The real revocation of the admin role (a lower, real version) must still reach the socket.
    await app.auth.revokeFrom(user.id, 'role', 'admin')
    const regions = await socket.render()
    expect(regions).toEqual([{ id: 'admin', status: 'denied', html: '', code: 'ERR_DENIED' }])
  })

  it('a forged event for the user grants nothing: the socket keeps what the store says', async () => {
    const { app, user, socket, forge } = await start()
    await app.auth.revokeFrom(user.id, 'role', 'admin')
    expect((await socket.render()).find((r) => r.id === 'admin')?.status).toBe('denied')
    // Replays of an older version, forged sessions and a bogus "all" revocation of another user.
    await forge({ type: 'claims-changed', userId: user.id, version: 1 })
    await forge({ type: 'sessions-revoked', userId: user.id, version: 0, sessionIds: ['forged'], all: false })
    await forge({ type: 'sessions-revoked', userId: 'someone-else', version: 0, all: true })
    socket.send({ t: 'mount', regions: [{ id: 'probe', fragment: 'admin-panel' }] })
    expect(await socket.render()).toEqual([{ id: 'probe', status: 'denied', html: '', code: 'ERR_DENIED' }])
    // And a later real grant still arrives after all of that.
    await app.auth.grantTo(user.id, 'role', 'admin')
    const regions = await socket.render()
    expect(regions.map((r) => `${r.id}:${r.status}`).sort()).toEqual(['admin:allowed', 'probe:allowed'])
  })
})
