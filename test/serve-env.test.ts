// `wire-auth serve` configured from environment variables as well as the
// config file (issue 12, item 7). Runs the built CLI (npm test builds first).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { applyEnvironment } from '../packages/server/src/lib/cli/env-config.js'

const cli = fileURLToPath(new URL('../packages/server/dist/cli.js', import.meta.url))
const SITE = 'https://www.example.com'

describe('applyEnvironment', () => {
  it('reads every WIRE_AUTH_* setting, over the file', () => {
    const config = applyEnvironment(
      { sqlitePath: 'file.sqlite', publicUrl: 'https://file.example', localIdp: { passwordMinLength: 12 } },
      {
        WIRE_AUTH_SQLITE: '/data/auth.sqlite',
        WIRE_AUTH_PUBLIC_URL: 'https://auth.example.com',
        WIRE_AUTH_ALLOWED_ORIGINS: 'https://a.example, https://b.example  https://c.example',
        WIRE_AUTH_LOGIN_URL: '/sign-in',
        WIRE_AUTH_SECRET: 's'.repeat(40),
        WIRE_AUTH_STATIC_ROOT: './public',
        WIRE_AUTH_MONGO_URL: 'mongodb://db/wa',
        WIRE_AUTH_REDIS_URL: 'redis://cache',
        WIRE_AUTH_REDIS_CHANNEL: 'wa:prod',
        WIRE_AUTH_LOCAL_IDP: 'true',
        WIRE_AUTH_METRICS: '/internal/metrics',
      },
    )
    expect(config).toEqual({
      sqlitePath: '/data/auth.sqlite',
      publicUrl: 'https://auth.example.com',
      allowedOrigins: ['https://a.example', 'https://b.example', 'https://c.example'],
      loginUrl: '/sign-in',
      secret: 's'.repeat(40),
      staticRoot: './public',
      mongoUrl: 'mongodb://db/wa',
      redisUrl: 'redis://cache',
      redisChannel: 'wa:prod',
      // true keeps the file's object.
      localIdp: { passwordMinLength: 12 },
      metrics: { path: '/internal/metrics' },
    })
  })

  it('empty variables are unset; switches turn things off; a bad switch is ERR_INVALID_OPTION naming the variable', () => {
    expect(applyEnvironment({ publicUrl: 'https://file.example' }, { WIRE_AUTH_PUBLIC_URL: '  ' })).toEqual({ publicUrl: 'https://file.example' })
    expect(applyEnvironment({ localIdp: true, metrics: true }, { WIRE_AUTH_LOCAL_IDP: 'off', WIRE_AUTH_METRICS: '0' })).toEqual({})
    expect(applyEnvironment({}, { WIRE_AUTH_METRICS: 'yes' })).toEqual({ metrics: true })
    expect(() => applyEnvironment({}, { WIRE_AUTH_LOCAL_IDP: 'maybe' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('"WIRE_AUTH_LOCAL_IDP"') }))
  })
})

let child: ChildProcess | undefined
let dir: string | undefined
afterEach(async () => {
  if (child !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
  child = undefined
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

async function serve(args: string[], env: Record<string, string>): Promise<string> {
  dir ??= mkdtempSync(join(tmpdir(), 'wire-auth-serve-env-'))
  child = spawn(process.execPath, [cli, 'serve', '--port', '0', ...args], { cwd: dir, env: { ...process.env, LOG_LEVEL: 'error', ...env } })
  let out = ''
  return await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 30_000)
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      const match = /listening on (\S+)/.exec(out)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    }
    child!.stdout!.on('data', onData)
    child!.stderr!.on('data', onData)
    child!.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`serve exited with ${code}:\n${out}`))
    })
  })
}

describe('wire-auth serve from the environment', () => {
  it('without a config file: store, origins, metrics route and local IdP come from WIRE_AUTH_*', async () => {
    dir = mkdtempSync(join(tmpdir(), 'wire-auth-serve-env-'))
    const base = await serve([], {
      WIRE_AUTH_SQLITE: join(dir, 'env.sqlite'),
      WIRE_AUTH_ALLOWED_ORIGINS: SITE,
      WIRE_AUTH_METRICS: '/ops/metrics',
      WIRE_AUTH_LOCAL_IDP: 'false',
    })
    expect((await fetch(`${base}/auth/health`)).status).toBe(200)
    const me = await fetch(`${base}/auth/me`, { headers: { origin: SITE } })
    expect(me.headers.get('access-control-allow-origin')).toBe(SITE)
    const metrics = await fetch(`${base}/ops/metrics`)
    expect(metrics.status).toBe(200)
    expect(await metrics.text()).toMatch(/^wire_auth_sockets_open 0$/m)
    // Local IdP off: its routes are not mounted.
    expect((await fetch(`${base}/auth/local/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: SITE }, body: '{}' })).status).toBe(404)
  })

  it('with a config file: the environment overrides the file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'wire-auth-serve-env-'))
    const config = join(dir, 'wire-auth.config.mjs')
    writeFileSync(config, `export default { sqlitePath: ${JSON.stringify(join(dir, 'file.sqlite'))}, allowedOrigins: ['https://file.example'], localIdp: true }\n`)
    const base = await serve(['--config', config], { WIRE_AUTH_ALLOWED_ORIGINS: SITE })
    expect((await fetch(`${base}/auth/me`, { headers: { origin: SITE } })).headers.get('access-control-allow-origin')).toBe(SITE)
    expect((await fetch(`${base}/auth/me`, { headers: { origin: 'https://file.example' } })).headers.get('access-control-allow-origin')).toBeNull()
  })
})
