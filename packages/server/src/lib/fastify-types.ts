// The public types of wire-auth's Fastify decorators, and the augmentation of
// Fastify's interfaces. One file, re-exported by the package's index, so a
// consumer's compiler sees `app.fragment`, `app.localIdp`, `request.user`…
// as soon as it imports `@wire-auth/server`.
import type { ClaimRequirement, ClaimsPrincipal, PolicyEngine } from '@wire-auth/core'
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { AuthActions } from './auth-actions.js'
import type { AuthChannel } from './channel/auth-channel.js'
import type { FragmentOptions, FragmentRender } from './fragments/fragment-definition.js'
import type { LocalIdp } from './local-idp/local-idp.js'
import type { ProviderInfo } from './oidc/register-providers.js'
import type { AuthStore } from './store/auth-store.js'

/**
 * The names of the site's policies, for type-checking `requirePolicy`.
 * Empty by default (any string is accepted); declare the names to have a
 * typo rejected by the compiler:
 *
 * @example
 * ```ts
 * declare module '@wire-auth/server' {
 *   interface WireAuthPolicies { AdminOnly: true; CanReadDocument: true }
 * }
 * app.get('/admin', { preHandler: app.requirePolicy('AdminOnly') }, handler)   // ok
 * app.get('/admin', { preHandler: app.requirePolicy('AdminOnyl') }, handler)   // compile error
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface WireAuthPolicies {}

/** A policy name: a key of {@link WireAuthPolicies} once declared, else any string. */
export type PolicyName = [keyof WireAuthPolicies] extends [never] ? string : Extract<keyof WireAuthPolicies, string>

/**
 * What `requirePolicy` accepts: a policy name, `{ policy, redirect? }`,
 * `{ claims }` (all must hold) or `{ authenticated: true }`. Omitted: any
 * signed-in user.
 */
export type RequirePolicySpec =
  | PolicyName
  | { policy: PolicyName; redirect?: string }
  | { claims: ReadonlyArray<ClaimRequirement>; redirect?: string }
  | { authenticated: true; redirect?: string }

/**
 * Builds a preHandler for the host's own routes: 401 `ERR_UNAUTHENTICATED`
 * for anonymous users, 403 `ERR_FORBIDDEN` when the guard denies.
 * @throws `ERR_GUARD_SPEC_INVALID` at the call for a malformed spec.
 */
export type RequirePolicy = (spec?: RequirePolicySpec) => preHandlerAsyncHookHandler

/**
 * `app.fragment(name, guard, render)`: registers a server-side HTML fragment
 * behind a guard. `load` and `render` run only after the guard allowed;
 * `load`'s result is `render`'s `data` (undefined without `load`, and for a
 * denied `bindVerdict` render).
 *
 * @param name 1-128 characters of `[A-Za-z0-9_.:-]`.
 * @param guard Exactly one of `{ policy }`, `{ claims }`, `{ authenticated: true }`,
 *   `{ public: true }`, plus optional `load`, `else`, `bindVerdict`, `redirect`.
 * @param render Returns an `HtmlString` built with `html`.
 * @throws WireAuthError `ERR_FRAGMENT_UNGUARDED` (no guard), `ERR_FRAGMENT_DUPLICATE`,
 *   `ERR_FRAGMENT_INVALID` (bad name, guard or hook).
 * @example
 * ```ts
 * app.fragment('news', { claims: [['role', 'beta']], load: async ({ user }) => ({ headline: await latest(user.userId) }) },
 *   ({ user, data }) => html`<p>Welcome ${user.name}: ${data.headline}</p>`)
 * ```
 */
export interface FragmentRegistration {
  <Data = undefined>(name: string, guard: FragmentOptions<Data, FastifyRequest> & { bindVerdict: true }, render: FragmentRender<Data | undefined, FastifyRequest>): FastifyInstance
  <Data = undefined>(name: string, guard: FragmentOptions<Data, FastifyRequest>, render: FragmentRender<Data, FastifyRequest>): FastifyInstance
}

/** What wire-auth decorates on the app, under the default names (`options.decorators` renames them). */
export interface WireAuthAppDecorators {
  /** Grants, revocations and session control that reach every open tab. */
  auth: AuthActions
  authStore: AuthStore
  authChannel: AuthChannel
  authEngine: PolicyEngine
  /**
   * A preHandler for the host's own routes.
   * @example app.get('/admin/stats', { preHandler: app.requirePolicy('AdminOnly') }, handler)
   */
  requirePolicy: RequirePolicy
  fragment: FragmentRegistration
  /** The local identity provider; null unless `options.localIdp` is configured. */
  localIdp: LocalIdp | null
  /** The configured OpenID providers (what `GET /auth/providers` lists). */
  authProviders: readonly ProviderInfo[]
}

/** What wire-auth decorates on every request, under the default names. */
export interface WireAuthRequestDecorators {
  /** The principal of this request; `ANONYMOUS` when not signed in. Never null. */
  user: ClaimsPrincipal
  /** Hash of the request's valid session, or null (anonymous or bearer token). */
  sessionId: string | null
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The principal of this request; `ANONYMOUS` when not signed in. Never null. */
    user: ClaimsPrincipal
    /** Hash of the request's valid session, or null (anonymous or bearer token). */
    sessionId: string | null
  }
  interface FastifyInstance {
    /** Grants, revocations and session control that reach every open tab. */
    auth: AuthActions
    authStore: AuthStore
    authChannel: AuthChannel
    authEngine: PolicyEngine
    /**
     * A preHandler for the host's own routes: 401 `ERR_UNAUTHENTICATED` for
     * anonymous users, 403 `ERR_FORBIDDEN` when the guard denies.
     * @example app.get('/admin/stats', { preHandler: app.requirePolicy('AdminOnly') }, handler)
     */
    requirePolicy: RequirePolicy
    /** Registers a server-side HTML fragment behind a guard (see {@link FragmentRegistration}). */
    fragment: FragmentRegistration
    /** The local identity provider; null unless `options.localIdp` is configured. */
    localIdp: LocalIdp | null
    /** The configured OpenID providers (what `GET /auth/providers` lists). */
    authProviders: readonly ProviderInfo[]
  }
  interface FastifyContextConfig {
    /**
     * How a route is protected; every wire-auth route says it, and the route
     * table test fails on a route that says neither.
     */
    wireAuth?: 'public' | 'guarded'
  }
}
