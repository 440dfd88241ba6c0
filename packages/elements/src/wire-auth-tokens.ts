/**
 * The served token module (`/wire-auth-tokens.js`), imported by
 * `/wire-auth.js` on the first `WireAuth.signIn()`, `completeSignIn()` or
 * `getToken()`: pages that never ask for a token never download it.
 */
export { completeCodeSignIn, forgetTokens, getToken, renewAt, signInWithCode } from './lib/tokens.js'
