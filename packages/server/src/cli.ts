#!/usr/bin/env node
import cluster from 'node:cluster'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { isWireAuthError } from '@wire-auth/core'
import { runServe } from './lib/cli/serve.js'
import { runAudit, runUser } from './lib/cli/users.js'

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
  wire-auth audit [--user id|email] [--action name] [--limit n]

Options:
  --config file   config module (default ./wire-auth.config.mjs if present,
                  else SQLite at $WIRE_AUTH_SQLITE or ./wire-auth.sqlite)
  --json          machine-readable output (user list, audit)

'user add' reads the password from stdin with --password-stdin, else from
$WIRE_AUTH_PASSWORD, else generates one and prints it once.
`

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
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
      help: { type: 'boolean', short: 'h' },
    },
  })
  const [command, ...rest] = positionals
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(HELP)
    return command === undefined && !values.help ? 1 : 0
  }
  const configFile = values.config ?? (existsSync('wire-auth.config.mjs') ? 'wire-auth.config.mjs' : undefined)
  switch (command) {
    case 'serve':
      return runServe({ configFile, port: values.port, host: values.host, workers: values.workers })
    case 'user':
      return runUser(rest, { configFile, email: values.email, name: values.name, claims: values.claim ?? [], passwordStdin: values['password-stdin'] ?? false, limit: values.limit, json: values.json ?? false, generatePassword: () => randomBytes(18).toString('base64url') })
    case 'audit':
      return runAudit({ configFile, user: values.user, action: values.action, limit: values.limit, json: values.json ?? false })
    default:
      process.stderr.write(`wire-auth: unknown command ${JSON.stringify(command)}\n\n${HELP}`)
      return 1
  }
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
