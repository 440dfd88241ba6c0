import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { CLI, http, sessionCookie, stopAll, tempDir, type ServeProcess, startServers } from '../support/worker-processes.js'

// Issue 16: `wire-auth keys rotate` against a store two serving processes
// share. Within a minute both publish and sign with the new key; tokens of
// the old key keep working on both, and nobody is signed out.

const run = promisify(execFile)
const PASSWORD = 'correct horse battery staple'
const KEY_REFRESH_MS = 60_000

let dir: ReturnType<typeof tempDir>
const workers: ServeProcess[] = []
let sqlite: string

beforeAll(async () => {
  dir = tempDir()
  sqlite = join(dir.dir, 'auth.sqlite')
  await startServers(workers, { WA_TEST_SQLITE: sqlite })
})

afterAll(async () => {
  await stopAll(workers)
  dir?.cleanup()
})

const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString('utf8')) as { kid: string }).kid
const jwksKids = async (url: string) => ((await http(url, 'GET', '/.well-known/jwks.json')).json as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid).sort()
const authenticated = async (url: string, headers: Record<string, string>) => ((await http(url, 'GET', '/auth/me', { headers })).json as { authenticated: boolean }).authenticated
async function passwordGrant(url: string): Promise<{ access_token: string; refresh_token: string }> {
  const answer = await http(url, 'POST', '/auth/local/token', { body: { grant_type: 'password', username: 'rota@example.com', password: PASSWORD } })
  expect(answer.status).toBe(200)
  return answer.json as { access_token: string; refresh_token: string }
}

it('a rotation by the CLI reaches both processes within a minute; old tokens, sessions and refresh tokens keep working', { timeout: 180_000 }, async () => {
  const [a, b] = workers as [ServeProcess, ServeProcess]
  const registered = await http(a.url, 'POST', '/auth/local/register', { body: { email: 'rota@example.com', password: PASSWORD, name: 'Rota' } })
  expect(registered.status).toBe(201)
  const cookie = sessionCookie(registered)
  const before = await passwordGrant(a.url)
  const oldKid = kidOf(before.access_token)

  const rotated = JSON.parse((await run(process.execPath, [CLI, 'keys', 'rotate', '--now', '--json'], { env: { ...process.env, WIRE_AUTH_SQLITE: sqlite } })).stdout) as { kid: string }
  expect(rotated.kid).not.toBe(oldKid)

  // Each process re-reads the key set at least once a minute.
  await new Promise((resolve) => setTimeout(resolve, KEY_REFRESH_MS + 2_000))
  for (const worker of [a, b]) {
    expect(await jwksKids(worker.url)).toEqual([oldKid, rotated.kid].sort())
    const after = await passwordGrant(worker.url)
    expect(kidOf(after.access_token)).toBe(rotated.kid)
    // Tokens of the new key verify on the other process, those of the old key on both.
    for (const other of [a, b]) {
      expect(await authenticated(other.url, { authorization: `Bearer ${after.access_token}` })).toBe(true)
      expect(await authenticated(other.url, { authorization: `Bearer ${before.access_token}` })).toBe(true)
    }
  }
  // Nobody signed out: the session and the refresh token from before still work.
  expect(await authenticated(b.url, { cookie })).toBe(true)
  const refreshed = await http(b.url, 'POST', '/auth/local/token', { body: { grant_type: 'refresh_token', refresh_token: before.refresh_token } })
  expect(refreshed.status).toBe(200)
  expect(kidOf((refreshed.json as { access_token: string }).access_token)).toBe(rotated.kid)
})
