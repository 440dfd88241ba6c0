import { InvalidOption } from '@wire-auth/core'
import { loadConfigFile } from '../config-file.js'
import type { ServerConfig } from '../standalone.js'

/**
 * The environment variables `wire-auth serve` (and the user commands) read,
 * each overriding the same setting of the config file. Empty means unset.
 * @internal
 */
export const SERVE_ENVIRONMENT = {
  WIRE_AUTH_SQLITE: 'sqlitePath',
  WIRE_AUTH_MONGO_URL: 'mongoUrl',
  WIRE_AUTH_REDIS_URL: 'redisUrl',
  WIRE_AUTH_REDIS_CHANNEL: 'redisChannel',
  WIRE_AUTH_REDIS_CLUSTER_NODES: 'redisClusterNodes',
  WIRE_AUTH_PUBLIC_URL: 'publicUrl',
  WIRE_AUTH_ALLOWED_ORIGINS: 'allowedOrigins',
  WIRE_AUTH_LOGIN_URL: 'loginUrl',
  WIRE_AUTH_SECRET: 'secret',
  WIRE_AUTH_STATIC_ROOT: 'staticRoot',
  WIRE_AUTH_LOCAL_IDP: 'localIdp',
  WIRE_AUTH_METRICS: 'metrics',
} as const satisfies Record<string, keyof ServerConfig>

function flag(name: string, value: string): boolean {
  if (/^(true|1|yes|on)$/i.test(value)) return true
  if (/^(false|0|no|off)$/i.test(value)) return false
  throw new InvalidOption(`"${name}" must be true or false, got ${JSON.stringify(value.slice(0, 64))}`)
}

/**
 * `config` with the settings of the `WIRE_AUTH_*` environment variables
 * applied over it (environment wins over the file, as deployment platforms
 * expect). Values are checked by the plugin like any option; this only
 * parses lists and switches.
 * @throws InvalidOption `ERR_INVALID_OPTION` naming the variable for a malformed switch.
 * @internal
 */
export function applyEnvironment(config: ServerConfig, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const out: ServerConfig = { ...config }
  const read = (name: keyof typeof SERVE_ENVIRONMENT): string | undefined => {
    const value = env[name]
    return value === undefined || value.trim() === '' ? undefined : value.trim()
  }
  const strings = ['WIRE_AUTH_SQLITE', 'WIRE_AUTH_MONGO_URL', 'WIRE_AUTH_REDIS_URL', 'WIRE_AUTH_REDIS_CHANNEL', 'WIRE_AUTH_PUBLIC_URL', 'WIRE_AUTH_LOGIN_URL', 'WIRE_AUTH_SECRET', 'WIRE_AUTH_STATIC_ROOT'] as const
  for (const name of strings) {
    const value = read(name)
    if (value !== undefined) (out as Record<string, unknown>)[SERVE_ENVIRONMENT[name]] = value
  }
  const clusterNodes = read('WIRE_AUTH_REDIS_CLUSTER_NODES')
  if (clusterNodes !== undefined) out.redisClusterNodes = clusterNodes.split(/[\s,]+/).filter((node) => node !== '')
  const origins = read('WIRE_AUTH_ALLOWED_ORIGINS')
  if (origins !== undefined) out.allowedOrigins = origins.split(/[\s,]+/).filter((origin) => origin !== '')
  const localIdp = read('WIRE_AUTH_LOCAL_IDP')
  if (localIdp !== undefined) {
    if (flag('WIRE_AUTH_LOCAL_IDP', localIdp)) out.localIdp = typeof config.localIdp === 'object' ? config.localIdp : true
    else delete out.localIdp
  }
  const metrics = read('WIRE_AUTH_METRICS')
  if (metrics !== undefined) {
    // A path ("/internal/metrics") turns them on at that route; true/false as a switch.
    if (metrics.startsWith('/')) out.metrics = { ...(typeof config.metrics === 'object' ? config.metrics : {}), path: metrics }
    else if (flag('WIRE_AUTH_METRICS', metrics)) out.metrics = config.metrics === undefined || config.metrics === false ? true : config.metrics
    else delete out.metrics
  }
  return out
}

/** The config for this process: the file's, or the embedded SQLite default. @internal */
export async function configFrom(configFile: string | undefined): Promise<ServerConfig> {
  // The WIRE_AUTH_* variables override the file's settings; without a file, they are the config.
  if (configFile !== undefined) return applyEnvironment(await loadConfigFile(configFile))
  return applyEnvironment({ sqlitePath: 'wire-auth.sqlite', localIdp: true })
}
