import { mkdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createServer, type PolicyContext } from '../src/index.js'
import { processPage } from '../src/lib/pages/page-processor.js'
import { sessionCookie, tempDir } from './support/app.js'

// Pages the backend serves: processed once with parse5's rewriter, guarded
// before any byte, protected markup cut out and served only as fragments.

const SECRET = 'TOP-SECRET-ADMIN-NOTES'

const ADMIN_PAGE = `<!doctype html>
<html><head><title>Admin</title></head>
<body>
  <wire-auth-guard policy="AdminOnly"><p>Checking…</p></wire-auth-guard>
  <h1>Admin</h1>
  <wire-auth-region policy="AdminOnly">
    <template slot="allowed"><section class="notes">${SECRET}</section></template>
    <p slot="pending">Checking…</p>
    <p slot="else">Admins only.</p>
  </wire-auth-region>
</body></html>
`

const DOCS = ['alpha', 'beta', 'gamma']
const LOOP_PAGE = `<!doctype html><main>
${DOCS.map((id) => `  <article><wire-auth-region policy="CanRead" params='{"docId":"${id}"}'><template slot="allowed"><p>BODY-OF-${id}</p></template><p slot="else">locked ${id}</p></wire-auth-region></article>`).join('\n')}
  <wire-auth-region claims="role=beta"><template slot="allowed"><p>BETA-INPLACE</p></template><template slot="denied"><p>DENIED-BRANCH-FROM-SERVER</p></template></wire-auth-region>
  <wire-auth-region policy="CanRead" claims="team=eng" params='{"docId":"alpha"}'><template slot="allowed"><p>BOTH-REQUIRED</p></template></wire-auth-region>
</main>
`

let dir: { dir: string; cleanup: () => void }
let app: FastifyInstance
let root: string
/** Document id → user ids allowed to read it (the policy reads it live). */
const access = new Map<string, Set<string>>()

async function start(options: { watch?: boolean; extra?: (server: FastifyInstance) => void } = {}) {
  app = await createServer({
    sqlitePath: join(dir.dir, 'auth.sqlite'),
    staticRoot: root,
    loginUrl: '/login',
    pages: { watch: options.watch ?? false },
    fastify: { logger: false },
    policies: {
      AdminOnly: { requiresClaim: ['role', 'admin'] },
      CanRead: (user, { params }: PolicyContext) => typeof params.docId === 'string' && access.get(params.docId)?.has(user.userId as string) === true,
    },
    setup(server) {
      server.post<{ Params: { id: string } }>('/test/sign-in/:id', { config: { wireAuth: 'public' } }, async (request, reply) => {
        await server.auth.signIn(request, reply, request.params.id)
        return { ok: true }
      })
      options.extra?.(server)
    },
  })
  await app.ready()
}

async function user(claims: Array<[string, string]> = []) {
  const record = await app.authStore.createUser({ email: `u${Math.random().toString(36).slice(2)}@example.com`, name: 'U', passwordHash: null })
  for (const [type, value] of claims) await app.auth.grantTo(record.id, type, value)
  const response = await app.inject({ method: 'POST', url: `/test/sign-in/${record.id}` })
  return { id: record.id, cookie: sessionCookie(response) as string }
}

function fragmentNames(html: string): string[] {
  return [...html.matchAll(/fragment="(page\.[^"]+)"/g)].map((m) => m[1] as string)
}

async function regions(cookie: string | undefined, list: Array<Record<string, unknown>>) {
  const response = await app.inject({ method: 'POST', url: '/auth/fragments', headers: cookie ? { cookie } : {}, payload: { regions: list } })
  expect(response.statusCode).toBe(200)
  return response.json().regions as Array<{ id: string; status: string; html?: string; code?: string }>
}

