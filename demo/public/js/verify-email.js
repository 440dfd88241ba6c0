// The page a verification mail links to (mail.verifyEmailUrl, default
// /account/verify-email): it takes the single-use token out of the URL's
// #fragment and posts it to POST /auth/account/verify-email. The server
// grants email_verified=true through app.auth, so every open tab of the
// account follows by itself; this page only says how it went.

const MESSAGES = {
  ERR_LINK_INVALID:
    'This link is not valid any more: it was used already, a newer link replaced it, or it belongs to another account than the one signed in here.',
  ERR_LINK_EXPIRED: 'This link has expired (links are valid for 24 hours).',
  ERR_RATE_LIMITED: 'Too many attempts. Wait a minute and try again.',
  ERR_MAIL_NOT_CONFIGURED: 'This server sends no mail, so it has no e-mail confirmation.',
}

const status = document.getElementById('verify-status')
const error = document.getElementById('verify-error')
const next = document.getElementById('verify-next')
const resend = document.getElementById('verify-resend')

async function post(path, body) {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' })
  const payload = await response.json().catch(() => ({}))
  return { status: response.status, ok: response.ok, body: payload }
}

function fail(code) {
  status.textContent = 'Your address is not confirmed.'
  error.textContent = MESSAGES[code] ?? `Something went wrong (${code ?? 'no answer'}).`
  error.hidden = false
}

async function offerResend() {
  const me = await fetch('/auth/me', { credentials: 'same-origin' }).then((r) => r.json()).catch(() => null)
  if (me?.authenticated !== true) {
    status.textContent = 'Your address is not confirmed. Sign in to ask for a new link.'
    return
  }
  resend.hidden = false
  resend.querySelector('button').addEventListener('click', async (event) => {
    event.currentTarget.disabled = true
    const sent = await post('/auth/account/verify-email/send', {})
    error.hidden = true
    if (sent.status === 202) status.textContent = 'A new link is on its way to your address.'
    else if (sent.ok) status.textContent = 'Your address is confirmed already.'
    else fail(sent.body?.error?.code)
  })
}

const token = new URLSearchParams(location.hash.slice(1)).get('token')
// The token leaves the address bar (and the history entry) at once.
if (location.hash !== '') history.replaceState(null, '', location.pathname + location.search)

if (token === null || token === '') {
  status.textContent = 'This page opens from the link in the confirmation mail.'
  await offerResend()
} else {
  const result = await post('/auth/account/verify-email', { token })
  if (result.ok) {
    status.textContent = `Confirmed: ${result.body.user.email} is your address. Every tab you have open follows.`
    next.hidden = false
  } else {
    fail(result.body?.error?.code)
    await offerResend()
  }
}
