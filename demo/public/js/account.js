// The account page's buttons; the profile and session list are server HTML
// (fragment "account-sessions") that re-renders live.
import { post, say } from './api.js'

const guard = document.querySelector('wire-auth-guard')
let revision = 0

guard.addEventListener('click', async (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-action]') : null
  if (button === null) return
  button.disabled = true
  try {
    if (button.dataset.action === 'sign-out-everywhere') {
      await post('/demo/api/me/sessions/revoke-all')
      // The socket turns anonymous and the guard sends this tab to the login
      // page by itself; this is only the fallback.
      setTimeout(() => location.assign('/login'), 3000)
    } else if (button.dataset.action === 'end-session') {
      await post(`/demo/api/me/sessions/${encodeURIComponent(button.dataset.sessionId)}/revoke`)
      say('That session is signed out.', 'ok')
      guard.setAttribute('params', JSON.stringify({ revision: ++revision }))
    }
  } catch (err) {
    say(`${err.message} (${err.code})`, 'error')
    button.disabled = false
  }
})
