import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ConfigSyntaxError, InvalidOption, isPlainObject } from '@wire-auth/core'
import { closest } from 'fastest-levenshtein'
import type { LiveOptions, LocalIdpOptions, PagesOptions, SessionOptions } from './options.js'
import type { ServerConfig, ServerConfigExport } from './standalone.js'

// Every key a config file may use. `satisfies Record<keyof …, true>` makes the
// build fail when an option is added to the types but not here, so the list
// cannot drift from the options it checks. Adding an option? Add its key below.
const SERVER_CONFIG_KEYS = {
  port: true,
  host: true,
  staticRoot: true,
  mongoUrl: true,
  redisUrl: true,
  redisChannel: true,
  redisClusterNodes: true,
  fastify: true,
  setup: true,
  store: true,
  sqlitePath: true,
  channel: true,
  allowedOrigins: true,
  publicUrl: true,
  loginUrl: true,
  policies: true,
  policyTimeoutMs: true,
  session: true,
  localIdp: true,
  providers: true,
  live: true,
  serveBundle: true,
  helmet: true,
  pages: true,
  decorators: true,
  metrics: true,
  secret: true,
  mail: true,
  requireVerifiedEmail: true,
  passkeys: true,
} as const satisfies Record<keyof ServerConfig, true>

const PAGES_KEYS = { watch: true } as const satisfies Record<keyof PagesOptions, true>

const SESSION_KEYS = {
  cookieName: true,
  secure: true,
  sameSite: true,
  idleTimeoutMs: true,
  absoluteTimeoutMs: true,
  touchIntervalMs: true,
} as const satisfies Record<keyof SessionOptions, true>

const LIVE_KEYS = {
  maxMessageBytes: true,
  maxRegionsPerSocket: true,
  messagesPerSecond: true,
  pingIntervalMs: true,
  maxSocketsPerAddress: true,
  maxSocketsPerUser: true,
  maxParamsBytesPerSocket: true,
  rendersPerSecond: true,
} as const satisfies Record<keyof LiveOptions, true>

const LOCAL_IDP_KEYS = {
  issuer: true,
  audience: true,
  accessTokenTtl: true,
  refreshTokenTtl: true,
  passwordMinLength: true,
  passwordMaxLength: true,
  allowRegistration: true,
  maxFailuresPerAccount: true,
  lockoutWindowMs: true,
  maxFailuresPerClient: true,
  signingAlg: true,
  rateLimitPerMinute: true,
  argon2: true,
  grants: true,
  refreshFamilyTtl: true,
  clients: true,
  resourceServers: true,
} as const satisfies Record<keyof LocalIdpOptions, true>

const ARGON2_KEYS = { memoryCost: true, timeCost: true, parallelism: true } as const satisfies Record<keyof NonNullable<LocalIdpOptions['argon2']>, true>

function checkKeys(value: unknown, known: Record<string, true>, where: string, file: string): void {
  if (!isPlainObject(value)) return
  const names = Object.keys(known)
  for (const key of Object.keys(value)) {
    if (Object.hasOwn(known, key)) continue
    throw new InvalidOption(`${file}: unknown option "${where}${key}"; did you mean "${where}${closest(key, names)}"?`)
  }
}

/**
 * Refuses keys a config file's options object does not know, naming the
 * nearest valid key (a typo such as `allowedOrigin` would otherwise be
 * ignored silently and fail later, far from its cause). Checks the top level
 * and the nested `session`, `live`, `localIdp` and `localIdp.argon2` objects.
 * @throws `ERR_INVALID_OPTION` naming the unknown key and the nearest valid one
 * @internal
 */
export function checkConfigKeys(config: ServerConfig, file: string): void {
  checkKeys(config, SERVER_CONFIG_KEYS, '', file)
  checkKeys(config.session, SESSION_KEYS, 'session.', file)
  checkKeys(config.live, LIVE_KEYS, 'live.', file)
  checkKeys(config.pages, PAGES_KEYS, 'pages.', file)
  if (isPlainObject(config.localIdp)) {
    checkKeys(config.localIdp, LOCAL_IDP_KEYS, 'localIdp.', file)
    checkKeys(config.localIdp.argon2, ARGON2_KEYS, 'localIdp.argon2.', file)
  }
}

/**
 * Where a syntax error is in `file` (`file:line:column`) and acorn's
 * description of it, found by parsing the file with acorn: Node's own
 * SyntaxError from `import()` names neither file nor line (and other loaders
 * such as vite's throw errors of their own). `undefined` when the file
 * parses (an error then comes from a module the config imports).
 */
async function locateSyntaxError(file: string): Promise<{ where: string; message: string } | undefined> {
  const source = await readFile(file, 'utf8').catch(() => undefined)
  if (source === undefined) return undefined
  const { parse } = await import('acorn')
  try {
    parse(source, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true })
    return undefined
  } catch (err) {
    const loc = (err as { loc?: { line: number; column: number } }).loc
    if (loc === undefined) return undefined
    return { where: `${file}:${loc.line}:${loc.column + 1}`, message: (err as Error).message.replace(/ \(\d+:\d+\)$/, '') }
  }
}

/** Imports a config module and calls its default export when it is a function. */
async function importConfig(file: string): Promise<ServerConfig> {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: ServerConfigExport }
  const exported = mod.default
  const config = typeof exported === 'function' ? await exported() : exported
  if (config === null || typeof config !== 'object') {
    throw new InvalidOption(`config file ${JSON.stringify(file)} must export default an options object or a function returning one`)
  }
  return config
}

/**
 * Loads a config module (`loadConfig`, `wire-auth serve --config`, the other
 * commands): a syntax error names the file and line, unknown keys are
 * refused with the nearest valid name.
 * @throws `ERR_CONFIG_SYNTAX` for a file that does not parse
 * @throws `ERR_INVALID_OPTION` for an unknown key or a default export that is not an options object
 * @internal
 */
export async function loadConfigFile(file: string): Promise<ServerConfig> {
  let config: ServerConfig
  try {
    config = await importConfig(file)
  } catch (err) {
    // Whatever the loader threw, a file that does not parse is named with its line.
    const located = await locateSyntaxError(resolve(file))
    if (located !== undefined) {
      throw new ConfigSyntaxError(`${located.where}: ${err instanceof SyntaxError ? err.message : located.message}`, { cause: err })
    }
    if (err instanceof SyntaxError) throw new ConfigSyntaxError(`${file} (or a module it imports): ${err.message}`, { cause: err })
    throw err
  }
  checkConfigKeys(config, file)
  return config
}
