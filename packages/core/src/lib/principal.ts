/** One statement about a user: `role=admin`, `email_verified=true`. */
export interface Claim {
  readonly type: string
  readonly value: string
}

/** What {@link createPrincipal} takes. */
export interface PrincipalInit {
  userId: string
  name?: string | null
  claims?: readonly Claim[]
  raw?: Readonly<Record<string, unknown>>
}

/**
 * The user a request acts for. Every request has one: anonymous requests get
 * {@link ANONYMOUS}, never `null`.
 */
export class ClaimsPrincipal {
  readonly isAuthenticated: boolean
  readonly userId: string | null
  readonly name: string | null
  readonly claims: readonly Claim[]
  /** Extra, non-authoritative data (e.g. the session id hash, token `jti`). */
  readonly raw: Readonly<Record<string, unknown>>

  /** @internal use {@link createPrincipal} or {@link ANONYMOUS}. */
  constructor(init: { isAuthenticated: boolean; userId: string | null; name: string | null; claims: readonly Claim[]; raw: Readonly<Record<string, unknown>> }) {
    this.isAuthenticated = init.isAuthenticated
    this.userId = init.userId
    this.name = init.name
    this.claims = init.claims
    this.raw = init.raw
  }

  /**
   * True when the principal holds a claim of `type`; with `value`, only when
   * one of them has exactly that value.
   * @example user.hasClaim('role', 'admin')
   */
  hasClaim(type: string, value?: string): boolean {
    for (const claim of this.claims) {
      if (claim.type === type && (value === undefined || claim.value === value)) return true
    }
    return false
  }

  /** Every claim of `type`, in order. */
  findAll(type: string): Claim[] {
    return this.claims.filter((claim) => claim.type === type)
  }

  /** The summary the browser may see: `{ authenticated, id, name }`. */
  toSummary(): PrincipalSummary {
    return { authenticated: this.isAuthenticated, id: this.userId, name: this.name }
  }
}

/** What the browser learns of a principal (`GET /auth/me`, the socket, the context). */
export interface PrincipalSummary {
  authenticated: boolean
  id: string | null
  name: string | null
}

/**
 * Builds a frozen, authenticated principal. Claims are copied and frozen.
 * @example createPrincipal({ userId: 'u1', name: 'Ada', claims: [{ type: 'role', value: 'admin' }] })
 */
export function createPrincipal(init: PrincipalInit): ClaimsPrincipal {
  const claims = Object.freeze((init.claims ?? []).map((c) => Object.freeze({ type: String(c.type), value: String(c.value) })))
  return Object.freeze(
    new ClaimsPrincipal({
      isAuthenticated: true,
      userId: init.userId,
      name: init.name ?? null,
      claims,
      raw: Object.freeze({ ...(init.raw ?? {}) }),
    }),
  )
}

/** The frozen principal of every unauthenticated request. */
export const ANONYMOUS: ClaimsPrincipal = Object.freeze(
  new ClaimsPrincipal({ isAuthenticated: false, userId: null, name: null, claims: Object.freeze([]), raw: Object.freeze({}) }),
)
