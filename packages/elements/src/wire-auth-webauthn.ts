/**
 * The served passkey module (`/wire-auth-webauthn.js`): `@simplewebauthn/browser`,
 * imported by `/wire-auth-ui.js` only when the user adds a passkey.
 */
export { startRegistration } from '@simplewebauthn/browser'
