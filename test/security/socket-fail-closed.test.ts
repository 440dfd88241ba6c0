// Checklist 25 on the live socket: when the store fails while a socket's
// principal is re-read, the socket must not keep showing what it showed —
// guards deny, never allow. Its regions are withdrawn (denied,
// ERR_STORE_UNAVAILABLE), the socket stays open, and everything comes back
// at the next successful re-check (an event of its user, or the sweep).
// The store is the real SQLite file, made unavailable the way the store's
// fault tests do it: its directory is renamed away, then back.
import { mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { liveHarness, MOUNT, ResyncChannel } from '../../packages/server/test/live-harness.js'
import { sessionCookie, tempDir } from '../../packages/server/test/support/app.js'

const live = liveHarness()
let dir: ReturnType<typeof tempDir>
let data: string
let moved: string

beforeEach(() => {
  dir = tempDir('wire-auth-fail-closed-')
  data = join(dir.dir, 'data')
  moved = join(dir.dir, 'moved')
  mkdirSync(data)
})
afterEach(() => dir.cleanup())

const breakStore = () => renameSync(data, moved)
const repairStore = () => renameSync(moved, data)

async function start(pingIntervalMs = 60_000, channel = new ResyncChannel()) {
  const app = await live.start({ sqlitePath: join(data, 'auth.sqlite'), channel, live: { pingIntervalMs } })
  const user = await app.authStore.createUser({ email: 'ada@example.com', name: 'Ada', passwordHash: null })
  await app.auth.grantTo(user.id, 'role', 'beta')
  const cookie = sessionCookie(await app.inject({ method: 'POST', url: `/test/sign-in/${user.id}` }))!
  const socket = await live.connect(cookie)
  await socket.next('principal')
  socket.send(MOUNT)
  const first = await socket.render()
  expect(first.map((r) => `${r.id}:${r.status}`)).toEqual(['beta:allowed', 'news:allowed', 'acct:allowed'])
  return { app, user, cookie, socket, channel }
}

const withdrawn = (id: string) => ({ id, status: 'denied', html: '', code: 'ERR_STORE_UNAVAILABLE' })

describe('a socket whose principal cannot be re-read fails closed (checklist 25)', () => {
  it('withdraws every region on a resync during the outage, keeps the socket, and restores at the next event', async () => {
    const { app, user, socket, channel } = await start()
    breakStore()
    try {
      channel.resync()
      expect((await socket.next('error')).code).toBe('ERR_STORE_UNAVAILABLE')
      // Nothing the socket showed survives, the public region included: the server cannot vouch for any of it.
      expect(await socket.render()).toEqual([withdrawn('beta'), withdrawn('news'), withdrawn('acct')])
      // A region mounted meanwhile is not evaluated for the stale principal either.
      socket.send({ t: 'mount', regions: [{ id: 'late', kind: 'region', fragment: 'account' }, { id: 'g', kind: 'guard', fragment: 'account' }] })
      expect(await socket.render()).toEqual([withdrawn('late'), withdrawn('g')])
      // A second failed re-check sends nothing new (the regions are already withdrawn).
      channel.resync()
      expect((await socket.next('error')).code).toBe('ERR_STORE_UNAVAILABLE')
    } finally {
      repairStore()
    }
    expect(socket.ws.readyState).toBe(1)
    // The next event of the user re-reads the principal and restores every region.
    await app.auth.grantTo(user.id, 'role', 'extra')
    const restored = await socket.render()
    expect(restored.map((r) => `${r.id}:${r.status}`).sort()).toEqual(['acct:allowed', 'beta:allowed', 'g:allowed', 'late:allowed', 'news:allowed'])
    expect(socket.unread().filter((m) => m.t === 'render')).toEqual([])
  })

  it('the sweep finds the outage by itself and restores the regions once the store is back', async () => {
    // A cookie socket is re-checked at its first sweep (it learns its session's expiry there).
    const { socket } = await start(300)
    breakStore()
    try {
      expect((await socket.next('error')).code).toBe('ERR_STORE_UNAVAILABLE')
      expect(await socket.render()).toEqual([withdrawn('beta'), withdrawn('news'), withdrawn('acct')])
    } finally {
      repairStore()
    }
    expect((await socket.render()).map((r) => `${r.id}:${r.status}`)).toEqual(['beta:allowed', 'news:allowed', 'acct:allowed'])
    expect(socket.ws.readyState).toBe(1)
  })

  it('a session revoked during the outage stays revoked once the store is back: the socket signs out', async () => {
    const { app, user, socket, channel } = await start()
    breakStore()
    try {
      channel.resync()
      expect(await socket.render()).toEqual([withdrawn('beta'), withdrawn('news'), withdrawn('acct')])
    } finally {
      repairStore()
    }
    await app.auth.revokeAllSessions(user.id)
    expect((await socket.next('signed-out')).t).toBe('signed-out')
    const regions = await socket.render()
    expect(regions.find((r) => r.id === 'beta')).toMatchObject({ status: 'denied', code: 'ERR_UNAUTHENTICATED' })
    expect(regions.find((r) => r.id === 'news')).toMatchObject({ status: 'allowed' })
  })
})
