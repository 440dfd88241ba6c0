// The parts of wire-auth a page rarely needs load on first use, so the bundle every page
// pays for stays small (issue 17: 12 KB min+gz). In the served bundle
// (`__WIRE_AUTH_SERVED__`, set by scripts/build.mjs) each is a module served beside it by
// the backend; in the npm build it is a plain dynamic import that the consumer's bundler splits.
declare const __WIRE_AUTH_SERVED__: boolean

/**
 * The URL of the served module `wire-auth-<name>.js` beside `base` (the URL
 * of the module importing it): `wire-auth-<name>@<version>.js` when `base`
 * is itself versioned (`wire-auth@<version>.js`, `wire-auth-ui@<version>.js`:
 * what a page pins with Subresource Integrity), so that the page can pin it
 * too (an import map's `integrity`) and every part stays the same version.
 * @internal
 */
export function chunkUrl(name: string, base: string): string {
  const version = /\/wire-auth(?:-[a-z]+)?@([0-9A-Za-z.+-]+)\.js$/.exec(new URL(base).pathname)?.[1]
  return new URL(version === undefined ? `wire-auth-${name}.js` : `wire-auth-${name}@${version}.js`, base).href
}

/** The token helpers (code flow with PKCE, renewal, `getToken`). */
export type TokensModule = typeof import('./tokens.js')

let tokens: Promise<TokensModule> | undefined
/** Loads the token helpers once (`wire-auth-tokens.js` beside the served bundle). @internal */
export function loadTokens(): Promise<TokensModule> {
  tokens ??= __WIRE_AUTH_SERVED__ ? (import(chunkUrl('tokens', import.meta.url)) as Promise<TokensModule>) : import('./tokens.js')
  return tokens
}

/** `@simplewebauthn/browser`'s passkey ceremony (registration). */
export type WebAuthnModule = Pick<typeof import('@simplewebauthn/browser'), 'startRegistration'>

let webAuthn: Promise<WebAuthnModule> | undefined
/** Loads `@simplewebauthn/browser` once (`wire-auth-webauthn.js` beside the served UI module). @internal */
export function loadWebAuthn(): Promise<WebAuthnModule> {
  webAuthn ??= __WIRE_AUTH_SERVED__ ? (import(chunkUrl('webauthn', import.meta.url)) as Promise<WebAuthnModule>) : import('@simplewebauthn/browser')
  return webAuthn
}
