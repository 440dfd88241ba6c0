// The login page: local IdP sign-in and registration, and one "Sign in
// with …" button per provider the backend lists at GET /auth/providers.
import { resolveSafeRedirect } from '/vendor/wire-auth-core/lib/redirect.js'
import { post, say } from './api.js'

const MESSAGES = {
  ERR_INVALID_CREDENTIALS: 'Wrong e-mail or password.',
  ERR_ACCOUNT_EXISTS: 'An account with this e-mail already exists: sign in instead.',
  ERR_WEAK_PASSWORD: 'This password is too short or too common. Choose another one.',
  ERR_PASSWORD_TOO_LONG: 'This password is too long.',
  ERR_INVALID_EMAIL: 'This e-mail address does not look right.',
  ERR_VALIDATION: 'Please check the form.',
  ERR_RATE_LIMITED: 'Too many attempts. Wait a minute and try again.',
  ERR_USER_DISABLED: 'This account is disabled.',
  ERR_OIDC_CALLBACK_FAILED: 'Signing in with the provider failed. Please try again.',
  ERR_OIDC_STATE_MISMATCH: 'That sign-in attempt expired. Please try again.',
  ERR_PROVIDER_UNAVAILABLE: 'The provider cannot be reached right now.',
  ERR_BACKEND_UNREACHABLE: 'The server cannot be reached.',
}
const messageFor = (code) => MESSAGES[code] ?? `Something went wrong (${code}).`

const query = new URLSearchParams(location.search)
/**
 * Where to go after signing in: only this site, and never back to /login.
 * The check is `resolveSafeRedirect` from @wire-auth/core, the function the
 * server applies to every redirect (it refuses `//evil`, `/\evil`, encoded
 * tricks, `user@host`, other origins…); the guard sends an absolute URL.
 */
function safeReturnTo(value) {
  const target = resolveSafeRedirect(value, { baseOrigin: location.origin, allowedOrigins: [] })
  if (target === null) return '/'
  const url = new URL(target, location.origin)
  return url.pathname === '/login' ? '/' : url.pathname + url.search + url.hash
}
const returnTo = safeReturnTo(query.get('returnTo'))
if (query.has('error')) say(messageFor(query.get('error')))

async function submit(form, url, body) {
  const button = form.querySelector('button[type="submit"]')
  button.disabled = true
  say('')
  try {
    await post(url, body)
    location.assign(returnTo)
  } catch (err) {
    say(messageFor(err.code))
    button.disabled = false
  }
}

document.getElementById('login-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const data = new FormData(event.currentTarget)
  submit(event.currentTarget, '/auth/local/login', { email: data.get('email'), password: data.get('password') })
})

document.getElementById('register-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const data = new FormData(event.currentTarget)
  submit(event.currentTarget, '/auth/local/register', { name: data.get('name'), email: data.get('email'), password: data.get('password') })
})

async function showProviders() {
  const box = document.getElementById('providers')
  let providers = []
  try {
    const response = await fetch('/auth/providers', { credentials: 'same-origin' })
    if (response.ok) providers = (await response.json()).providers ?? []
  } catch {
    return
  }
  if (providers.length === 0) return
  box.replaceChildren(
    ...providers.map((provider) => {
      const link = document.createElement('a')
      link.className = 'button block'
      link.dataset.provider = provider.name
      const url = new URL(provider.loginUrl, location.href)
      url.searchParams.set('returnTo', returnTo)
      link.href = url.href
      link.textContent = `Sign in with ${provider.displayName}`
      return link
    }),
  )
}
showProviders()

// The forms are wired: `method="post"` in the HTML only matters without this script.
for (const form of document.querySelectorAll('#login-form, #register-form')) form.dataset.ready = 'true'
