// Issue 20: one parser of the wire protocol, in core, for both sides. The
// elements refused an empty claim value (core's guard parser) while the
// server's own region parser accepted it and denied the region later; now
// the server refuses it where it refuses every malformed region.
import { isRegionProblem, parseClaimsAttribute, parseRegionRequest, html } from '@wire-auth/core'
import { describe, expect, it } from 'vitest'
import { liveHarness, MOUNT, SITE } from './live-harness.js'
import { signedInUser } from './support/app.js'

const EMPTY_VALUE = { id: 'bad', kind: 'region', fragment: 'news', claims: [['role', '']] }

describe('an empty claim value in a region request', () => {
  const live = liveHarness()

  it('is refused by the one parser, as by the elements', () => {
    expect(() => parseClaimsAttribute('role=')).toThrow(expect.objectContaining({ code: 'ERR_GUARD_SPEC_INVALID' }))
    expect(isRegionProblem(parseRegionRequest(EMPTY_VALUE))).toBe(true)
    expect(isRegionProblem(parseRegionRequest({ ...EMPTY_VALUE, claims: [['role']] }))).toBe(false)
  })

  it('POST /auth/fragments: 400 ERR_VALIDATION, nothing evaluated', async () => {
    const app = await live.start()
    let renders = 0
    app.fragment('counted', { authenticated: true }, () => {
      renders++
      return html`<p>counted</p>`
    })
    const { cookie } = await signedInUser(app)
    const response = await app.inject({
      method: 'POST',
      url: '/auth/fragments',
      headers: { cookie, origin: SITE, 'content-type': 'application/json' },
      payload: { regions: [{ id: 'ok', kind: 'region', fragment: 'counted' }, { ...EMPTY_VALUE, fragment: 'counted' }] },
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().error.code).toBe('ERR_VALIDATION')
    expect(renders).toBe(0)
  })

  it('socket mount: that region alone is refused with ERR_SOCKET_MESSAGE_INVALID, the others render', async () => {
    const app = await live.start()
    const { cookie } = await signedInUser(app)
    const client = await live.connect(cookie)
    await client.next('principal')
    client.send({ t: 'mount', regions: [...MOUNT.regions, EMPTY_VALUE] })
    const error = await client.next('error')
    expect(error).toMatchObject({ code: 'ERR_SOCKET_MESSAGE_INVALID', id: 'bad' })
    const render = await client.next('render')
    expect(render.regions.map((region: { id: string }) => region.id).sort()).toEqual(['acct', 'beta', 'news'])
  })
})
