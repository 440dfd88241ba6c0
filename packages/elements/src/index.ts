export { WireAuthGuard } from './lib/wire-auth-guard.js'
export { WireAuthRegion } from './lib/wire-auth-region.js'
export { WireAuthUser } from './lib/wire-auth-user.js'
export { defineWireAuthElements } from './lib/define.js'
export { WireAuth, WireAuthHub } from './lib/hub.js'
export { WireAuthConnection } from './lib/connection.js'
export type { SignInOptions, WireAuthTokenError } from './lib/tokens.js'
export type { RegionClient, RegionSpec } from './lib/connection.js'
export { principalContext, hubContext } from './lib/contexts.js'
export { sanitizeFragment } from './lib/sanitize.js'
export type { RegionRequest, RegionResult, ServerMessage } from '@wire-auth/core'
export type {
  RegionStatus,
  WireAuthChangeDetail,
  WireAuthDeniedDetail,
  WireAuthErrorDetail,
  WireAuthEventMap,
} from './lib/events.js'
export type { PrincipalSummary } from '@wire-auth/core'
