import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { connectAuth, type WireAuthOptions } from '@wire-auth/server'
import { freePort } from '../../support/free-port.mjs'

/** A wire-auth app of an end-to-end test, listening on loopback. */
export interface E2eApp {
  app: FastifyInstance
  /** Its public URL, e.g. `http://127.0.0.1:41234`. */
  url: string
  /** Closes the app and removes its temp folder. */
  close(): Promise<void>
}

/** Options of an end-to-end app: all but the SQLite file and the public URL, which it picks. */
export type E2eAppOptions = Omit<WireAuthOptions, 'sqlitePath' | 'publicUrl'>

/**
 * Fastify with wire-auth (the built packages) on a real SQLite file in a
 * temp folder, listening on a free loopback port whose URL is the app's
 * `publicUrl`. `options` may be a function of that URL (e.g. to register an
 * OpenID redirect URI first). `setup` adds the test's pages and fragments before it listens.
 * `hostname: 'localhost'` where the page needs a host name (a WebAuthn RP ID
 * is never an IP address); it still listens on 127.0.0.1.
 */
export async function startE2eApp(
  options: E2eAppOptions | ((url: string) => E2eAppOptions | Promise<E2eAppOptions>),
  { setup, hostname = '127.0.0.1' }: { setup?: (app: FastifyInstance) => void; hostname?: 'localhost' | '127.0.0.1' } = {},
): Promise<E2eApp> {
  const dir = mkdtempSync(join(tmpdir(), 'wire-auth-e2e-'))
  const port = await freePort()
  const url = `http://${hostname}:${port}`
  const app = Fastify({ logger: false })
  try {
    const resolved = typeof options === 'function' ? await options(url) : options
    await connectAuth(app, { ...resolved, sqlitePath: join(dir, 'auth.sqlite'), publicUrl: url })
    setup?.(app)
    await app.listen({ port, host: '127.0.0.1' })
  } catch (err) {
    await app.close().catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  return {
    app,
    url,
    async close() {
      await app.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
