// Scenario 6: access-token verification of the local IdP against raw
// node:crypto verification of the very same token, in the same process and
// run: the first sight of a token (fast-jwt, synchronous node:crypto, behind
// our own header and claim checks) and a repeat (the product's verified-token
// cache); jose's jwtVerify, which the product used before, as a diagnostic.
import { createPublicKey, verify as cryptoVerify } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteAuthStore } from '@wire-auth/server'
import { createVerifier } from 'fast-jwt'
import { jwtVerify } from 'jose'
import { benchLocalIdp } from '../lib/bench-app.mjs'
import { figure, report, sized } from '../lib/result.mjs'
import { opsPerSecond } from '../lib/stats.mjs'

// Everything goes through the public API (issue 20: benches import no dist internals).
// The IdP's signature-only step (AccessTokens.verifySignedOnly) was timed apart
// until 2026-12-05; it is internal, and the fast-jwt line below is the library
// floor of that step.

const MS = sized(1500, 300)
const dir = mkdtempSync(join(tmpdir(), 'wire-auth-bench-tokens-'))
const store = new SqliteAuthStore(join(dir, 'auth.sqlite'))
await store.init()
const { app, idp } = await benchLocalIdp(store)
const { options } = idp
const user = await store.createUser({
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  passwordHash: null,
  claims: [{ type: 'role', value: 'member' }, { type: 'email_verified', value: 'true' }, { type: 'plan', value: 'pro' }],
})
const { access_token: token } = await idp.issueTokens(user)

// Peer: node:crypto on the same token, with the checks a careful hand-written verifier makes.
const jwk = (await idp.jwks()).keys[0]
const publicKey = createPublicKey({ key: jwk, format: 'jwk' })
const nodeAlg = jwk.crv === 'Ed25519' ? null : 'sha256'
function rawVerify(jwt) {
  const first = jwt.indexOf('.')
  const second = jwt.indexOf('.', first + 1)
  const header = JSON.parse(Buffer.from(jwt.slice(0, first), 'base64url').toString())
  if (header.alg !== jwk.alg || header.kid !== jwk.kid || header.typ !== 'at+jwt') return null
  const signature = Buffer.from(jwt.slice(second + 1), 'base64url')
  const ok = cryptoVerify(nodeAlg, Buffer.from(jwt.slice(0, second)), nodeAlg === null ? publicKey : { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)
  if (!ok) return null
  const payload = JSON.parse(Buffer.from(jwt.slice(first + 1, second), 'base64url').toString())
  const now = Date.now() / 1000
  if (payload.iss !== options.issuer || payload.aud !== options.audience || !(payload.exp > now) || !(payload.nbf <= now + 5)) return null
  return payload
}

// The product keeps a verified-token cache (5,000 tokens, oldest out first). To time
// the first sight of a token, cycle through more distinct tokens than it holds:
// every lookup then misses. The repeat figures verify one token over and over.
const DISTINCT = 6000
const fresh = []
for (let i = 0; i < DISTINCT; i++) fresh.push((await idp.issueTokens(user)).access_token)
let next = 0
const nextFresh = () => fresh[next++ % DISTINCT]

// Every path must accept the token before it is timed.
if (rawVerify(token) === null) throw new Error('raw verification rejected the token')
if ((await idp.verifyAccessToken(token)) === null) throw new Error('LocalIdp rejected the token')
if ((await idp.verifyAccessToken(fresh[0])) === null) throw new Error('LocalIdp rejected a fresh token')
const joseKey = publicKey
await jwtVerify(token, joseKey, { issuer: options.issuer, audience: options.audience })
// fast-jwt on its own, with the options the product gives it (it keeps no cache of its own there either).
const fastJwt = createVerifier({
  key: publicKey.export({ type: 'spki', format: 'pem' }),
  algorithms: [jwk.alg],
  allowedIss: options.issuer,
  allowedAud: options.audience,
  checkTyp: 'at+jwt',
  requiredClaims: ['iss', 'aud', 'sub', 'jti', 'iat', 'nbf', 'exp'],
  ignoreExpiration: true,
  ignoreNotBefore: true,
  cache: false,
})
fastJwt(token)

const raw = await opsPerSecond(() => rawVerify(token), { ms: MS })
const full = await opsPerSecond(() => idp.verifyAccessToken(nextFresh()), { ms: MS })
const fast = await opsPerSecond(() => fastJwt(token), { ms: MS })
const jose = await opsPerSecond(() => jwtVerify(token, joseKey, { issuer: options.issuer, audience: options.audience }), { ms: MS })
const cached = await opsPerSecond(() => idp.verifyAccessToken(token), { ms: MS })
const raw2 = await opsPerSecond(() => rawVerify(token), { ms: MS })
const rawRate = (raw + raw2) / 2

const peer = { label: `node:crypto verify of the same ${jwk.alg} token`, value: 1e6 / rawRate }
const perOp = (rate) => 1e6 / rate
const goal = [{ on: 'ratio', op: '<=', target: 1.5, text: '≤ 1.5× node:crypto' }]

report({
  scenario: 'tokens',
  title: `6. Access-token verification (${jwk.alg}, one core)`,
  figures: [
    figure({ label: 'node:crypto verify (peer), verifications/s', value: rawRate, unit: 'ops/s', kind: 'rate' }),
    figure({ label: 'LocalIdp.verifyAccessToken, first sight of a token (fast-jwt signature + claims, denylist, user row)', value: perOp(full), unit: 'µs/op', peer, goals: goal, note: `${Math.round(full).toLocaleString('en-US')} ops/s` }),
    figure({ label: 'fast-jwt verifier alone (same key, product options)', value: perOp(fast), unit: 'µs/op', peer, note: `${Math.round(fast).toLocaleString('en-US')} ops/s` }),
    figure({ label: 'diagnostic: jose jwtVerify alone (same KeyObject; the verifier before fast-jwt)', value: perOp(jose), unit: 'µs/op', peer, note: `${Math.round(jose).toLocaleString('en-US')} ops/s (WebCrypto: async, on the libuv pool)` }),
    figure({ label: 'LocalIdp.verifyAccessToken, repeat of a verified token (product cache hit + denylist + user row)', value: perOp(cached), unit: 'µs/op', peer, goals: goal, note: `${Math.round(cached).toLocaleString('en-US')} ops/s` }),
  ],
  notes: [
    `Token: ${token.length} bytes, header ${JSON.stringify(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()))}; store: SqliteAuthStore on a file.`,
    'Times are per verification, awaited one after the other on one thread; the ratio is against node:crypto.verify of the same token measured in this run (mean of a run before and after the others).',
  ],
})
await app.close()
await store.close()
rmSync(dir, { recursive: true, force: true })
