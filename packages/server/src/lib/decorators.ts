import { InvalidOption } from '@wire-auth/core'
import type { FastifyInstance } from 'fastify'
import { DecoratorCollision } from './errors.js'

/**
 * The names wire-auth decorates, each renamable through
 * `options.decorators` (as `@fastify/jwt`'s `decoratorName`), for a host
 * whose other plugins already own one: `request.user` (@fastify/jwt,
 * @fastify/passport), `app.auth` (@fastify/auth).
 */
export interface DecoratorNames {
  /** `request.user`: the principal. */
  user?: string
  /** `request.sessionId`: the hash of the valid session, or null. */
  sessionId?: string
  /** `app.auth`: grants, revocations, sign-in and sign-out ({@link AuthActions}). */
  auth?: string
  /** `app.authStore`. */
  authStore?: string
  /** `app.authChannel`. */
  authChannel?: string
  /** `app.authEngine`: the policy engine. */
  authEngine?: string
  /** `app.requirePolicy(spec)`: a preHandler for the host's routes. */
  requirePolicy?: string
  /** `app.fragment(name, guard, render)`. */
  fragment?: string
  /** `app.localIdp`. */
  localIdp?: string
  /** `app.authProviders`. */
  authProviders?: string
  /** `app.page(url, file, options)`: a served page. */
  page?: string
}

/** Decorator names after defaults. @internal */
export type ResolvedDecoratorNames = Required<DecoratorNames>

const DEFAULTS: ResolvedDecoratorNames = {
  user: 'user',
  sessionId: 'sessionId',
  auth: 'auth',
  authStore: 'authStore',
  authChannel: 'authChannel',
  authEngine: 'authEngine',
  requirePolicy: 'requirePolicy',
  fragment: 'fragment',
  localIdp: 'localIdp',
  authProviders: 'authProviders',
  page: 'page',
}

const REQUEST_KEYS = new Set<keyof DecoratorNames>(['user', 'sessionId'])
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/

/** Marks an app wire-auth was registered on (a second registration is a collision). @internal */
export const kRegistered: unique symbol = Symbol('wire-auth.registered')

/**
 * Applies defaults to `options.decorators`, validates the names, and checks
 * that none is taken on `app` yet, so that a collision is one coded error
 * at registration (naming the option to set) instead of Fastify's
 * `FST_ERR_DEC_ALREADY_PRESENT` halfway through the set-up.
 * @throws InvalidOption `ERR_INVALID_OPTION` for a bad or repeated name.
 * @throws DecoratorCollision `ERR_DECORATOR_COLLISION` for a name already decorated.
 * @internal
 */
export function resolveDecoratorNames(app: FastifyInstance, decorators: unknown): ResolvedDecoratorNames {
  if (decorators !== undefined && (decorators === null || typeof decorators !== 'object' || Array.isArray(decorators))) {
    throw new InvalidOption('"options.decorators" must be an object of decorator → name')
  }
  const given = (decorators ?? {}) as Record<string, unknown>
  const names: ResolvedDecoratorNames = { ...DEFAULTS }
  for (const [key, value] of Object.entries(given)) {
    if (!(key in DEFAULTS)) throw new InvalidOption(`"options.decorators.${key.slice(0, 64)}" is not a wire-auth decorator (known: ${Object.keys(DEFAULTS).join(', ')})`)
    if (value === undefined) continue
    if (typeof value !== 'string' || !IDENTIFIER.test(value)) throw new InvalidOption(`"options.decorators.${key}" must be a JavaScript identifier`)
    names[key as keyof DecoratorNames] = value
  }
  const seen = new Map<string, string>()
  for (const [key, name] of Object.entries(names)) {
    const scope = REQUEST_KEYS.has(key as keyof DecoratorNames) ? 'request' : 'app'
    const previous = seen.get(`${scope}.${name}`)
    if (previous !== undefined) throw new InvalidOption(`"options.decorators.${key}" and "options.decorators.${previous}" both name ${scope}.${name}`)
    seen.set(`${scope}.${name}`, key)
  }

  if (app.hasDecorator(kRegistered)) throw new DecoratorCollision('wire-auth is already registered on this app (register it once; its decorators reach every route)')
  for (const [key, name] of Object.entries(names)) {
    const isRequest = REQUEST_KEYS.has(key as keyof DecoratorNames)
    const taken = isRequest ? app.hasRequestDecorator(name) : app.hasDecorator(name) || name in app
    if (taken) {
      throw new DecoratorCollision(
        `${isRequest ? 'request' : 'app'}.${name} is already decorated by another plugin: give wire-auth's another name with "options.decorators.${key}" (e.g. { decorators: { ${key}: '${suggestion(key)}' } })`,
      )
    }
  }
  return names
}

function suggestion(key: string): string {
  if (key === 'user') return 'principal'
  if (key === 'auth') return 'wireAuth'
  return `wireAuth${key[0]!.toUpperCase()}${key.slice(1)}`
}
