import { WireAuthError } from '@wire-auth/core'
import type { AuthStore, UserRecord } from '../store/auth-store.js'
import { displayNameOf, verifiedEmail } from './claims-mapping.js'
import { codedError, UserDisabled } from '../errors.js'
import { OidcCallbackFailed } from './errors.js'
import type { AuthProvider, ProviderIdentity } from './oidc-provider.js'

/** What {@link linkProviderIdentity} did. @internal */
export interface LinkResult {
  user: UserRecord
  /** True when this login created the user. */
  created: boolean
}

function mapOrFail(provider: AuthProvider, identity: ProviderIdentity): ReturnType<AuthProvider['mapClaims']> {
  try {
    return provider.mapClaims(identity.claims)
  } catch (err) {
    throw new OidcCallbackFailed(`the claims mapping of provider "${provider.name}" threw`, { cause: err })
  }
}

/**
 * Finds or creates the user of an external identity, linked by
 * (issuer, subject) only — never by e-mail. On first login the user is
 * created with the mapped claims (its e-mail column only from a verified
 * e-mail); on later logins only the claim types the provider's mapping owns
 * are replaced, so claims granted through `app.auth` survive.
 *
 * Nothing is written before the mapping ran: a throwing mapping leaves the
 * store untouched.
 *
 * @throws `ERR_USER_DISABLED` (403) for a disabled user, `ERR_ACCOUNT_EXISTS`
 *   (409) when a new identity's verified e-mail belongs to another account,
 *   `ERR_OIDC_CALLBACK_FAILED` when the mapping throws, store errors as-is.
 * @internal
 */
export async function linkProviderIdentity(store: AuthStore, provider: AuthProvider, identity: ProviderIdentity): Promise<LinkResult> {
  const mapped = mapOrFail(provider, identity)
  const linkedId = await store.findIdentity(identity.issuer, identity.subject)
  if (linkedId !== null) {
    const existing = await store.getUser(linkedId)
    if (existing === null) throw codedError('ERR_USER_NOT_FOUND', 'the linked user no longer exists')
    if (existing.disabled) throw new UserDisabled()
    const change = await store.replaceClaimTypes(existing.id, mapped.types, mapped.claims)
    return { user: change.user, created: false }
  }

  const email = verifiedEmail(identity.claims)
  if (email !== null && (await store.getUserByEmail(email)) !== null) {
    // Same e-mail, different identity: linking here would hand that account
    // to whoever controls the e-mail at this provider.
    throw codedError(
      'ERR_ACCOUNT_EXISTS',
      `an account with this e-mail already exists; sign in to it the way it was created`,
    )
  }
  const user = await store.createUser({ email, name: displayNameOf(identity.claims), passwordHash: null, claims: mapped.claims })
  try {
    await store.linkIdentity(identity.issuer, identity.subject, user.id)
  } catch (err) {
    // A concurrent first login of the same identity won the race: use its user.
    if (err instanceof WireAuthError && err.code === 'ERR_STORE_CONFLICT') {
      const winner = await store.findIdentity(identity.issuer, identity.subject)
      const winnerUser = winner === null ? null : await store.getUser(winner)
      if (winnerUser !== null && !winnerUser.disabled) return { user: winnerUser, created: false }
    }
    throw err
  }
  return { user, created: true }
}
