import type { ServerResponse } from 'node:http'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import websocket from '@fastify/websocket'
import { html } from '@wire-auth/core'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import type WebSocket from 'ws'
import { connectAuth } from '../src/index.js'
import { LiveClient, SITE } from './live-harness.js'
import { buildApp, signedInUser, tempDir } from './support/app.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/**
 * Full collections until `ref` is gone (or a second has passed). Each
 * collection runs in a new turn before `deref`: a deref keeps its target
 * alive until the end of the current turn.
 */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    gc()
    if (ref.deref() === undefined) return true
  }
  return false
}

let app: FastifyInstance | undefined
let dir: { dir: string; cleanup: () => void } | undefined
const clients: LiveClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.close()
  await app?.close()
  app = undefined
  dir?.cleanup()
  dir = undefined
})

function urlOf(server: FastifyInstance): string {
  const address = server.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return `ws://127.0.0.1:${address.port}/auth/live`
}

async function connect(url: string, cookie?: string): Promise<LiveClient> {
  const client = await LiveClient.connect(url, cookie === undefined ? { origin: SITE } : { origin: SITE, cookie })
  clients.push(client)
  await client.next('principal')
  return client
}

describe('an open live socket does not keep its upgrade response alive', () => {
  it('releases the never-sent upgrade response; keeps the upgrade request, which renders still receive', async () => {
    dir = tempDir()
    app = await buildApp({ sqlitePath: `${dir.dir}/auth.sqlite`, allowedOrigins: [SITE] })
    const responses: Array<WeakRef<ServerResponse>> = []
    const requests: Array<WeakRef<FastifyRequest>> = []
    app.addHook('onRequest', (request, reply, done) => {
      if (request.url === '/auth/live') {
        responses.push(new WeakRef(reply.raw))
        requests.push(new WeakRef(request))
      }
      done()
    })
    let rendered: unknown
    app.fragment('whoami', { authenticated: true }, ({ user, request }) => {
      rendered = request
      return html`<p>${user.name}</p>`
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { cookie } = await signedInUser(app, 'ada@example.com', 'Ada')
    const client = await connect(urlOf(app), cookie)
    client.send({ t: 'mount', regions: [{ id: 'w', kind: 'region', fragment: 'whoami' }] })
    expect(await client.render()).toEqual([{ id: 'w', status: 'allowed', html: '<p>Ada</p>' }])

    expect(responses).toHaveLength(1)
    expect(await collected(responses[0]!)).toBe(true)
    // The documented `request` of live renders is the upgrade's Fastify request, alive as long as the socket.
    gc()
    expect(requests[0]!.deref()).toBeDefined()
    expect(rendered).toBe(requests[0]!.deref())
    rendered = undefined

    // Closed: nothing of it stays either.
    client.ws.close()
    await client.closed
    expect(await collected(requests[0]!)).toBe(true)
  })

  it('one shared error listener per socket still logs, and terminates on errors that are not protocol errors', async () => {
    dir = tempDir()
    app = await buildApp({ sqlitePath: `${dir.dir}/auth.sqlite`, allowedOrigins: [SITE] })
    await app.listen({ port: 0, host: '127.0.0.1' })
    await connect(urlOf(app))
    await connect(urlOf(app))
    const server = [...app.websocketServer.clients] as WebSocket[]
    expect(server).toHaveLength(2)
    const [first, second] = server.map((socket) => socket.listeners('error'))
    expect(first).toHaveLength(1)
    expect(second).toHaveLength(1)
    expect(first![0]).toBe(second![0])

    // A protocol error: ws closes with its own code, the listener only logs (no terminate, no crash).
    const protocol = server[0]!
    protocol.emit('error', Object.assign(new Error('bad frame'), { code: 'WS_ERR_INVALID_OPCODE' }))
    expect(protocol.readyState).toBe(1)
    // Any other error: the socket is terminated.
    const other = server.find((socket) => socket !== protocol)!
    const closed = new Promise((resolve) => other.once('close', resolve))
    other.emit('error', new Error('boom'))
    await closed
    expect(protocol.readyState).toBe(1)
  })

  it('leaves the error handling of an app that registered @fastify/websocket itself untouched', async () => {
    dir = tempDir()
    const seen: Array<{ code: unknown; hasRequest: boolean }> = []
    app = Fastify({ logger: false })
    await app.register(websocket, {
      errorHandler(error, socket, request) {
        seen.push({ code: (error as { code?: unknown }).code, hasRequest: typeof request?.url === 'string' })
        socket.terminate()
      },
    })
    await connectAuth(app, { sqlitePath: `${dir.dir}/auth.sqlite`, allowedOrigins: [SITE] })
    await app.listen({ port: 0, host: '127.0.0.1' })
    await connect(urlOf(app))
    const [socket] = [...app.websocketServer.clients] as WebSocket[]
    expect(socket!.listeners('error')).toHaveLength(1)
    const closed = new Promise((resolve) => socket!.once('close', resolve))
    socket!.emit('error', Object.assign(new Error('x'), { code: 'E_APP' }))
    await closed
    expect(seen).toEqual([{ code: 'E_APP', hasRequest: true }])
  })
})
