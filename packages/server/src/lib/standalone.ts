import { resolve } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { PolicyEngine } from '@wire-auth/core'
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import type { AuthChannel } from './channel/auth-channel.js'
import { escapeJsonControlChars } from './control-chars.js'
import { wireAuthErrorHandler } from './error-handler.js'
import type { WireAuthOptions } from './options.js'
import { isHtmlPath, registerStaticPages } from './pages/page-routes.js'
import { loadConfigFile } from './config-file.js'
import { connectAuth, kWholeApp } from './plugin.js'
import { channelFor, storeFor } from './backends.js'
import { codedError } from './errors.js'

/**
 * What `wire-auth serve --config <file>` loads: the plugin options plus the
 * server's own. A config module's default export is this object or a
 * function returning it (called once per worker, so each worker opens its own
 * store and channel).
 */
export interface ServerConfig extends WireAuthOptions {
  /** Port to listen on. Default `PORT` or 3000. */
  port?: number
  /** Host to bind. Default `HOST` or 127.0.0.1. */
  host?: string
  /** A folder of static files (the site) served at `/`. */
  staticRoot?: string
  /** MongoDB URL: uses `MongoAuthStore` instead of SQLite. */
  mongoUrl?: string
  /** Redis URL: uses `RedisAuthChannel` to fan out across workers. */
  redisUrl?: string
  /**
   * Pub/sub channel name of the Redis channel (default `wire-auth:events`).
   * Every worker of one deployment uses the same; separate deployments
   * sharing one Redis must not.
   */
  redisChannel?: string
  /**
   * Redis Cluster (Redis ≥ 7) start-up nodes, `redis://[:password@]host:port`
   * URLs of some of its primaries: uses `RedisAuthChannel` with sharded
   * pub/sub, so each user's events go through one shard. Not with `redisUrl`.
   */
  redisClusterNodes?: string[]
  /** Fastify server options (logger, trustProxy, bodyLimit…). */
  fastify?: FastifyServerOptions
  /** Registers the site's fragments, policies and routes. */
  setup?: (app: FastifyInstance, engine: PolicyEngine) => void | Promise<void>
}

/** A config module's default export. */
export type ServerConfigExport = ServerConfig | (() => ServerConfig | Promise<ServerConfig>)

/**
 * Builds a ready-to-listen Fastify app with wire-auth registered and the
 * config's site, fragments and policies set up.
 *
 * @example
 * ```ts
 * const app = await createServer({ localIdp: true, staticRoot: './public', setup(app) { … } })
 * await app.listen({ port: 3000 })
 * ```
 */
/**
 * The logger of `createServer`: `LOG_LEVEL` (default `warn`) unless the
 * config says otherwise, and in every logger configured by options (not a
 * `loggerInstance` of your own) a `streamWrite` hook that escapes the
 * control characters pino leaves raw in its JSON (C1, bidi overrides, line
 * separators): no log line carries them (checklist 30).
 */
function loggerOptions(fastify: FastifyServerOptions | undefined): Pick<FastifyServerOptions, 'logger'> {
  if (fastify?.loggerInstance !== undefined) return {}
  const logger = fastify?.logger ?? { level: process.env.LOG_LEVEL ?? 'warn' }
  if (logger === false) return { logger }
  const base = logger === true ? {} : logger
  return { logger: { ...base, hooks: { ...base.hooks, streamWrite: base.hooks?.streamWrite ?? escapeJsonControlChars } } }
}

export async function createServer(config: ServerConfig): Promise<FastifyInstance> {
  const { port: _port, host: _host, staticRoot, mongoUrl: _m, redisUrl: _r, redisChannel: _c, redisClusterNodes: _rc, fastify, setup, ...options } = config
  const app = Fastify({ bodyLimit: 64 * 1024, frameworkErrors: codedFrameworkError, ...fastify, ...loggerOptions(fastify) })
  const store = await storeFor(config)
  let channel: AuthChannel | undefined
  try {
    channel = await channelFor(config, app.log)
    // The standalone server is wire-auth's own app: its defaults cover the site's routes too.
    const engine = await connectAuth(app, { ...options, store, channel, [kWholeApp]: true } as WireAuthOptions)
    await channelReady(channel, app.log)
    if (staticRoot !== undefined) {
      // HTML files are pages: processed by wire-auth (page guards, in-place
      // regions cut out); the static server never sends one as it is on disk.
      await registerStaticPages(app, resolve(staticRoot))
      await app.register(async function staticSite(site) {
        // The site's other files are public by definition; every route says so (test/security/route-table).
        site.addHook('onRoute', (route) => {
          route.config = { ...route.config, wireAuth: 'public' }
        })
        await site.register(fastifyStatic, { root: resolve(staticRoot), index: false, allowedPath: (path) => !isHtmlPath(path) })
      })
    }
    if (setup !== undefined) await setup(app, engine)
    try {
      // Unknown routes answer coded JSON like every other error (and never echo the URL).
      app.setNotFoundHandler((_request, reply) => reply.send(codedError('ERR_NOT_FOUND', 'no such route')))
    } catch {
      // setup() set its own not-found handler.
    }
    return app
  } catch (err) {
    // A Redis channel left open would keep a failed process alive forever.
    await app.close().catch(() => undefined)
    await channel?.close().catch(() => undefined)
    await store.close().catch(() => undefined)
    throw err
  }
}

/**
 * Answers what Fastify refuses before routing (a malformed URL such as
 * `/a/%E0%A4%A`) with coded JSON; Fastify's default echoes the URL, which
 * may hold a token, and skips every hook.
 */
function codedFrameworkError(_error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  // No hook runs for these: the headers they would set, then the one error handler's answer.
  reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-store')
  wireAuthErrorHandler(codedError('ERR_VALIDATION', 'the request URL is malformed'), request, reply)
}

/** How long {@link createServer} waits for a channel with `ready()` (Redis) to connect. */
const CHANNEL_READY_MS = 5000

/**
 * Waits, bounded, until a channel that can say so (Redis) is subscribed, so
 * that no socket opens before this worker hears the others' events. Serves
 * anyway after the bound: a channel that failed to connect resyncs every
 * socket once it does.
 */
async function channelReady(channel: AuthChannel, log: FastifyInstance['log']): Promise<void> {
  const ready = (channel as { ready?: unknown }).ready
  if (typeof ready !== 'function') return
  let timer: ReturnType<typeof setTimeout> | undefined
  const connected = await Promise.race([
    (ready.call(channel) as Promise<void>).then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(resolve, CHANNEL_READY_MS, false))),
  ])
  clearTimeout(timer)
  if (!connected) log.warn({ code: 'ERR_CHANNEL_UNAVAILABLE' }, `channel not connected after ${CHANNEL_READY_MS} ms; serving anyway, events reach this worker only until it connects`)
}

/**
 * Loads a config module (`.mjs`/`.js` with a default export: the options
 * object, or a function returning it), as `wire-auth serve --config` does.
 * @throws `ERR_INVALID_OPTION` when the file has no usable default export, or
 * uses a key no option has (the message names the nearest valid key)
 * @throws `ERR_CONFIG_SYNTAX` when the file does not parse (the message names `file:line:column`)
 */
export async function loadConfig(file: string): Promise<ServerConfig> {
  return loadConfigFile(file)
}
