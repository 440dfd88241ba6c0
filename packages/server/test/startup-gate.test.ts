// startupGate: a server that listens before its app is ready answers 503
// ERR_NOT_READY (and refuses upgrades) until open(); then Fastify answers.
import { createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { startupGate } from '../src/index.js'
import { upgradeOutcome } from '../../../test/support/socket-client.js'

let server: Server | undefined
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
  server = undefined
})

function get(port: number, path: string): Promise<{ status: number; retryAfter?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

const upgrade = (port: number) => upgradeOutcome(`ws://127.0.0.1:${port}/ws`)

describe('startupGate', () => {
  it('503 ERR_NOT_READY with Retry-After before open(), the app after; upgrade listeners see nothing before open()', async () => {
    server = createServer()
    const gate = startupGate(server)
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo

    // Before Fastify even exists.
    const early = await get(port, '/hello')
    expect(early.status).toBe(503)
    expect(early.retryAfter).toBe('1')
    expect(JSON.parse(early.body)).toEqual({ error: { code: 'ERR_NOT_READY', message: expect.any(String) } })

    const app = Fastify({ serverFactory: gate.serverFactory })
    app.get('/hello', async () => ({ hello: 'world' }))
    const upgrades: string[] = []
    const listener = (request: { url?: string }, socket: { destroy(): void }) => {
      upgrades.push(request.url ?? '')
      socket.destroy()
    }
    server.on('upgrade', listener)
    expect(await upgrade(port)).toBe('503')
    expect(upgrades).toEqual([])
    expect((await get(port, '/hello')).status).toBe(503)
    expect(gate.isOpen).toBe(false)

    await app.ready()
    gate.open()
    expect(gate.isOpen).toBe(true)
    const ready = await get(port, '/hello')
    expect(ready.status).toBe(200)
    expect(JSON.parse(ready.body)).toEqual({ hello: 'world' })
    await upgrade(port)
    expect(upgrades).toEqual(['/ws'])

    // removeListener finds a gated listener by the function that was added.
    server.removeListener('upgrade', listener)
    expect(server.listeners('upgrade')).toHaveLength(1)
    await app.close()
  })
})
