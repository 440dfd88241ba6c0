// The one `freePort` of the tests and test servers. Plain Node ESM, so that
// .mjs servers (packages/elements/test/backend) and vitest files share it. Types:
// ./free-port.d.mts.
import { createServer } from 'node:net'

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: for a child process
 * or server that must be told its port before it starts (anything that can
 * listen on port 0 itself should).
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
