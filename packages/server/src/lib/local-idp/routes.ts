import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import type { AccountService } from '../account/account-service.js'
import type { AuthContext } from '../context.js'
import { strictValidatorCompiler } from '../strict-validator.js'
import { registerAuthorizationRoutes } from './authorize-routes.js'
import type { LocalIdp } from './local-idp.js'
import { registerPasswordRoutes } from './password-routes.js'
import { registerTokenRoutes } from './token-routes.js'

/**
 * Mounts the local identity provider's routes: `POST /auth/local/{register,
 * login,token,verify-token,revoke}`, `GET /.well-known/jwks.json` and the
 * authorization code flow (`authorize-routes.ts`).
 *
 * Call it from the plugin after `@fastify/rate-limit` (global: false), the
 * error handler and `@fastify/cookie` are registered, with `idp` initialised
 * (`createAuthContext` does both). The routes live in an encapsulated scope
 * (the form-body parser stays inside).
 * @internal
 */
export async function registerLocalIdp(app: FastifyInstance, ctx: AuthContext, idp: LocalIdp, account: AccountService): Promise<void> {
  await app.register(async function localIdpRoutes(scope) {
    if (!scope.hasDecorator('rateLimit')) await scope.register(rateLimit, { global: false })
    // Wrong types are refused (400), never coerced into strings.
    scope.setValidatorCompiler(strictValidatorCompiler)

    // E-mail and password: register, login (password-routes.ts).
    registerPasswordRoutes(scope, ctx, idp, account)

    // The public keys resource servers verify access tokens with.
    scope.get('/.well-known/jwks.json', { config: { wireAuth: 'public' } }, async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return idp.jwks()
    })

    // Authorization code + PKCE and discovery (authorize-routes.ts).
    await registerAuthorizationRoutes(scope, ctx, idp)

    // Token, introspection, revocation: OAuth-style, JSON or form bodies (token-routes.ts).
    await registerTokenRoutes(scope, ctx, idp, account)
  })
}
