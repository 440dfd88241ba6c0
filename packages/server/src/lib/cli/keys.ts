import { InvalidOption } from '@wire-auth/core'
import { createLocalIdp } from '../local-idp/local-idp.js'
import { resolveOptions } from '../options.js'
import { storeFor } from '../backends.js'
import { configFrom } from './env-config.js'

/** Flags of `wire-auth keys`. @internal */
export interface KeysFlags {
  configFile?: string
  /** `rotate --now`: the new key signs at once (single process, or every worker restarted). */
  now: boolean
  json: boolean
}

/** Sub-commands of `wire-auth keys`. @internal */
export const KEYS_COMMANDS = new Set(['rotate', 'list'])

function out(line: string): void {
  process.stdout.write(`${line}\n`)
}

/**
 * `wire-auth keys rotate [--now]` and `wire-auth keys list`: the local IdP's
 * signing keys in the configured store. A rotated key is published at once
 * and signs after two minutes (every worker re-reads the keys each minute);
 * the old key verifies its tokens until they expire, then leaves the JWKS.
 * @internal
 */
export async function runKeys(args: string[], flags: KeysFlags): Promise<number> {
  const [sub] = args
  if (sub === undefined || !KEYS_COMMANDS.has(sub)) throw new InvalidOption(`unknown keys command ${JSON.stringify(sub ?? '')}`)
  const config = await configFrom(flags.configFile)
  const options = resolveOptions(config)
  const localIdpOptions = options.localIdp ?? resolveOptions({ ...config, localIdp: true }).localIdp!
  const store = await storeFor(config)
  await store.init()
  try {
    const idp = createLocalIdp({ store, options: localIdpOptions })
    if (sub === 'rotate') {
      const key = await idp.rotateSigningKey(flags.now ? 0 : undefined)
      if (flags.json) out(JSON.stringify(key))
      else out(`new signing key ${key.kid} (${key.alg}) signs from ${new Date(key.activatesAt).toISOString()}; the previous key verifies its tokens until they expire`)
      return 0
    }
    const keys = await idp.listSigningKeys()
    if (flags.json) out(JSON.stringify(keys))
    else for (const k of keys) out(`${k.kid.padEnd(36)} ${k.alg.padEnd(6)} ${k.state.padEnd(9)} from ${new Date(k.activatesAt).toISOString()}`)
    return 0
  } finally {
    await store.close()
  }
}
