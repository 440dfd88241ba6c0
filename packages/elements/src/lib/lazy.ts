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

/** The passkey ceremony with `@simplewebauthn/browser`. */
export type WebAuthnModule = typeof import('./ui/passkey-ceremony.js')

let webAuthn: Promise<WebAuthnModule> | undefined
/** Loads the passkey ceremony once (`wire-auth-webauthn.js` beside the served UI module). @internal */
export function loadWebAuthn(): Promise<WebAuthnModule> {
  webAuthn ??= __WIRE_AUTH_SERVED__ ? (import(chunkUrl('webauthn', import.meta.url)) as Promise<WebAuthnModule>) : import('./ui/passkey-ceremony.js')
  return webAuthn
}

/**
 * A passkey ceremony (see `passkeyCeremony`): null when the user cancelled;
 * `ERR_BACKEND_UNREACHABLE` when the module itself did not load.
 * @internal
 */
export function passkey(origin: string, kind: 'register' | 'login', name?: string): ReturnType<WebAuthnModule['passkeyCeremony']> {
  return loadWebAuthn().then(
    (module) => module.passkeyCeremony(origin, kind, name),
    () => ({ ok: false, code: 'ERR_BACKEND_UNREACHABLE', status: 0 }),
  )
}
