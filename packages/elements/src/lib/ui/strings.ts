/**
 * Every text the UI elements show, in English. Override any of them per
 * element with its `strings` property (`el.strings = { signIn: 'Anmelden' }`);
 * error messages are keyed by the route's error code.
 */
export const DEFAULT_STRINGS = {
  signIn: 'Sign in',
  signUp: 'Create account',
  signInTitle: 'Sign in',
  signUpTitle: 'Create an account',
  toSignUp: 'No account yet? Create one',
  toSignIn: 'Already have an account? Sign in',
  email: 'E-mail',
  password: 'Password',
  name: 'Name',
  passwordHint: 'At least 8 characters; very common passwords are refused.',
  forgotPassword: 'Forgot your password?',
  forgotTitle: 'Reset your password',
  forgotHint: 'We will mail you a link to choose a new password.',
  sendLink: 'Send the link',
  linkSent: 'If an account uses this address, a link to reset its password is on its way.',
  backToSignIn: 'Back to sign in',
  verifyFirst: 'Almost there: open the link we mailed you to confirm your address, then sign in.',
  resetTitle: 'Choose a new password',
  resetSubmit: 'Set the new password',
  passwordReset: 'Your password is changed. Sign in with it.',
  changePassword: 'Change password',
  currentPassword: 'Current password',
  newPassword: 'New password',
  wrongCurrentPassword: 'Your current password is not right.',
  passwordChanged: 'Your password is changed. Your other sessions were signed out.',
  orContinueWith: 'or continue with',
  signInWithPasskey: 'Sign in with a passkey',
  continueWith: 'Sign in with {provider}',
  working: 'Please wait…',
  signedInAs: 'Signed in as {name}',
  signOut: 'Sign out',
  account: 'Account',
  sessions: 'Where you are signed in',
  thisDevice: 'This device',
  unknownDevice: 'Unknown device',
  signedInAt: 'Signed in {date}',
  lastSeen: 'last active {date}',
  endSession: 'Sign out this session',
  sessionEnded: 'That session is signed out.',
  signOutEverywhere: 'Sign out everywhere',
  signInRequired: 'Sign in to see your account.',
  linkedProviders: 'Linked sign-in providers',
  linkedAt: 'Linked {date}',
  passkeys: 'Passkeys',
  noPasskeys: 'No passkeys yet.',
  addPasskey: 'Add a passkey',
  passkeyAdded: 'The passkey is added.',
  passkeyCancelled: 'No passkey was added.',
  passkeyCreated: 'Added {date}',
  lastUsed: 'last used {date}',
  neverUsed: 'never used',
  rename: 'Rename',
  passkeyName: 'Passkey name',
  passkeyRenamed: 'The passkey is renamed.',
  remove: 'Remove',
  passkeyRemoved: 'The passkey is removed.',
  changeEmail: 'Change e-mail',
  newEmail: 'New e-mail',
  emailChangeSent: 'To confirm, open the link we mailed to {email}.',
  loading: 'Loading…',
  errors: {
    ERR_INVALID_CREDENTIALS: 'Wrong e-mail or password.',
    ERR_ACCOUNT_EXISTS: 'An account with this e-mail already exists: sign in instead.',
    ERR_WEAK_PASSWORD: 'This password is too short or too common. Choose another one.',
    ERR_PASSWORD_TOO_LONG: 'This password is too long.',
    ERR_INVALID_EMAIL: 'This e-mail address does not look right.',
    ERR_VALIDATION: 'Please check the form.',
    ERR_RATE_LIMITED: 'Too many attempts. Wait a minute and try again.',
    ERR_USER_DISABLED: 'This account is disabled.',
    ERR_UNAUTHENTICATED: 'You are signed out. Sign in again.',
    ERR_FORBIDDEN: 'You are not allowed to do this.',
    ERR_ORIGIN_NOT_ALLOWED: 'This site is not allowed to talk to the sign-in server.',
    ERR_BODY_TOO_LARGE: 'What you typed is too long.',
    ERR_UNSUPPORTED_MEDIA_TYPE: 'The request was refused. Reload the page and try again.',
    ERR_NOT_FOUND: 'This is not available on this server.',
    ERR_OIDC_CALLBACK_FAILED: 'Signing in with the provider failed. Please try again.',
    ERR_OIDC_STATE_MISMATCH: 'That sign-in attempt expired. Please try again.',
    ERR_PROVIDER_UNAVAILABLE: 'The provider cannot be reached right now.',
    ERR_PROVIDER_NOT_FOUND: 'This sign-in provider is not configured.',
    ERR_STORE_UNAVAILABLE: 'The server is having trouble. Try again in a moment.',
    ERR_NOT_READY: 'The server is starting. Try again in a moment.',
    ERR_BACKEND_UNREACHABLE: 'The server cannot be reached. Check your connection.',
    ERR_INTERNAL: 'Something went wrong on the server. Try again.',
    ERR_EMAIL_NOT_VERIFIED: 'Confirm your e-mail address first: open the link we mailed you.',
    ERR_MAIL_NOT_CONFIGURED: 'This server cannot send mail.',
    ERR_MAIL_UNAVAILABLE: 'The mail could not be sent. Try again later.',
    ERR_LINK_INVALID: 'This link is not valid any more. Ask for a new one.',
    ERR_LINK_EXPIRED: 'This link has expired. Ask for a new one.',
    ERR_PASSKEY_INVALID: 'This passkey could not be checked. Try again.',
    ERR_PASSKEY_NOT_FOUND: 'This passkey no longer exists.',
    ERR_USER_NOT_FOUND: 'This account no longer exists.',
  } as Record<string, string>,
  /** For a code without its own message; `{code}` is replaced. */
  unknownError: 'Something went wrong ({code}).',
}

/** The strings of the UI elements (see {@link DEFAULT_STRINGS}). */
export type WireAuthStrings = typeof DEFAULT_STRINGS

/** Overrides of {@link WireAuthStrings}: any subset, `errors` merged by code. */
export type WireAuthStringOverrides = Partial<Omit<WireAuthStrings, 'errors'>> & { errors?: Record<string, string> }

/** `defaults` with `overrides` applied. @internal */
export function mergeStrings(overrides: WireAuthStringOverrides | undefined): WireAuthStrings {
  if (overrides === undefined) return DEFAULT_STRINGS
  return { ...DEFAULT_STRINGS, ...overrides, errors: { ...DEFAULT_STRINGS.errors, ...overrides.errors } }
}

/** Replaces `{key}` in `text`. @internal */
export function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (all, key: string) => values[key] ?? all)
}

/** The human message of `code`. @internal */
export function messageOf(strings: WireAuthStrings, code: string): string {
  return strings.errors[code] ?? fill(strings.unknownError, { code })
}
