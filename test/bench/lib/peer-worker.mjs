// A server process for the stacks users would pick instead of wire-auth,
// driven over IPC like server-worker.mjs. Each does the same work as the
// wire-auth fragment endpoint: cookie → session from SQLite → user → role
// check → ~1 KB escaped render; and, for live updates, a Socket.IO server
// that updates the user row, renders and emits to the user's room.
//
// Each stack is built the way its own docs show it:
//   fastify-session  Fastify 5 + @fastify/cookie + @fastify/session (default rolling: true)
//                    + better-sqlite3-session-store + @fastify/passport
//   express-session  Express 5 + express-session (resave: false, saveUninitialized: false)
//                    + better-sqlite3-session-store + passport
//   socketio         Socket.IO 4 on node:http, sessions read from SQLite in the handshake,
//                    one room per user
// The SQLite files run in WAL mode (better-sqlite3's documented advice for performance).
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import Database from 'better-sqlite3'
import sqliteStoreFactory from 'better-sqlite3-session-store'
import { LOREM } from './bench-app.mjs'
import { loopDelayCommands, serveRequests } from './rpc.mjs'
import { now } from './stats.mjs'

const SECRET = randomBytes(32).toString('hex')
let close = async () => {}
let db = null
let io = null
const stamps = []
/** socketio: user row version per user id, as stored. */
const versions = new Map()

/** What the escape-html package does (Express's own templates use it). */
const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const escapeHtml = (value) => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c])

/** The same ~1 KB card as the wire-auth bench fragment. */
function card(user, item) {
  const i = escapeHtml(item)
  return `<article class="card" data-item="${i}"><h3>Item ${i}</h3><p class="meta">for ${escapeHtml(user.name)} · ${user.claims.length} claims</p><p>${escapeHtml(LOREM)}</p><a href="/items/${i}">Open item ${i}</a></article>`
}

/** The same ~1 KB plan region as the wire-auth bench fragment (carries the row version). */
function plan(version, pro) {
  return `<section class="plan" data-v="${escapeHtml(version)}">${pro ? 'Pro plan' : 'Free plan'}: <p>${escapeHtml(LOREM)}</p></section>`
}

function openDatabase(path) {
  db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec('CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, name TEXT NOT NULL, claims TEXT NOT NULL, version INTEGER NOT NULL)')
  const byId = db.prepare('SELECT id, name, claims, version FROM users WHERE id = ?')
  return (id) => {
    const row = byId.get(id)
    return row === undefined ? null : { id: row.id, name: row.name, version: row.version, claims: JSON.parse(row.claims) }
  }
}

const isMember = (user) => user.claims.some((c) => c.type === 'role' && c.value === 'member')
const itemOf = (raw) => {
  const item = Number(raw)
  return Number.isInteger(item) && item >= 0 ? item : null
}

async function startFastify({ sqlitePath, rolling }) {
  const { default: Fastify } = await import('fastify')
  const { default: fastifyCookie } = await import('@fastify/cookie')
  const { default: fastifySession } = await import('@fastify/session')
  const { Authenticator } = await import('@fastify/passport')
  const loadUser = openDatabase(sqlitePath)
  const SqliteStore = sqliteStoreFactory(fastifySession)
  const app = Fastify({ logger: false })
  const passport = new Authenticator()
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: SECRET,
    cookieName: 'sid',
    cookie: { secure: false, httpOnly: true, sameSite: 'lax', maxAge: 30 * 60_000 },
    rolling,
    saveUninitialized: false,
    store: new SqliteStore({ client: db, expired: { clear: true, intervalMs: 15 * 60_000 } }),
  })
  await app.register(passport.initialize())
  await app.register(passport.secureSession())
  passport.registerUserSerializer(async (user) => user.id)
  passport.registerUserDeserializer(async (id) => loadUser(id))
  app.post('/bench-login', async (request, reply) => {
    const user = loadUser(request.query.user)
    if (user === null) return reply.code(404).send({ error: 'no user' })
    await request.logIn(user)
    return { ok: true }
  })
  app.get('/card', async (request, reply) => {
    const user = request.user
    if (!user) return reply.code(401).send({ error: 'unauthenticated' })
    if (!isMember(user)) return reply.code(403).send({ error: 'forbidden' })
    const item = itemOf(request.query.item)
    if (item === null) return reply.code(400).send({ error: 'bad item' })
    return reply.type('text/html; charset=utf-8').send(card(user, item))
  })
  await app.listen({ port: 0, host: '127.0.0.1', backlog: 4096 })
  close = () => app.close()
  return app.server.address().port
}

async function startExpress({ sqlitePath }) {
  const { default: express } = await import('express')
  const { default: session } = await import('express-session')
  const { default: passport } = await import('passport')
  const loadUser = openDatabase(sqlitePath)
  const SqliteStore = sqliteStoreFactory(session)
  passport.serializeUser((user, done) => done(null, user.id))
  passport.deserializeUser((id, done) => done(null, loadUser(id) ?? false))
  const app = express()
  app.use(
    session({
      secret: SECRET,
      name: 'sid',
      resave: false,
      saveUninitialized: false,
      cookie: { secure: false, httpOnly: true, sameSite: 'lax', maxAge: 30 * 60_000 },
      store: new SqliteStore({ client: db, expired: { clear: true, intervalMs: 15 * 60_000 } }),
    }),
  )
  app.use(passport.session())
  app.post('/bench-login', (req, res, next) => {
    const user = loadUser(req.query.user)
    if (user === null) return res.status(404).json({ error: 'no user' })
    req.login(user, (err) => (err ? next(err) : res.json({ ok: true })))
  })
  app.get('/card', (req, res) => {
    const user = req.user
    if (!user) return res.status(401).json({ error: 'unauthenticated' })
    if (!isMember(user)) return res.status(403).json({ error: 'forbidden' })
    const item = itemOf(req.query.item)
    if (item === null) return res.status(400).json({ error: 'bad item' })
    res.type('html').send(card(user, item))
  })
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  close = () => new Promise((resolve) => server.close(resolve))
  return server.address().port
}

