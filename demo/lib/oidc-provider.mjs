// A real OpenID provider (the certified `oidc-provider` package) on
// loopback, for the offline demo and the tests (test/support/oidc-provider.mjs
// re-exports it). Plain Node ESM: no build step,
// importable from .mjs and from vitest. Types: ./oidc-provider.d.mts.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import Provider from 'oidc-provider'

/** Claims every scope maps to (OpenID Connect Core 5.4). */
const SCOPE_CLAIMS = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username', 'picture', 'locale'],
}

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' }
}

function defaultClaims(accountId) {
  const local = String(accountId).toLowerCase().replace(/[^a-z0-9._-]/g, '') || 'user'
  return { email: `${local}@example.test`, email_verified: true, name: String(accountId) }
}

function toClientMetadata(client) {
  if (typeof client?.clientId !== 'string' || !Array.isArray(client.redirectUris)) {
    throw new TypeError('each client needs { clientId, redirectUris[] }')
  }
  const method = client.tokenEndpointAuthMethod ?? (client.clientSecret === undefined ? 'none' : 'client_secret_basic')
  const metadata = {
    client_id: client.clientId,
    redirect_uris: client.redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: method,
  }
  if (client.clientSecret !== undefined) metadata.client_secret = client.clientSecret
  return metadata
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

async function finishInteraction(provider, req, res, autoLogin) {
  const details = await provider.interactionDetails(req, res)
  const { prompt, params, session, grantId } = details
  if (prompt.name === 'login') {
    const accountId = typeof autoLogin === 'function' ? await autoLogin(details) : autoLogin
    await provider.interactionFinished(req, res, { login: { accountId: String(accountId) } }, { mergeWithLastSubmission: false })
    return
  }
  // consent: grant everything that is missing, as a user clicking "Continue" would.
  const grant = grantId ? await provider.Grant.find(grantId) : new provider.Grant({ accountId: session.accountId, clientId: params.client_id })
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '))
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims)
  if (prompt.details.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes)) grant.addResourceScope(indicator, scopes.join(' '))
  }
  await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true })
}

/**
 * Starts oidc-provider on `host` (default 127.0.0.1), port 0 unless given.
 * The server listens before the Provider is built, so the issuer carries
 * the real port. See oidc-provider.d.mts for the options.
 */
export async function startOidcProvider(options = {}) {
  const host = options.host ?? '127.0.0.1'
  const login = options.login ?? 'form'
  if (login !== 'form' && login !== 'auto') throw new TypeError('options.login must be "form" or "auto"')
  const autoLogin = options.autoLogin ?? 'demo-user'
  const clients = options.clients ?? [
    { clientId: options.clientId ?? 'wire-auth-test', clientSecret: options.clientSecret ?? 'wire-auth-test-secret', redirectUris: options.redirectUris ?? [] },
  ]

  const server = createServer()
  await listen(server, options.port ?? 0, host)
  const { port } = server.address()
  const urlHost = host.includes(':') ? `[${host}]` : host
  const issuer = `http://${urlHost}:${port}`

  const accounts = new Map(Object.entries(options.accounts ?? {}))
  const provider = new Provider(issuer, {
    clients: clients.map(toClientMetadata),
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: SCOPE_CLAIMS,
    // oidc-provider's default puts scope claims in userinfo only when an
    // access token is issued; Google and most providers also put them in the ID token.
    conformIdTokenClaims: options.idTokenClaims === false,
    pkce: { required: () => true },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
    features: { devInteractions: { enabled: login === 'form' } },
    ...(login === 'auto' ? { interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` } } : {}),
    async findAccount(_ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return { ...(accounts.get(sub) ?? defaultClaims(sub)), sub }
        },
      }
    },
    ...(options.configuration ?? {}),
  })
  // Errors the provider renders as pages; surface them to whoever is debugging.
  if (options.onError) provider.on('server_error', (_ctx, err) => options.onError(err))

  const callback = provider.callback()
  server.on('request', (req, res) => {
    if (login === 'auto' && req.method === 'GET' && /^\/interaction\/[A-Za-z0-9_-]+$/.test(req.url ?? '')) {
      finishInteraction(provider, req, res, autoLogin).catch((err) => {
        options.onError?.(err)
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
        res.end('interaction failed')
      })
      return
    }
    callback(req, res)
  })

  const sockets = new Set()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  return {
    issuer,
    port,
    provider,
    server,
    clientId: clients[0].clientId,
    clientSecret: clients[0].clientSecret,
    setAccount(accountId, claims) {
      accounts.set(String(accountId), { ...claims })
    },
    close() {
      return new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
    },
  }
}

/**
 * Listens a plain `http.Server` on a free loopback port and returns it with
 * its URL, so a backend can know its public URL (and a provider its
 * redirect URI) before the app is built. Hand the server to Fastify with
 * `serverFactory: (handler) => { server.on('request', handler); return server }`.
 */
export async function listenOnFreePort(host = '127.0.0.1') {
  const server = createServer()
  await listen(server, 0, host)
  const { port } = server.address()
  const urlHost = host.includes(':') ? `[${host}]` : host
  return { server, port, url: `http://${urlHost}:${port}` }
}
