export { connectAuth, wireAuth } from './lib/plugin.js'
export { createServer, loadConfig } from './lib/standalone.js'
export { bundleInfo } from './lib/bundle-info.js'
export type { BundleInfo } from './lib/bundle-info.js'
export type { ServerConfig, ServerConfigExport } from './lib/standalone.js'
export type { WireAuthOptions, LocalIdpOptions, SessionOptions, LiveOptions, PagesOptions } from './lib/options.js'
export type { PageOptions } from './lib/pages/page-routes.js'
export type { AuthActions, RefreshFilter } from './lib/auth-actions.js'
export { SqliteAuthStore } from './lib/store/sqlite-store.js'
export type { SqliteAuthStoreOptions } from './lib/store/sqlite-store.js'
export type {
  AuthStore,
  UserRecord,
  NewUser,
  SessionRecord,
  RefreshTokenRecord,
  SigningKeyRecord,
  AuditRecord,
  ClaimChange,
} from './lib/store/auth-store.js'
export { LocalAuthChannel } from './lib/channel/local-channel.js'
export { OidcProvider } from './lib/oidc/oidc-provider.js'
export type { OidcProviderOptions, AuthProvider, ProviderIdentity, PendingAuthorization } from './lib/oidc/oidc-provider.js'
export { GoogleProvider } from './lib/oidc/google-provider.js'
export type { GoogleProviderOptions } from './lib/oidc/google-provider.js'
export type { ClaimMapper, ProviderClaims } from './lib/oidc/claims-mapping.js'
export type { ProviderInfo } from './lib/oidc/register-providers.js'
export { ProviderNotFound, ProviderUnavailable, OidcStateMismatch, OidcCallbackFailed } from './lib/oidc/errors.js'
export type { AuthChannel, AuthEvent, AuthEventListener } from './lib/channel/auth-channel.js'
export { Unauthenticated, Forbidden, StoreUnavailable, UserNotFound, InvalidClaim, OriginNotAllowed } from './lib/errors.js'
export {
  ANONYMOUS,
  ClaimsPrincipal,
  createPrincipal,
  PolicyEngine,
  createPolicyEngine,
  WireAuthError,
  isWireAuthError,
  html,
  raw,
  HtmlString,
} from '@wire-auth/core'
export type { Claim, PolicyRequirement, PolicyContext, GuardSpec, WireAuthErrorCode } from '@wire-auth/core'
