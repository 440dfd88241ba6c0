import { closeSync, constants, mkdtempSync, openSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { text } from 'node:stream/consumers'
import { InvalidOption } from '@wire-auth/core'
import type { FastifyBaseLogger } from 'fastify'
import { AccountService } from '../account/account-service.js'
import { createAuthActions } from '../auth-actions.js'
import { escapeControlChars, escapeJsonControlChars } from '../control-chars.js'
import { UserNotFound } from '../errors.js'
import { canonicalEmail } from '../local-idp/email.js'
import { createLocalIdp } from '../local-idp/local-idp.js'
import { resolveOptions } from '../options.js'
import { createSessionManager } from '../sessions.js'
import { channelFor, storeFor } from '../backends.js'
import type { AuthStore, UserRecord } from '../store/auth-store.js'
import { configFrom } from './env-config.js'

/** Flags of `wire-auth user …`. @internal */
export interface UserFlags {
  configFile?: string
  email?: string
  name?: string
  claims: string[]
  passwordStdin: boolean
  limit?: string
  json: boolean
  generatePassword: () => string
}

const out = (line: string) => process.stdout.write(`${line}\n`)
/** Text from the store (names, e-mails, claims, audit details) is escaped before it reaches the terminal (F9). */
const shown = (value: string | null | undefined, none = '-') => (value === null || value === undefined ? none : escapeControlChars(value))
/** `--json` output: JSON.stringify escapes C0 controls; C1, bidi and line separators are escaped too. */
const json = (value: unknown) => escapeJsonControlChars(JSON.stringify(value))

/** A logger for CLI runs: warnings to stderr, nothing else. */
const cliLog = {
  warn: (obj: unknown, msg?: string) => process.stderr.write(`warning: ${escapeControlChars(msg ?? '')} ${json(obj)}\n`),
} as unknown as FastifyBaseLogger

/**
 * Writes a generated password to a new file only its owner can read (0600,
 * in a fresh 0700 directory) and returns its path (C9): a password printed
 * to the terminal stays in scroll-back, CI logs and screen recordings.
 */
function writePasswordFile(password: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'wire-auth-password-'))
  const file = join(dir, 'password')
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
  try {
    writeSync(fd, `${password}\n`)
  } finally {
    closeSync(fd)
  }
  return file
}

function parseClaim(value: string, valueRequired: boolean): { type: string; value?: string } {
  const eq = value.indexOf('=')
  if (eq === -1) {
    if (valueRequired) throw new InvalidOption(`claim ${JSON.stringify(value)} must be written type=value`)
    return { type: value }
  }
  return { type: value.slice(0, eq), value: value.slice(eq + 1) }
}

async function findUser(store: AuthStore, idOrEmail: string | undefined): Promise<UserRecord> {
  if (idOrEmail === undefined) throw new InvalidOption('a user id or e-mail is required')
  const user = idOrEmail.includes('@') ? await store.getUserByEmail(canonicalEmail(idOrEmail)) : await store.getUser(idOrEmail)
  if (user === null) throw new UserNotFound(`no user ${JSON.stringify(idOrEmail)}`)
  return user
}

function limitOf(value: string | undefined): number {
  const n = value === undefined ? 100 : Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidOption('"--limit" must be an integer from 1 to 10000')
  return n
}

async function withStore<T>(configFile: string | undefined, run: (deps: Awaited<ReturnType<typeof open>>) => Promise<T>): Promise<T> {
  const deps = await open(configFile)
  try {
    return await run(deps)
  } finally {
    await deps.channel.close()
    await deps.store.close()
  }
}

async function open(configFile: string | undefined) {
  const config = await configFrom(configFile)
  const options = resolveOptions(config)
  // `user add` works even when the served config has no local IdP: default parameters then.
  const localIdpOptions = options.localIdp ?? resolveOptions({ ...config, localIdp: true }).localIdp!
  const store = await storeFor(config)
  await store.init()
  const channel = await channelFor(config)
  const sessions = createSessionManager({ store, options })
  const actions = createAuthActions({
    store,
    channel,
    sessions,
    log: cliLog,
    audit: async (_request, record) => store.appendAudit({ ...record, at: Date.now(), ip: null, detail: { ...record.detail, via: 'cli' } }),
  })
  return { config, options, localIdpOptions, store, channel, actions }
}

async function readPassword(flags: UserFlags): Promise<{ password: string; generated: boolean }> {
  if (flags.passwordStdin) return { password: (await text(process.stdin)).replace(/\r?\n$/, ''), generated: false }
  if (process.env.WIRE_AUTH_PASSWORD) return { password: process.env.WIRE_AUTH_PASSWORD, generated: false }
  return { password: flags.generatePassword(), generated: true }
}

