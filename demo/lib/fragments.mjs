// The demo's server-side HTML. Every fragment names its guard; `load` and
// `render` run only after the guard allowed, and every interpolation goes
// through the auto-escaping `html` tag.
import { html } from '@wire-auth/server'
import { AUDIENCES, DOCUMENTS, audienceOf } from './documents.mjs'

const MAX_USERS = 200

const claimList = (claims) =>
  claims.length === 0 ? html`<span class="muted">none</span>` : claims.map((c) => html`<span class="chip">${c.type}=${c.value}</span> `)

/**
 * Registers the demo's fragments.
 * @param {import('fastify').FastifyInstance} app
 */
export function registerDemoFragments(app) {
  // One region per list item; the policy reads the item id from `params`.
  app.fragment(
    'document',
    { policy: 'CanReadDocument', load: ({ params }) => DOCUMENTS.get(/** @type {string} */ (params.docId)) },
    ({ data }) => html`<p>${data.body}</p><p class="fine">Shown because the server allowed it for you.</p>`,
  )

  // Who may read a document: public, and re-rendered live when an admin changes it.
  app.fragment('document-audience', { public: true }, ({ params }) => {
    const label = typeof params.docId === 'string' ? AUDIENCES.get(audienceOf(params.docId) ?? '')?.label : undefined
    return label === undefined ? html`` : html`For ${label}`
  })

  // The admin's control of those audiences (the demo API changes them and calls app.auth.refresh).
  app.fragment('document-access', { policy: 'AdminOnly' }, () => html`
    <section class="card" data-marker="document-access">
      <div class="card-head">
        <h2>Handbook access</h2>
        <span class="muted">policy <code>CanReadDocument</code> · open tabs follow at once</span>
      </div>
      <table class="users">
        <thead><tr><th>Document</th><th>Who may read it</th></tr></thead>
        <tbody>
          ${[...DOCUMENTS].map(([id, doc]) => html`
            <tr data-doc-id="${id}">
              <td><strong>${doc.title}</strong></td>
              <td><select data-action="set-audience" data-doc-id="${id}" aria-label="Who may read ${doc.title}">
                ${[...AUDIENCES].map(([key, audience]) => html`<option value="${key}" ${key === audienceOf(id) ? 'selected' : ''}>${audience.label}</option>`)}
              </select></td>
            </tr>`)}
        </tbody>
      </table>
    </section>`)

  app.fragment('beta-panel', { claims: [['role', 'beta']] }, ({ user }) => html`
    <div class="beta-panel" data-testid="beta-panel">
      <h3>Beta lab <span class="pill">you are in</span></h3>
      <p>Welcome to the beta, <strong>${user.name ?? 'friend'}</strong>. Live dashboards are switched on for you.</p>
      <div class="bars" aria-hidden="true"><span style="height:40%"></span><span style="height:65%"></span><span style="height:50%"></span><span style="height:85%"></span><span style="height:70%"></span><span style="height:95%"></span></div>
    </div>`)

  // Used by the partner page on another origin (demo/host/index.html).
  app.fragment('hello-card', { authenticated: true }, ({ user, request }) => html`
    <div class="hello-card" data-testid="hello-card">
      <p>Signed in as <strong>${user.name ?? user.userId}</strong>.</p>
      <p class="fine">Rendered by the wire-auth backend for the page at ${request?.headers?.origin ?? 'this origin'}.</p>
    </div>`)

  app.fragment(
    'admin-console',
    {
      policy: 'AdminOnly',
      async load() {
        const users = await app.authStore.listUsers({ limit: MAX_USERS })
        return Promise.all(users.map(async (user) => ({ user, sessions: (await app.auth.listSessions(user.id)).length })))
      },
    },
    ({ data, user: me }) => html`
      <section class="card" data-marker="admin-users-table">
        <div class="card-head">
          <h2>User management</h2>
          <span class="muted">${data.length} user${data.length === 1 ? '' : 's'} · changes reach their open tabs at once</span>
        </div>
        <table class="users">
          <thead><tr><th>User</th><th>Claims</th><th>Sessions</th><th>Actions</th></tr></thead>
          <tbody>
            ${data.map(({ user, sessions }) => html`
              <tr data-user-id="${user.id}" data-email="${user.email ?? ''}">
                <td><strong>${user.name ?? '—'}</strong>${user.id === me.userId ? html` <span class="tag">you</span>` : ''}<br><span class="muted">${user.email ?? 'signed in with a provider'}</span></td>
                <td class="claims">${user.claims.length === 0 ? html`<span class="muted">none</span>` : user.claims.map((c) => html`
                  <span class="chip">${c.type}=${c.value}<button type="button" class="chip-x" data-action="revoke-claim" data-user-id="${user.id}" data-type="${c.type}" data-value="${c.value}" title="Revoke ${c.type}=${c.value}" aria-label="Revoke ${c.type}=${c.value}">×</button></span>`)}</td>
                <td>${sessions}</td>
                <td><div class="actions">
                  ${user.claims.some((c) => c.type === 'role' && c.value === 'beta')
                    ? html`<button type="button" class="button small" data-action="revoke-claim" data-user-id="${user.id}" data-type="role" data-value="beta">Revoke beta</button>`
                    : html`<button type="button" class="button small primary" data-action="grant-claim" data-user-id="${user.id}" data-type="role" data-value="beta">Grant beta</button>`}
                  <form class="inline" data-action="grant-form" data-user-id="${user.id}">
                    <input name="claim" placeholder="team=eng" aria-label="Claim to grant (type=value)" pattern="[A-Za-z0-9_.:/-]+=.+" required>
                    <button type="submit" class="button small">Grant</button>
                  </form>
                  <button type="button" class="button small danger" data-action="revoke-sessions" data-user-id="${user.id}" ${sessions === 0 ? 'disabled' : ''}>Sign out everywhere</button>
                </div></td>
              </tr>`)}
          </tbody>
        </table>
      </section>`,
  )

  app.fragment(
    'account-sessions',
    {
      authenticated: true,
      async load({ user }) {
        // The sessions are listed (and ended) by <wire-auth-account> on the page.
        return { record: await app.authStore.getUser(user.userId) }
      },
    },
    ({ data, user }) => html`
      <section class="card" data-testid="account">
        <h2>Profile</h2>
        <dl class="profile">
          <dt>Name</dt><dd>${user.name ?? '—'}</dd>
          <dt>E-mail</dt><dd>${data.record?.email ?? 'signed in with a provider'}</dd>
          <dt>Claims</dt><dd>${claimList(user.claims)}</dd>
        </dl>
      </section>`,
  )
}
