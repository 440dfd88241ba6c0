// The admin page's buttons. The console itself is server HTML (fragment
// "admin-console"), so this file only wires its buttons to the demo's
// admin API and asks the guard to render again afterwards.
import { post, say } from './api.js'

const guard = document.querySelector('wire-auth-guard')
let revision = 0

/** A new `params` value re-mounts the guard: the server renders the console again. */
function refresh() {
  guard.setAttribute('params', JSON.stringify({ revision: ++revision }))
}

const userUrl = (id) => `/demo/api/users/${encodeURIComponent(id)}`

async function run(action, done) {
  try {
    await action()
    say(done, 'ok')
  } catch (err) {
    say(`${err.message} (${err.code})`, 'error')
  }
  refresh()
}

guard.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-action]') : null
  if (button === null) return
  const { action, userId, type, value } = button.dataset
  const who = button.closest('tr')?.dataset.email || 'the user'
  button.disabled = true
  if (action === 'grant-claim') run(() => post(`${userUrl(userId)}/claims`, { type, value }), `Granted ${type}=${value} to ${who}.`)
  else if (action === 'revoke-claim') run(() => post(`${userUrl(userId)}/claims/revoke`, { type, value }), `Revoked ${type}=${value} from ${who}.`)
  else if (action === 'revoke-sessions') run(() => post(`${userUrl(userId)}/sessions/revoke`), `Signed ${who} out everywhere.`)
})

// Who may read a handbook page: the server changes it and refreshes every open tab itself.
document.addEventListener('change', (event) => {
  const select = event.target
  if (!(select instanceof HTMLSelectElement) || select.dataset.action !== 'set-audience') return
  const docId = select.dataset.docId
  const label = select.selectedOptions[0]?.textContent ?? select.value
  select.disabled = true
  post(`/demo/api/documents/${encodeURIComponent(docId)}/audience`, { audience: select.value })
    .then(() => say(`${docId} is now for ${label}.`, 'ok'))
    .catch((err) => say(`${err.message} (${err.code})`, 'error'))
})

guard.addEventListener('submit', (event) => {
  const form = event.target
  if (!(form instanceof HTMLFormElement) || form.dataset.action !== 'grant-form') return
  event.preventDefault()
  const claim = String(new FormData(form).get('claim') ?? '')
  const at = claim.indexOf('=')
  if (at <= 0) {
    say('Write the claim as type=value, e.g. team=eng.')
    return
  }
  const type = claim.slice(0, at).trim()
  const value = claim.slice(at + 1).trim()
  const who = form.closest('tr')?.dataset.email || 'the user'
  run(() => post(`${userUrl(form.dataset.userId)}/claims`, { type, value }), `Granted ${type}=${value} to ${who}.`)
})
