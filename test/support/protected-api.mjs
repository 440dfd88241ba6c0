// A resource server that is not Fastify: plain node:http, verifying wire-auth
// access tokens with jose's createRemoteJWKSet found through discovery, and
// (optionally) asking introspection so a revoked token is refused at once.
// docs/protect-your-api.md shows the same code.
import { createServer } from 'node:http'
import { createRemoteJWKSet, jwtVerify } from 'jose'

/**
 * Starts the API on loopback.
 * @param {{ issuer: string, audience?: string, introspection?: { id: string, secret: string }, allowOrigin?: string }} options
 * @returns {Promise<{ url: string, close(): Promise<void> }>}
 */
export async function startProtectedApi({ issuer, audience = 'wire-auth', introspection, allowOrigin }) {
  const discovery = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json()
  if (discovery.issuer !== issuer) throw new Error(`discovery names issuer ${discovery.issuer}, expected ${issuer}`)
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri))

  async function authenticate(req) {
    const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(req.headers.authorization ?? '')
    if (match === null) return null
    try {
      const { payload } = await jwtVerify(match[1], jwks, { issuer, audience, typ: 'at+jwt', algorithms: ['EdDSA', 'ES256'] })
      if (introspection !== undefined) {
        // Revocation (sign-out everywhere, a revoked token, a disabled user) is only known to wire-auth.
        const answer = await fetch(discovery.introspection_endpoint, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`${introspection.id}:${introspection.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token: match[1] }),
        })
        if (!answer.ok || (await answer.json()).active !== true) return null
      }
      return payload
    } catch {
      return null
    }
  }

  const server = createServer(async (req, res) => {
    if (allowOrigin !== undefined) {
      res.setHeader('access-control-allow-origin', allowOrigin)
      res.setHeader('access-control-allow-headers', 'authorization')
      res.setHeader('vary', 'origin')
    }
    if (req.method === 'OPTIONS') return res.writeHead(204).end()
    const user = await authenticate(req)
    if (user === null) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' })
      return res.end(JSON.stringify({ error: 'unauthorized' }))
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ sub: user.sub, name: user.name ?? null, orders: [] }))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
