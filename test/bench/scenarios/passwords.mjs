// Scenario 7: argon2id at the shipped parameters (LocalIdp defaults), hash
// time p50/p99, and the event loop during a burst of 50 concurrent logins
// (LocalIdp.signIn: throttle check, user lookup, argon2 verify).
import { createPublicKey, verify as cryptoVerify } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { SqliteAuthStore } from '@wire-auth/server'
import { benchLocalIdp } from '../lib/bench-app.mjs'
import { figure, report, sized } from '../lib/result.mjs'
import { summarize } from '../lib/stats.mjs'

const HASHES = sized(30, 6)
const BURST = 50
const dir = mkdtempSync(join(tmpdir(), 'wire-auth-bench-passwords-'))
const store = new SqliteAuthStore(join(dir, 'auth.sqlite'))
await store.init()
const { app, idp } = await benchLocalIdp(store)
const { memoryCost, timeCost, parallelism } = idp.passwords.params

// Hash time, one at a time (what one registration costs).
const password = 'correct horse battery staple 42'
const hashTimes = []
let hash = ''
for (let i = 0; i < HASHES; i++) {
  const start = performance.now()
  hash = await idp.hashPassword(`${password} ${i}`)
  hashTimes.push(performance.now() - start)
}
const verifyTimes = []
for (let i = 0; i < HASHES; i++) {
  const start = performance.now()
  await idp.verifyPassword(hash, `${password} ${HASHES - 1}`)
  verifyTimes.push(performance.now() - start)
}
hash = await idp.hashPassword(password)

// 50 accounts sharing one hash (creating them is not what is measured).
const emails = []
for (let i = 0; i < BURST; i++) {
  const email = `burst${i}@example.com`
  await store.createUser({ email, name: `Burst ${i}`, passwordHash: hash, claims: [] })
  emails.push(email)
}

// Meanwhile, bearer-token verifications keep arriving (one every 2 ms): how long do they wait?
// Peer: node:crypto verify of the same token, which does not use the thread pool.
const token = (await idp.issueTokens(await store.getUserByEmail(emails[0]))).access_token
if ((await idp.verifyAccessToken(token)) === null) throw new Error('token rejected')
const jwk = (await idp.jwks()).keys[0]
const publicKey = createPublicKey({ key: jwk, format: 'jwk' })
const signingInput = Buffer.from(token.slice(0, token.lastIndexOf('.')))
const signature = Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url')
const rawVerify = () => cryptoVerify(jwk.crv === 'Ed25519' ? null : 'sha256', signingInput, jwk.crv === 'Ed25519' ? publicKey : { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)
if (!rawVerify()) throw new Error('raw verification failed')

async function burst() {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  const tokenLatencies = []
  const rawLatencies = []
  let probing = true
  const probe = (async () => {
    for (let i = 0; probing && i < 10_000; i++) {
      let start = performance.now()
      await idp.verifyAccessToken(token)
      tokenLatencies.push(performance.now() - start)
      start = performance.now()
      rawVerify()
      rawLatencies.push(performance.now() - start)
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  })()
  await new Promise((resolve) => setTimeout(resolve, 50))
  histogram.enable()
  const burstStart = performance.now()
  const loginTimes = []
  const results = await Promise.all(
    emails.map(async (email, i) => {
      const start = performance.now()
      const result = await idp.signIn(email, password, `127.0.0.${1 + (i % 200)}`)
      loginTimes.push(performance.now() - start)
      return result
    }),
  )
  const burstMs = performance.now() - burstStart
  histogram.disable()
  probing = false
  await probe
  const failed = results.filter((r) => !r.ok).length
  if (failed > 0) throw new Error(`${failed} logins failed`)
  return {
    burstMs,
    delayP99: histogram.percentile(99) / 1e6,
    delayMax: histogram.max / 1e6,
    login: summarize(loginTimes),
    token: summarize(tokenLatencies),
    raw: summarize(rawLatencies),
  }
}

const shipped = await burst()

const hashStats = summarize(hashTimes)
const verifyStats = summarize(verifyTimes)
const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4)
const loginsPerSecond = (r) => `${(BURST / (r.burstMs / 1000)).toFixed(1)} logins/s`

report({
  scenario: 'passwords',
  title: `7. Passwords: argon2id m=${memoryCost} KiB, t=${timeCost}, p=${parallelism}`,
  figures: [
    figure({ label: `hash time p50 (LocalIdp.hashPassword, ${HASHES} one at a time)`, value: hashStats.p50, unit: 'ms' }),
    figure({ label: 'hash time p99', value: hashStats.p99, unit: 'ms' }),
    figure({ label: 'verify time p50 (one at a time)', value: verifyStats.p50, unit: 'ms' }),
    figure({ label: `burst of ${BURST} concurrent logins: event-loop delay p99`, value: shipped.delayP99, unit: 'ms', goals: [{ op: '<=', target: 10, text: '≤ 10 ms' }], note: `max ${shipped.delayMax.toFixed(1)} ms` }),
    figure({ label: 'burst: all logins done after', value: shipped.burstMs, unit: 'ms', note: `${loginsPerSecond(shipped)}; one login p50 ${shipped.login.p50.toFixed(0)} ms, p99 ${shipped.login.p99.toFixed(0)} ms (queued)` }),
    figure({
      label: 'burst: bearer-token verification (LocalIdp) p99 meanwhile',
      value: shipped.token.p99,
      unit: 'ms',
      peer: { label: 'node:crypto verify of the same token, same moments', value: shipped.raw.p99 },
      note: `p50 ${shipped.token.p50.toFixed(2)} ms over ${shipped.token.n} verifications; node:crypto p99 ${shipped.raw.p99.toFixed(2)} ms`,
    }),
  ],
  notes: [
    `argon2 runs on the libuv thread pool (${threads} threads) on ${availableParallelism()} cores, in at most ${Math.max(1, threads - 1)} slots at a time (PasswordHasher); each hash holds ${Math.round(memoryCost / 1024)} MiB while it runs.`,
    'The event-loop delay is perf_hooks.monitorEventLoopDelay (resolution 1 ms) over the burst only.',
  ],
})
await app.close()
await store.close()
rmSync(dir, { recursive: true, force: true })