/**
 * The do-it-yourself live peer: the handshake's cookie names a session row,
 * the socket joins the room of its user and gets its plan render; a change
 * updates the user row, renders once and emits to the room.
 */
async function startSocketIo({ sqlitePath }) {
  const { Server } = await import('socket.io')
  const loadUser = openDatabase(sqlitePath)
  db.exec('CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires INTEGER NOT NULL)')
  const sessionUser = db.prepare('SELECT user_id FROM sessions WHERE sid = ? AND expires > ?')
  const server = createServer()
  io = new Server(server, { serveClient: false, transports: ['websocket'], perMessageDeflate: false, cors: { origin: false } })
  io.use((socket, next) => {
    const sid = /(?:^|;\s*)sid=([^;]+)/.exec(socket.handshake.headers.cookie ?? '')?.[1]
    const row = sid === undefined ? undefined : sessionUser.get(sid, Date.now())
    const user = row === undefined ? null : loadUser(row.user_id)
    if (user === null) return next(new Error('unauthenticated'))
    socket.data.user = user
    next()
  })
  io.on('connection', (socket) => {
    const user = socket.data.user
    socket.join(`user:${user.id}`)
    socket.emit('render', plan(user.version, user.claims.some((c) => c.type === 'plan' && c.value === 'pro')))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', 4096, resolve))
  close = () => new Promise((resolve) => io.close(() => resolve()))
  return server.address().port
}

serveRequests({
  clock: () => now(),

  async start({ stack, sqlitePath }) {
    let port
    if (stack === 'fastify-session') port = await startFastify({ sqlitePath, rolling: true })
    else if (stack === 'fastify-session-fixed') port = await startFastify({ sqlitePath, rolling: false })
    else if (stack === 'express-session') port = await startExpress({ sqlitePath })
    else if (stack === 'socketio') port = await startSocketIo({ sqlitePath })
    else throw new Error(`unknown stack ${stack}`)
    return { port, pid: process.pid }
  },

  /**
   * Creates `count` members. HTTP stacks sign each in through their own
   * login route (what their session middleware stores) and return the
   * cookie; the Socket.IO peer writes a session row per user.
   */
  async seed({ count, prefix, port }) {
    const insert = db.prepare('INSERT INTO users (id, name, claims, version) VALUES (?, ?, ?, 1)')
    const out = []
    for (let i = 0; i < count; i++) {
      const id = `${prefix}-${i}`
      insert.run(id, `${prefix} ${i}`, JSON.stringify([{ type: 'role', value: 'member' }]))
      versions.set(id, 1)
      if (io !== null) {
        const sid = randomBytes(32).toString('base64url')
        db.prepare('INSERT INTO sessions (sid, user_id, expires) VALUES (?, ?, ?)').run(sid, id, Date.now() + 30 * 60_000)
        out.push({ userId: id, cookie: `sid=${sid}` })
        continue
      }
      const res = await fetch(`http://127.0.0.1:${port}/bench-login?user=${encodeURIComponent(id)}`, { method: 'POST' })
      const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('sid='))
      if (res.status !== 200 || cookie === undefined) throw new Error(`login of ${id} answered ${res.status}`)
      out.push({ userId: id, cookie })
    }
    return out
  },

  /**
   * Socket.IO peer of server-worker's drive(): at `rate` changes per second,
   * toggles plan=pro of `users` in turn — update the row (claims and
   * version), render, emit to the user's room. Stamps as drive() does.
   */
  async drive({ rate, durationMs, users }) {
    const update = db.prepare('UPDATE users SET claims = ?, version = version + 1 WHERE id = ? RETURNING version')
    const startAt = performance.now()
    const total = Math.floor((rate * durationMs) / 1000)
    let fired = 0
    await new Promise((resolve) => {
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - startAt) * rate) / 1000))
        while (fired < due) {
          const [index, userId] = users[fired % users.length]
          const t0 = now()
          const pro = (versions.get(userId) ?? 1) % 2 === 1
          const claims = [{ type: 'role', value: 'member' }, ...(pro ? [{ type: 'plan', value: 'pro' }] : [])]
          const { version } = update.get(JSON.stringify(claims), userId)
          versions.set(userId, version)
          io.to(`user:${userId}`).emit('render', plan(version, pro))
          stamps.push([index, version, t0, now()])
          fired++
        }
        if (fired >= total) resolve()
        else setTimeout(tick, 1)
      }
      tick()
    })
    return { fired, ms: performance.now() - startAt }
  },

  takeStamps: () => stamps.splice(0, stamps.length),

  sockets: () => (io === null ? 0 : io.engine.clientsCount),

  cpu: () => process.cpuUsage(),

  ...loopDelayCommands(),

  async exit() {
    await close()
    db?.close()
  },
})
