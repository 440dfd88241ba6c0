// A small fetch helper for the demo's pages: JSON in, JSON out, and the
// backend's `{ error: { code, message } }` turned into an Error with `code`.

/** POSTs `body` (JSON) to `url` on this origin; resolves the JSON answer. */
export async function post(url, body) {
  const init = { method: 'POST', credentials: 'same-origin', headers: {} }
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  let response
  try {
    response = await fetch(url, init)
  } catch {
    throw Object.assign(new Error('The server cannot be reached.'), { code: 'ERR_BACKEND_UNREACHABLE' })
  }
  const answer = response.status === 204 ? {} : await response.json().catch(() => ({}))
  if (!response.ok) {
    const error = answer?.error ?? {}
    throw Object.assign(new Error(error.message ?? `HTTP ${response.status}`), { code: error.code ?? 'ERR_INTERNAL' })
  }
  return answer
}

/** Shows `text` in the page's #message box (`kind`: error | ok). */
export function say(text, kind = 'error') {
  const box = document.getElementById('message')
  if (box === null) return
  box.className = `alert ${kind}`
  box.textContent = text
}
