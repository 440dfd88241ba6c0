import { html } from '@wire-auth/core'
import { describe, expect, it } from 'vitest'
import { liveHarness } from './live-harness.js'
import { signedInUser } from './support/app.js'

// app.auth.refresh(): data a policy reads changed (not a claim, not a
// session): the mounted regions that depend on it re-evaluate live.

const live = liveHarness()

/** Document id → user ids that may read it; '*' = everyone, anonymous included. */
const readers = new Map<string, Set<string>>()

async function start() {
  const app = await live.start()
  readers.clear()
  app.authEngine.addPolicy('CanRead', (user, { params }) => {
    const allowed = typeof params.docId === 'string' ? readers.get(params.docId) : undefined
    return allowed !== undefined && (allowed.has('*') || allowed.has(user.userId ?? ''))
  })
  // The element adds the CanRead policy (params.docId) to the fragment's own guard.
  app.fragment('doc', { authenticated: true, load: ({ params }) => params.docId }, ({ data }) => html`<p>doc ${String(data)}</p>`)
  return app
}

const MOUNT = {
  t: 'mount',
  regions: [
    { id: 'a', kind: 'region', fragment: 'doc', policy: 'CanRead', params: { docId: 'a' } },
    { id: 'b', kind: 'region', fragment: 'doc', policy: 'CanRead', params: { docId: 'b' } },
    { id: 'news', kind: 'region', fragment: 'news' },
  ],
}

describe('app.auth.refresh', () => {
  it('re-evaluates only the regions matching fragment and params, and sends only what changed', async () => {
    const app = await start()
    const { user, cookie } = await signedInUser(app, 'ada@example.com', 'Ada')
    const client = await live.connect(cookie)
    client.send(MOUNT)
    const first = await client.render()
    expect(first.map((r) => [r.id, r.status])).toEqual([['a', 'denied'], ['b', 'denied'], ['news', 'allowed']])

    readers.set('a', new Set([user.id]))
    readers.set('b', new Set([user.id]))
    // Only document a is announced: b stays as it was, although its data changed too.
    await app.auth.refresh({ fragment: 'doc', params: { docId: 'a' } })
    expect(await client.render()).toEqual([{ id: 'a', status: 'allowed', html: '<p>doc a</p>' }])

    // A refresh that changes nothing sends nothing; the next one that does is the next render.
    await app.auth.refresh({ fragment: 'news' })
    await app.auth.refresh({ policy: 'CanRead', params: { docId: 'b' } })
    expect(await client.render()).toEqual([{ id: 'b', status: 'allowed', html: '<p>doc b</p>' }])

    readers.set('a', new Set())
    await app.auth.refresh({ fragment: 'doc' })
    expect(await client.render()).toEqual([{ id: 'a', status: 'denied', html: '', code: 'ERR_DENIED' }])
    expect(client.unread().filter((m) => m.t === 'render')).toEqual([])
  })

  it('userId limits it to that user\'s sockets; without it every socket re-evaluates', async () => {
    const app = await start()
    const ada = await signedInUser(app, 'ada@example.com', 'Ada')
    const bob = await signedInUser(app, 'bob@example.com', 'Bob')
    const adaSocket = await live.mounted(ada.cookie, MOUNT)
    const bobSocket = await live.mounted(bob.cookie, MOUNT)
    readers.set('a', new Set(['*']))
    await app.auth.refresh({ userId: bob.user.id })
    expect((await bobSocket.render()).map((r) => r.id)).toEqual(['a'])
    await app.auth.refresh()
    expect((await adaSocket.render()).map((r) => r.id)).toEqual(['a'])
    expect(bobSocket.unread().filter((m) => m.t === 'render')).toEqual([])
  })

  it('refuses a malformed filter with ERR_VALIDATION', async () => {
    const app = await start()
    for (const filter of [{ fragment: '' }, { params: [] }, { userId: '*' }, { unknown: 1 }, { params: { big: 'x'.repeat(5000) } }, { policy: 7 }]) {
      await expect(app.auth.refresh(filter as never), JSON.stringify(filter).slice(0, 40)).rejects.toMatchObject({ code: 'ERR_VALIDATION' })
    }
  })
})
