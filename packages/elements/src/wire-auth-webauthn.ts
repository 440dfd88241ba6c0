/**
 * The served passkey module (`/wire-auth-webauthn.js`): the passkey ceremony with
 * `@simplewebauthn/browser`, imported by `/wire-auth-ui.js` only when a user adds a
 * passkey or signs in with one.
 */
export { passkeyCeremony } from './lib/ui/passkey-ceremony.js'