/** `wire-auth user <sub-command>`. @internal */
export async function runUser(args: string[], flags: UserFlags): Promise<number> {
  const [sub, target, claim] = args
  return withStore(flags.configFile, async ({ store, actions, localIdpOptions, options }) => {
    // The account flows without mail: the CLI prints links, it never sends them.
    const account = () =>
      new AccountService({
        store,
        idp: createLocalIdp({ store, options: localIdpOptions }),
        mailer: null,
        actions,
        audit: async (_request, record) => store.appendAudit({ ...record, at: Date.now(), ip: null, detail: { ...record.detail, via: 'cli' } }),
        log: cliLog,
        requireVerifiedEmail: options.requireVerifiedEmail,
        publicUrl: options.publicUrl,
        resetPasswordUrl: options.mail?.resetPasswordUrl,
      })
    switch (sub) {
      case 'add': {
        // The local IdP's own path: canonical e-mail, name checks, password policy, argon2id.
        const idp = createLocalIdp({ store, options: localIdpOptions })
        const { password, generated } = await readPassword(flags)
        const claims = flags.claims.map((c) => parseClaim(c, true) as { type: string; value: string })
        const user = await idp.createUser({ email: flags.email, name: flags.name ?? null, password, claims })
        const email = user.email
        await store.appendAudit({ at: Date.now(), action: 'user.register', actorId: null, targetId: user.id, detail: { via: 'cli' }, ip: null })
        out(`created user ${user.id} <${shown(email)}>${claims.length ? ` with ${claims.map((c) => `${c.type}=${shown(c.value)}`).join(', ')}` : ''}`)
        if (generated) out(`password: written to ${writePasswordFile(password)} (mode 0600; read it, then delete the file)`)
        return 0
      }
      case 'list': {
        const users = await store.listUsers({ limit: limitOf(flags.limit) })
        if (flags.json) out(json(users.map(({ passwordHash: _p, ...rest }) => rest)))
        else for (const u of users) out(`${u.id}  ${shown(u.email)}  ${shown(u.name)}  ${u.disabled ? '[disabled] ' : ''}${u.claims.map((c) => `${c.type}=${shown(c.value)}`).join(' ')}`)
        return 0
      }
      case 'grant': {
        const user = await findUser(store, target)
        const parsed = parseClaim(claim ?? '', true)
        await actions.grantTo(user.id, parsed.type, parsed.value as string)
        out(`granted ${shown(parsed.type)}=${shown(parsed.value)} to ${user.id}`)
        return 0
      }
      case 'revoke': {
        const user = await findUser(store, target)
        const parsed = parseClaim(claim ?? '', false)
        if (parsed.type === '') throw new InvalidOption('a claim type is required')
        await actions.revokeFrom(user.id, parsed.type, parsed.value)
        out(`revoked ${parsed.value === undefined ? shown(parsed.type) : `${shown(parsed.type)}=${shown(parsed.value)}`} from ${user.id}`)
        return 0
      }
      case 'disable':
      case 'enable': {
        const user = await findUser(store, target)
        await actions.setDisabled(user.id, sub === 'disable')
        out(`${sub}d ${user.id}`)
        return 0
      }
      case 'sessions': {
        const user = await findUser(store, target)
        for (const s of await actions.listSessions(user.id)) out(`${s.id.slice(0, 16)}  created ${new Date(s.createdAt).toISOString()}  last seen ${new Date(s.lastSeenAt).toISOString()}  ${shown(s.ip)}`)
        return 0
      }
      case 'signout': {
        const user = await findUser(store, target)
        out(`ended ${await actions.revokeAllSessions(user.id)} session(s) of ${user.id}`)
        return 0
      }
      case 'verify-email': {
        const user = await findUser(store, target)
        if (user.email === null) throw new InvalidOption(`user ${user.id} has no e-mail address`)
        await account().markVerified(user)
        out(`marked ${shown(user.email)} of ${user.id} verified (email_verified=true)`)
        return 0
      }
      case 'reset-link': {
        const user = await findUser(store, target)
        const link = await account().resetLink(user)
        // The link is a credential for one hour: printed on stdout only, for the operator to hand over.
        out(link)
        process.stderr.write(`one-time link for ${user.id}: valid 1 hour, replaces earlier reset links; hand it to the user over a trusted channel\n`)
        return 0
      }
      default:
        throw new InvalidOption(`unknown user command ${JSON.stringify(sub ?? '')}; see wire-auth --help`)
    }
  })
}

/** `wire-auth audit`. @internal */
export async function runAudit(flags: { configFile?: string; user?: string; action?: string; limit?: string; json: boolean }): Promise<number> {
  return withStore(flags.configFile, async ({ store }) => {
    const userId = flags.user === undefined ? undefined : (await findUser(store, flags.user)).id
    const records = await store.listAudit({ userId, action: flags.action, limit: limitOf(flags.limit) })
    if (flags.json) out(json(records))
    else for (const r of records) out(`${new Date(r.at).toISOString()}  ${shown(r.action).padEnd(16)} actor=${shown(r.actorId)} target=${shown(r.targetId)} ip=${shown(r.ip)} ${json(r.detail)}`)
    return 0
  })
}
