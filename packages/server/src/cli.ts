#!/usr/bin/env node
import cluster from 'node:cluster'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { isWireAuthError } from '@wire-auth/core'
import { LAZY_MODULES, bundleInfo } from './lib/bundle-info.js'
// The commands load on use: `serve` needs Fastify and the plugin (about a
// second to load), `user` / `keys` / `audit` only the store, `--version`,
// `--help` and `bundle-info` none of it.

const HELP = `wire-auth — server-authoritative login and authorization

Usage:
  wire-auth serve [--config file] [--port n] [--host h] [--workers n]
  wire-auth user add --email E [--name N] [--claim type=value]... [--password-stdin]
  wire-auth user list [--limit n]
  wire-auth user grant <id|email> <type=value>
  wire-auth user revoke <id|email> <type[=value]>
  wire-auth user disable|enable <id|email>
  wire-auth user sessions <id|email>
  wire-auth user signout <id|email>          end every session of the user
  wire-auth user verify-email <id|email>     mark the user's e-mail address verified
  wire-auth user reset-link <id|email>       print a one-time password-reset link (1 h)
  wire-auth audit [--user id|email] [--action name] [--limit n]
  wire-auth keys rotate [--now]              new token signing key (old tokens stay valid)
  wire-auth keys list                        signing keys and their states
  wire-auth bundle-info [--json]            versioned URL and SRI hash of /wire-auth.js
  wire-auth --version

Options:
  --config file   config module (default ./wire-auth.config.mjs if present,
                  else SQLite at $WIRE_AUTH_SQLITE or ./wire-auth.sqlite)
  --json          machine-readable output (user list, audit)

'user add' reads the password from stdin with --password-stdin (preferred),
else from $WIRE_AUTH_PASSWORD, else generates one and writes it to a new
0600 file whose path it prints.
`

/** Exit code of a usage error (unknown command or option), as the shells' builtins use. */
const USAGE = 2
const USER_COMMANDS = new Set(['add', 'list', 'grant', 'revoke', 'disable', 'enable', 'sessions', 'signout', 'verify-email', 'reset-link'])

function usageError(message: string): number {
  process.stderr.write(`wire-auth: ${message}\n\n${HELP}`)
  return USAGE
}

function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version
}

async function main(argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parse(argv)
  } catch (err) {
    // node:util's ERR_PARSE_ARGS_UNKNOWN_OPTION and friends: a usage error, before any store is opened.
    return usageError(err instanceof Error ? err.message : String(err))
  }
  const { values, positionals } = parsed
  const [command, ...rest] = positionals
  if (values.version) {
    process.stdout.write(`${version()}\n`)
    return 0
  }
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(HELP)
    return command === undefined && !values.help ? USAGE : 0
  }
  const configFile = values.config ?? (existsSync('wire-auth.config.mjs') ? 'wire-auth.config.mjs' : undefined)
  switch (command) {
    case 'serve': {
      const { runServe } = await import('./lib/cli/serve.js')
      return runServe({ configFile, port: values.port, host: values.host, workers: values.workers })
    }
    case 'user': {
      // Checked before the store is opened: a typo never creates a store file.
      if (!USER_COMMANDS.has(rest[0] ?? '')) return usageError(`unknown user command ${JSON.stringify(rest[0] ?? '')}`)
      const { runUser } = await import('./lib/cli/users.js')
      return runUser(rest, { configFile, email: values.email, name: values.name, claims: values.claim ?? [], passwordStdin: values['password-stdin'] ?? false, limit: values.limit, json: values.json ?? false, generatePassword: () => randomBytes(18).toString('base64url') })
    }
    case 'keys': {
      const { KEYS_COMMANDS, runKeys } = await import('./lib/cli/keys.js')
      if (!KEYS_COMMANDS.has(rest[0] ?? '')) return usageError(`unknown keys command ${JSON.stringify(rest[0] ?? '')}`)
      return runKeys(rest, { configFile, now: values.now ?? false, json: values.json ?? false })
    }
    case 'audit': {
      const { runAudit } = await import('./lib/cli/users.js')
      return runAudit({ configFile, user: values.user, action: values.action, limit: values.limit, json: values.json ?? false })
    }
    case 'bundle-info': {
      const info = bundleInfo()
      if (values.json) process.stdout.write(`${JSON.stringify(info)}\n`)
      else {
        const modules = LAZY_MODULES.flatMap((name) => (info[name] === undefined ? [] : [[name, info[name]] as const]))
        const pins = modules.map(([, module]) => `"https://YOUR-BACKEND${module.path}": "${module.integrity}"`).join(', ')
        const importMap = modules.length === 0 ? '' : `<script type="importmap">{ "integrity": { ${pins} } }</script>\n`
        process.stdout.write(
          `version:   ${info.version}\npath:      ${info.path}\nintegrity: ${info.integrity}\n` +
            modules.map(([name, module]) => `${`${name}:`.padEnd(11)}${module.path} ${module.integrity}\n`).join('') +
            `\n${importMap}<script type="module" src="https://YOUR-BACKEND${info.path}" integrity="${info.integrity}" crossorigin="anonymous"></script>\n`,
        )
      }
      return 0
    }
    default:
      return usageError(`unknown command ${JSON.stringify(command)}`)
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      workers: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      claim: { type: 'string', multiple: true },
      'password-stdin': { type: 'boolean' },
      user: { type: 'string' },
      action: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      now: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  })
}

main(process.argv.slice(2)).then(
  (code) => {
    // A serving primary or worker keeps running; commands exit with their code.
    if (code !== -1) process.exitCode = code
  },
  (err: unknown) => {
    const message = isWireAuthError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)
    process.stderr.write(`wire-auth: ${message}\n`)
    process.exitCode = 1
    if (cluster.isWorker) process.exit(1)
  },
)
