import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { decodeProtectedHeader, importJWK, SignJWT, type JWK } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { LocalIdp } from '../src/lib/local-idp/local-idp.js'
import type { UserRecord } from '../src/lib/store/auth-store.js'
import { frozenClock, makeIdp, tempStore } from './local-idp-harness.js'

// Issue 16: key rotation across workers. Two LocalIdps on one SQLite file
// are two workers; they share a frozen clock that the test moves.

const MINUTE = 60_000
let env: Awaited<ReturnType<typeof tempStore>>
let clock: ReturnType<typeof frozenClock>
let w1: LocalIdp
let w2: LocalIdp
let user: UserRecord

beforeEach(async () => {
  env = await tempStore()
  clock = frozenClock()
  w1 = await makeIdp(env.store, clock.now)
  w2 = await makeIdp(await env.open(), clock.now)
  user = await env.store.createUser({ email: 'ada@example.com', name: 'Ada', passwordHash: null })
})
afterEach(async () => {
  await env.cleanup()
})

const kidOf = (token: string) => decodeProtectedHeader(token).kid as string
const kids = async (idp: LocalIdp) => (await idp.jwks()).keys.map((k) => k.kid).sort()
const verifies = async (idp: LocalIdp, token: string) => (await idp.verifyAccessToken(token))?.userId === user.id

describe('signing key rotation', () => {
  it('the new key is published at once, signs after the activation delay on every worker, and old tokens keep working', async () => {
    const before = (await w1.issueTokens(user)).access_token
    const oldKid = kidOf(before)

    const rotated = await w2.rotateSigningKey()
    expect(rotated.state).toBe('next')
    expect(await kids(w2)).toEqual([oldKid, rotated.kid].sort())
    // Not signing yet: the other worker may not have read it.
    expect(kidOf((await w2.issueTokens(user)).access_token)).toBe(oldKid)

    // Within a minute every worker has re-read the keys and publishes both.
    clock.advance(MINUTE + 1)
    expect(await kids(w1)).toEqual([oldKid, rotated.kid].sort())

    // Past the activation: both workers sign with the new key.
    clock.advance(MINUTE + 1)
    const after1 = (await w1.issueTokens(user)).access_token
    const after2 = (await w2.issueTokens(user)).access_token
    expect(kidOf(after1)).toBe(rotated.kid)
    expect(kidOf(after2)).toBe(rotated.kid)
    // Tokens from before and after verify on both workers: nobody is signed out.
    for (const worker of [w1, w2]) for (const token of [before, after1, after2]) expect(await verifies(worker, token)).toBe(true)
    expect((await w1.listSigningKeys()).map((k) => [k.kid, k.state])).toEqual([
      [oldKid, 'verifying'],
      [rotated.kid, 'signing'],
    ])
  })

  it('a superseded key leaves the JWKS and verifies nothing once its tokens have expired', async () => {
    const [record] = await env.store.listSigningKeys()
    const oldKey = await importJWK(record!.privateJwk as JWK, record!.alg)
    const rotated = await w1.rotateSigningKey(0)
    expect(kidOf((await w1.issueTokens(user)).access_token)).toBe(rotated.kid)
    // Access tokens live 600 s; the old key goes after that plus tolerance and a minute.
    clock.advance((600 + 5 + 60) * 1000 + 1)
    expect(await kids(w1)).toEqual([rotated.kid])
    expect(await kids(w2)).toEqual([rotated.kid])
    expect((await w1.listSigningKeys()).find((k) => k.kid === record!.kid)?.state).toBe('retired')
    // Even a fresh, well-formed token signed with the retired key is refused.
    const iat = Math.floor(clock.now() / 1000)
    const late = await new SignJWT({ name: 'Ada', wa_claims: [], wa_ver: user.version })
      .setProtectedHeader({ alg: record!.alg, kid: record!.kid, typ: 'at+jwt' })
      .setIssuer('http://localhost:3000')
      .setAudience('wire-auth')
      .setSubject(user.id)
      .setJti('late')
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + 600)
      .sign(oldKey)
    expect(await verifies(w1, late)).toBe(false)
    expect(await verifies(w2, late)).toBe(false)
  })
})

describe('wire-auth keys (CLI)', () => {
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
  const run = promisify(execFile)

  it('rotate --now adds a signing key in the configured store; list shows the states', async () => {
    // A store of its own: the first key is made by the CLI on the real clock.
    const own = await tempStore()
    const runCli = (...args: string[]) => run(process.execPath, [cli, ...args], { env: { ...process.env, WIRE_AUTH_SQLITE: own.path } })
    const [first] = (JSON.parse((await runCli('keys', 'list', '--json')).stdout) as Array<{ kid: string }>).map((k) => k.kid)
    const rotated = JSON.parse((await runCli('keys', 'rotate', '--now', '--json')).stdout) as { kid: string; state: string }
    expect(rotated.state).toBe('signing')
    const listed = JSON.parse((await runCli('keys', 'list', '--json')).stdout) as Array<{ kid: string; state: string }>
    expect(listed.map((k) => [k.kid, k.state])).toEqual([
      [first, 'verifying'],
      [rotated.kid, 'signing'],
    ])
    await expect(runCli('keys', 'spin')).rejects.toMatchObject({ code: 2 })
    await own.cleanup()
  })
})
