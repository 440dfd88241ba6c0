export { connectAuth, wireAuth, wireAuthOf } from './lib/plugin.js'
export { principalOf, sessionIdOf } from './lib/request-state.js'
export { securityHeaders, wireAuthHelmetOptions } from './lib/security-headers.js'
export { wireAuthErrorHandler } from './lib/error-handler.js'
export { startupGate } from './lib/startup-gate.js'
export type { StartupGate } from './lib/startup-gate.js'
export type {
  WireAuthPolicies,
  PolicyName,
  RequirePolicy,
  RequirePolicySpec,
  FragmentRegistration,
  WireAuthAppDecorators,
  WireAuthRequestDecorators,
} from './lib/fastify-types.js'
export type { DecoratorNames } from './lib/decorators.js'
export type {
  FragmentOptions,
  FragmentRender,
  FragmentRenderContext,
  FragmentLoadContext,
  FragmentElseContext,
} from './lib/fragments/fragment-definition.js'
export type { LocalIdp } from './lib/local-idp/local-idp.js'
export { createServer, loadConfig } from './lib/standalone.js'
export { bundleInfo } from './lib/bundle-info.js'
export type { BundleInfo, BundleModuleInfo } from './lib/bundle-info.js'
export type { ServerConfig, ServerConfigExport } from './lib/standalone.js'
export type { WireAuthOptions, LocalIdpOptions, SessionOptions, LiveOptions, PagesOptions } from './lib/options.js'
export type { MailOptions } from './lib/mail/mail-options.js'
export { defaultMailTemplates } from './lib/mail/templates.js'
export type { MailTemplates, MailContent, MailRecipient, VerifyEmailData, ResetPasswordData, PasswordChangedData } from './lib/mail/templates.js'
export type { AccountCapabilities } from './lib/account/account-service.js'
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
  IdentityRecord,
} from './lib/store/auth-store.js'
export { LocalAuthChannel } from './lib/channel/local-channel.js'
export { OidcProvider } from './lib/oidc/oidc-provider.js'
export type { OidcProviderOptions, AuthProvider, ProviderIdentity, PendingAuthorization } from './lib/oidc/oidc-provider.js'
export { GoogleProvider } from './lib/oidc/google-provider.js'
export type { GoogleProviderOptions } from './lib/oidc/google-provider.js'
export type { ClaimMapper, ProviderClaims } from './lib/oidc/claims-mapping.js'
export type { ProviderInfo, LinkedIdentityInfo } from './lib/oidc/register-providers.js'
export { ProviderNotFound, ProviderUnavailable, OidcStateMismatch, OidcCallbackFailed } from './lib/oidc/errors.js'
export type { AuthChannel, AuthEvent, AuthEventListener } from './lib/channel/auth-channel.js'
export { Unauthenticated, Forbidden, StoreUnavailable, UserNotFound, UserDisabled, InvalidClaim, OriginNotAllowed, DecoratorCollision } from './lib/errors.js'
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
export type { Claim, ClaimRequirement, PolicyRequirement, PolicyContext, GuardSpec, PrincipalSummary, WireAuthErrorCode } from '@wire-auth/core'
