// Issue 13 F8: one params parser and one rule for every transport. `params`
// reach policies, `load` and `render`; a `__proto__`, `constructor` or
// `prototype` key is refused with the same code whether it comes through
// POST /auth/fragments, GET /auth/fragments/:name or the live socket (it
// used to be refused only by POST's body parser, and only `__proto__`).
import { html } from '@wire-auth/core'
import { describe, expect, it } from 'vitest'
import { liveHarness } from '../../packages/server/test/live-harness.js'
import { signedInUser } from '../../packages/server/test/support/app.js'

const live = liveHarness()

const HOSTILE: Array<[string, string]> = [
  ['__proto__ at the top', '{"__proto__":{"isAdmin":true}}'],
  ['constructor.prototype', '{"constructor":{"prototype":{"isAdmin":true}}}'],
  ['a plain "prototype" key', '{"prototype":1}'],
  ['a plain "constructor" key', '{"constructor":"x"}'],
  ['__proto__ nested in an object', '{"doc":{"meta":{"__proto__":{"isAdmin":true}}}}'],
  ['__proto__ inside an array', '{"list":[{"__proto__":{"isAdmin":true}}]}'],
]

async function start() {
  const app = await live.start()
  const seen: unknown[] = []
  app.authEngine.addPolicy('SeesParams', (_user, { params }) => {
    seen.push(params)
    return true
  })
  app.fragment('echo', { policy: 'SeesParams' }, () => html`<p>echo</p>`)
  // Policies run for signed-in users: every transport below carries this session.
  const { cookie } = await signedInUser(app, 'ada@example.com', 'Ada')
  return { app, seen, cookie }
}

describe('the same rule and code for params on every transport', () => {
  for (const [label, params] of HOSTILE) {
    it(`${label}: POST, GET and the socket all answer ERR_PARAMS_INVALID and no policy sees it`, async () => {
      const { app, seen, cookie } = await start()
      const body = `{"regions":[{"id":"r","fragment":"echo","params":${params}}]}`
      const posted = await app.inject({ method: 'POST', url: '/auth/fragments', headers: { 'content-type': 'application/json', cookie }, payload: body })
      expect(posted.statusCode).toBe(400)
      expect(posted.json().error.code).toBe('ERR_PARAMS_INVALID')

      const got = await app.inject({ method: 'GET', url: `/auth/fragments/echo?params=${encodeURIComponent(params)}`, headers: { cookie } })
      expect(got.statusCode).toBe(400)
      expect(got.json().error.code).toBe('ERR_PARAMS_INVALID')

      const socket = await live.connect(cookie)
      await socket.next('principal')
      socket.send(`{"t":"mount","regions":[{"id":"r","fragment":"echo","params":${params}}]}`)
      expect(await socket.next('error')).toMatchObject({ code: 'ERR_PARAMS_INVALID', id: 'r' })
      socket.send({ t: 'mount', regions: [{ id: 'ok', fragment: 'echo', params: { docId: 'a' } }] })
      expect(await socket.render()).toEqual([{ id: 'ok', status: 'allowed', html: '<p>echo</p>' }])
      expect(seen).toEqual([{ docId: 'a' }])
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
    })
  }

  it('oversized params answer ERR_PARAMS_TOO_LARGE on every transport', async () => {
    const { app, cookie } = await start()
    const params = JSON.stringify({ pad: 'x'.repeat(5000) })
    const posted = await app.inject({ method: 'POST', url: '/auth/fragments', headers: { 'content-type': 'application/json', cookie }, payload: `{"regions":[{"id":"r","fragment":"echo","params":${params}}]}` })
    expect(posted.json().error.code).toBe('ERR_PARAMS_TOO_LARGE')
    const socket = await live.connect(cookie)
    await socket.next('principal')
    socket.send(`{"t":"mount","regions":[{"id":"r","fragment":"echo","params":${params}}]}`)
    expect(await socket.next('error')).toMatchObject({ code: 'ERR_PARAMS_TOO_LARGE', id: 'r' })
    // The query string is bounded by its schema first (8192 characters); a smaller oversized value reaches the rule.
    const got = await app.inject({ method: 'GET', url: `/auth/fragments/echo?params=${encodeURIComponent(JSON.stringify({ pad: 'é'.repeat(2100) }))}`, headers: { cookie } })
    expect(got.json().error.code).toBe('ERR_PARAMS_TOO_LARGE')
  })

  it('params reach policies frozen, as plain JSON data, on every transport', async () => {
    const { app, seen, cookie } = await start()
    await app.inject({ method: 'POST', url: '/auth/fragments', headers: { cookie }, payload: { regions: [{ id: 'r', fragment: 'echo', params: { a: { b: [1, 'x'] } } }] } })
    await app.inject({ method: 'GET', url: `/auth/fragments/echo?params=${encodeURIComponent('{"a":{"b":[1,"x"]}}')}`, headers: { cookie } })
    const socket = await live.connect(cookie)
    socket.send({ t: 'mount', regions: [{ id: 'r', fragment: 'echo', params: { a: { b: [1, 'x'] } } }] })
    await socket.render()
    expect(seen).toHaveLength(3)
    for (const params of seen) {
      expect(params).toEqual({ a: { b: [1, 'x'] } })
      expect(Object.isFrozen(params)).toBe(true)
      expect(Object.isFrozen((params as { a: object }).a)).toBe(true)
    }
  })
})