beforeEach(() => {
  dir = tempDir()
  root = join(dir.dir, 'public')
  mkdirSync(join(root, 'css'), { recursive: true })
  writeFileSync(join(root, 'admin.html'), ADMIN_PAGE)
  writeFileSync(join(root, 'index.html'), LOOP_PAGE)
  writeFileSync(join(root, 'css', 'site.css'), 'body { color: red }')
  access.clear()
})

afterEach(async () => {
  await app?.close()
  dir.cleanup()
})

describe('a page-level <wire-auth-guard> decides on the server', () => {
  it('answers 303 with an empty body to anonymous visitors, whatever the request looks like (curl included)', async () => {
    await start()
    for (const headers of [{}, { accept: '*/*', 'user-agent': 'curl/8.5.0' }, { 'sec-fetch-dest': 'document' }, { 'sec-fetch-dest': 'empty' }]) {
      for (const url of ['/admin', '/admin.html']) {
        const response = await app.inject({ url, headers })
        expect(response.statusCode, url).toBe(303)
        expect(response.headers.location).toBe(`/login?returnTo=${encodeURIComponent(url)}`)
        expect(response.body).toBe('')
        expect(response.headers['content-length']).toBe('0')
      }
    }
  })

  it('sends a signed-in user without the policy away too, and serves the page to an admin', async () => {
    await start()
    const reader = await user()
    const denied = await app.inject({ url: '/admin', headers: { cookie: reader.cookie } })
    expect(denied.statusCode).toBe(303)
    expect(denied.headers['x-wire-auth-code']).toBe('ERR_DENIED')
    expect(denied.body).toBe('')
    const admin = await user([['role', 'admin']])
    const allowed = await app.inject({ url: '/admin', headers: { cookie: admin.cookie } })
    expect(allowed.statusCode).toBe(200)
    expect(allowed.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(allowed.headers['cache-control']).toBe('private, no-store')
    expect(allowed.body).toContain('<h1>Admin</h1>')
  })

  it("honours the guard's redirect attribute (checked) and the page guard given in code", async () => {
    writeFileSync(join(root, 'redirecting.html'), '<wire-auth-guard policy="AdminOnly" redirect="/no-access"></wire-auth-guard><p>x</p>')
    writeFileSync(join(root, 'evil.html'), '<wire-auth-guard redirect="//evil.example/"></wire-auth-guard><p>x</p>')
    writeFileSync(join(dir.dir, 'code-guarded.html'), '<p>no guard element</p>')
    await start({ extra: (server) => server.page('/code', join(dir.dir, 'code-guarded.html'), { guard: { policy: 'AdminOnly', redirect: '/admins-only' } }) })
    expect((await app.inject({ url: '/redirecting' })).headers.location).toBe('/no-access')
    expect((await app.inject({ url: '/evil' })).headers.location).toBe('/login?returnTo=%2Fevil')
    const code = await app.inject({ url: '/code' })
    expect(code.statusCode).toBe(303)
    expect(code.headers.location).toBe('/admins-only')
    expect(code.body).toBe('')
    const admin = await user([['role', 'admin']])
    expect((await app.inject({ url: '/code', headers: { cookie: admin.cookie } })).body).toBe('<p>no guard element</p>')
  })

  it('a malformed guard attribute fails closed: every visitor is sent away', async () => {
    writeFileSync(join(root, 'broken.html'), '<wire-auth-guard claims=""></wire-auth-guard><p>BROKEN-BODY</p>')
    await start()
    const admin = await user([['role', 'admin']])
    const response = await app.inject({ url: '/broken', headers: { cookie: admin.cookie } })
    expect(response.statusCode).toBe(303)
    expect(response.headers['x-wire-auth-code']).toBe('ERR_GUARD_SPEC_INVALID')
    expect(response.body).toBe('')
  })
})

describe('protected markup written in place', () => {
  it('is in the served HTML of nobody, and reaches an allowed user only through the fragment endpoint', async () => {
    await start()
    const admin = await user([['role', 'admin']])
    const page = await app.inject({ url: '/admin', headers: { cookie: admin.cookie } })
    expect(page.body).not.toContain(SECRET)
    expect(page.body).not.toContain('<template')
    // Pending and else children stay in the page.
    expect(page.body).toContain('<p slot="else">Admins only.</p>')
    const [name] = fragmentNames(page.body)
    expect(name).toMatch(/^page\.[A-Za-z0-9_-]{22}$/)

    const reader = await user()
    for (const cookie of [undefined, reader.cookie]) {
      const [result] = await regions(cookie, [{ id: 'r1', fragment: name }])
      expect(result.status).toBe('denied')
      expect(JSON.stringify(result)).not.toContain(SECRET)
    }
    const [allowed] = await regions(admin.cookie, [{ id: 'r1', fragment: name }])
    expect(allowed).toEqual({ id: 'r1', status: 'allowed', html: `<section class="notes">${SECRET}</section>` })
  })

  it('keeps every other byte of the page as written', async () => {
    await start()
    const page = await app.inject({ url: '/' })
    const expected = LOOP_PAGE.replace(/<template slot="(allowed|denied)">.*?<\/template>/g, '').replace(/(<wire-auth-region [^>]*)>/g, '$1 fragment="NAME">')
    expect(page.body.replace(/ fragment="page\.[^"]+"/g, ' fragment="NAME"')).toBe(expected)
    expect(page.headers['cache-control']).toBe('no-cache')
    const again = await app.inject({ url: '/', headers: { 'if-none-match': page.headers.etag as string } })
    expect(again.statusCode).toBe(304)
  })

  it('loops: each use site carries its own params, pinned on the server', async () => {
    await start()
    const html = (await app.inject({ url: '/' })).body
    for (const id of DOCS) expect(html).not.toContain(`BODY-OF-${id}`)
    const names = fragmentNames(html)
    expect(names).toHaveLength(DOCS.length + 2)
    const reader = await user()
    access.set('beta', new Set([reader.id]))
    const results = await regions(reader.cookie, DOCS.map((id, i) => ({ id: `d${i}`, fragment: names[i], params: { docId: id } })))
    expect(results.map((r) => r.status)).toEqual(['denied', 'allowed', 'denied'])
    expect(results[1].html).toBe('<p>BODY-OF-beta</p>')
    // A client cannot unlock alpha's content by sending the params of a document it may read.
    const [forged] = await regions(reader.cookie, [{ id: 'f', fragment: names[0], params: { docId: 'beta' } }])
    expect(forged.status).toBe('denied')
    expect(JSON.stringify(forged)).not.toContain('BODY-OF-alpha')
  })

  it('the bound form: the denied branch comes from the server too, and policy + claims must both hold', async () => {
    await start()
    const names = fragmentNames((await app.inject({ url: '/' })).body)
    const beta = names[DOCS.length] as string
    const both = names[DOCS.length + 1] as string
    const reader = await user()
    const [denied] = await regions(reader.cookie, [{ id: 'b', fragment: beta }])
    expect(denied).toMatchObject({ status: 'denied', html: '<p>DENIED-BRANCH-FROM-SERVER</p>', code: 'ERR_DENIED' })
    const tester = await user([['role', 'beta']])
    const [allowed] = await regions(tester.cookie, [{ id: 'b', fragment: beta }])
    expect(allowed).toEqual({ id: 'b', status: 'allowed', html: '<p>BETA-INPLACE</p>' })

    access.set('alpha', new Set([reader.id, tester.id]))
    expect((await regions(reader.cookie, [{ id: 'x', fragment: both }]))[0].status).toBe('denied')
    const engineer = await user([['team', 'eng']])
    access.get('alpha')?.add(engineer.id)
    expect((await regions(engineer.cookie, [{ id: 'x', fragment: both }]))[0]).toMatchObject({ status: 'allowed', html: '<p>BOTH-REQUIRED</p>' })
  })

  it('re-processes a changed file when watching, and forgets the old fragments', async () => {
    await start({ watch: true })
    const admin = await user([['role', 'admin']])
    const before = await app.inject({ url: '/admin', headers: { cookie: admin.cookie } })
    const [oldName] = fragmentNames(before.body)
    writeFileSync(join(root, 'admin.html'), ADMIN_PAGE.replace(SECRET, 'NEW-NOTES').replace('<h1>Admin</h1>', '<h1>Admin v2</h1>'))
    utimesSync(join(root, 'admin.html'), new Date(), new Date(Date.now() + 5000))
    const after = await app.inject({ url: '/admin', headers: { cookie: admin.cookie } })
    expect(after.body).toContain('Admin v2')
    const [newName] = fragmentNames(after.body)
    expect(newName).not.toBe(oldName)
    const [fresh, stale] = await regions(admin.cookie, [{ id: 'n', fragment: newName }, { id: 'o', fragment: oldName }])
    expect(fresh).toMatchObject({ status: 'allowed', html: '<section class="notes">NEW-NOTES</section>' })
    expect(stale).toMatchObject({ status: 'denied', code: 'ERR_FRAGMENT_NOT_FOUND' })
  })

  it('names come from the markup: two pages sharing a block share its fragment, and changing one keeps the other working', async () => {
    writeFileSync(join(root, 'copy.html'), ADMIN_PAGE)
    await start({ watch: true })
    const admin = await user([['role', 'admin']])
    const [shared] = fragmentNames((await app.inject({ url: '/copy', headers: { cookie: admin.cookie } })).body)
    expect(fragmentNames((await app.inject({ url: '/admin', headers: { cookie: admin.cookie } })).body)).toEqual([shared])
    writeFileSync(join(root, 'admin.html'), ADMIN_PAGE.replace(SECRET, 'CHANGED'))
    utimesSync(join(root, 'admin.html'), new Date(), new Date(Date.now() + 5000))
    await app.inject({ url: '/admin', headers: { cookie: admin.cookie } })
    const [still] = await regions(admin.cookie, [{ id: 's', fragment: shared }])
    expect(still).toMatchObject({ status: 'allowed', html: `<section class="notes">${SECRET}</section>` })
  })

  it('a denied page answers before any hook the app added (and before the handler)', async () => {
    const calls: string[] = []
    await start({
      extra: (server) => {
        server.addHook('onRequest', async (request) => {
          if (request.url.startsWith('/admin')) calls.push('onRequest')
        })
        server.addHook('preHandler', async (request) => {
          if (request.url.startsWith('/admin')) calls.push('preHandler')
        })
      },
    })
    expect((await app.inject({ url: '/admin' })).statusCode).toBe(303)
    expect(calls).toEqual([])
    const admin = await user([['role', 'admin']])
    expect((await app.inject({ url: '/admin', headers: { cookie: admin.cookie } })).statusCode).toBe(200)
    expect(calls).toEqual(['onRequest', 'preHandler'])
  })

  it('the static server never sends an HTML file as it is on disk; other files are served', async () => {
    await start()
    expect((await app.inject({ url: '/css/site.css' })).body).toBe('body { color: red }')
    for (const url of ['/admin%2Ehtml', '/admin.HTML', '/./admin.html', '/css/../admin.html', '/admin.htm', '/index.html/']) {
      const response = await app.inject({ url })
      expect(response.body, url).not.toContain(SECRET)
      expect(response.body, url).not.toContain('BODY-OF-')
    }
  })
})

describe('app.page registration', () => {
  it('refuses a bad url at once and a missing file at boot, with ERR_PAGE_INVALID', async () => {
    await start()
    expect(() => app.page('admin', join(root, 'admin.html'))).toThrow(expect.objectContaining({ code: 'ERR_PAGE_INVALID' }))
    expect(() => app.page('/x', '')).toThrow(expect.objectContaining({ code: 'ERR_PAGE_INVALID' }))
    expect(() => app.page('/x', join(root, 'admin.html'), { guard: { policy: 'bad name' } })).toThrow(expect.objectContaining({ code: 'ERR_GUARD_SPEC_INVALID' }))
    await app.close()
    app = await createServer({ sqlitePath: join(dir.dir, 'auth2.sqlite'), fastify: { logger: false }, setup: (server) => void server.page('/gone', join(root, 'no-such.html')) })
    await expect(app.ready()).rejects.toMatchObject({ code: 'ERR_PAGE_INVALID' })
  })
})

describe('processPage (markup that fails closed)', () => {
  it('drops a marker outside any element, an unclosed template, and a marker beside a named fragment', async () => {
    const outside = await processPage('<p>a</p><template slot="allowed">LEAK-1</template><p>b</p>')
    expect(outside.html).toBe('<p>a</p><p>b</p>')
    expect(outside.problems).toHaveLength(1)
    const unclosed = await processPage('<wire-auth-region><template slot="allowed"><p>LEAK-2</p></wire-auth-region><p>rest</p>')
    expect(unclosed.html).toBe('<wire-auth-region>')
    expect(unclosed.problems.length).toBeGreaterThan(0)
    const named = await processPage('<wire-auth-region fragment="beta-panel"><template slot="allowed">LEAK-3</template></wire-auth-region>')
    expect(named.html).toBe('<wire-auth-region fragment="beta-panel"></wire-auth-region>')
    expect(named.fragments).toEqual([])
  })

  it('processes protected markup nested inside protected markup (a template in a template too)', async () => {
    const page = await processPage(
      '<wire-auth-guard policy="A"><template slot="allowed"><h2>outer</h2><template><i>inert</i></template><wire-auth-region claims="role=x"><template slot="allowed">INNER</template></wire-auth-region></template></wire-auth-guard>',
    )
    expect(page.guards).toHaveLength(1)
    expect(page.fragments).toHaveLength(2)
    const [inner, outer] = page.fragments
    expect(inner.allowed).toBe('INNER')
    expect(outer.allowed).toBe(`<h2>outer</h2><template><i>inert</i></template><wire-auth-region claims="role=x" fragment="${inner.name}"></wire-auth-region>`)
    expect(page.html).toBe(`<wire-auth-guard policy="A" fragment="${outer.name}"></wire-auth-guard>`)
  })

  it('params written in a page follow the one params rule: __proto__ fails closed (no fragment, a problem)', async () => {
    const page = await processPage(`<wire-auth-region params='{"__proto__":{"admin":true}}'><template slot="allowed">LEAK-4</template></wire-auth-region>`)
    expect(page.fragments).toEqual([])
    expect(page.html).not.toContain('LEAK-4')
    expect(page.problems.length).toBe(1)
  })

  it('a marker inside <noscript> (markup to a browser without scripts, raw text to the tokenizer) or a comment is never served', async () => {
    const page = await processPage(`<p>a</p><noscript><wire-auth-region><template slot=allowed>LEAK-5</template></wire-auth-region></noscript><noscript><p>plain</p></noscript>`)
    expect(page.html).toBe('<p>a</p><noscript></noscript><noscript><p>plain</p></noscript>')
    expect(page.problems).toHaveLength(1)
    const commented = await processPage('<p>a</p><!-- <wire-auth-region><template slot="allowed">LEAK-6</template></wire-auth-region> --><!-- kept -->')
    expect(commented.html).toBe('<p>a</p><!-- kept -->')
  })

  it('a guard inside protected content is not a page-level guard', async () => {
    const page = await processPage('<wire-auth-region><template slot="allowed"><wire-auth-guard policy="A"></wire-auth-guard></template></wire-auth-region>')
    expect(page.guards).toEqual([])
  })
})
