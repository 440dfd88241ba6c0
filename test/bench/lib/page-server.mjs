// One server process of the pages scenario: `node page-server.mjs <mode> <dir>`.
//   static  @fastify/static serving <dir> (the peer: the file as it is on disk)
//   page    wire-auth (defaults, pages read once) serving <dir>/index.html and
//           <dir>/admin.html with app.page(); POST /bench/sign-in makes an admin
// Prints `{"port":N}` on stdout once listening; exits when stdin closes.
import { join } from 'node:path'
import fastifyStatic from '@fastify/static'
import { connectAuth, html } from '@wire-auth/server'
import Fastify from 'fastify'

const [mode, dir] = process.argv.slice(2)
const app = Fastify({ logger: false })
if (mode === 'static') {
  await app.register(fastifyStatic, { root: dir })
} else {
  await connectAuth(app, {
    sqlitePath: join(dir, 'bench.sqlite'),
    pages: { watch: false },
    policies: { AdminOnly: { requiresClaim: ['role', 'admin'] }, CanReadDocument: () => true },
  })
  // The fragments admin.html's guard and regions name (a guard naming an unknown fragment denies).
  for (const name of ['admin-console', 'document-access']) app.fragment(name, { policy: 'AdminOnly' }, () => html`<p>${name}</p>`)
  app.page('/index.html', join(dir, 'index.html'))
  app.page('/admin.html', join(dir, 'admin.html'))
  app.post('/bench/sign-in', { config: { wireAuth: 'public' } }, async (request, reply) => {
    const user = await app.authStore.createUser({ email: `admin-${Date.now()}@example.com`, name: 'Admin', passwordHash: null })
    await app.auth.grantTo(user.id, 'role', 'admin')
    await app.auth.signIn(request, reply, user.id)
    return { ok: true }
  })
}
await app.listen({ port: 0, host: '127.0.0.1' })
process.stdout.write(`${JSON.stringify({ port: app.server.address().port })}\n`)
process.stdin.on('close', () => app.close().then(() => process.exit(0)))
process.stdin.resume()
