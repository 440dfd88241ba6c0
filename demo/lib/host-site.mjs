// A second, unrelated web server: the "partner site" of the cross-origin
// set-up. It serves demo/host/ on its own origin; its page loads the bundle
// from the wire-auth backend's origin, exactly as a site on
// www.example.com would load it from auth.example.com.
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../host/', import.meta.url))
const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.svg': 'image/svg+xml' }

/**
 * Starts the partner site on `host:port` (port 0: any free port).
 * `{{BACKEND}}` in its files becomes the backend's public URL.
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function startHostSite({ port, host = '127.0.0.1', hostname = 'localhost', backendUrl }) {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const file = normalize(join(ROOT, path.endsWith('/') ? `${path}index.html` : path))
    const type = TYPES[extname(file)]
    if (req.method !== 'GET' || !file.startsWith(ROOT) || type === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    try {
      const body = (await readFile(file, 'utf8')).replaceAll('{{BACKEND}}', backendUrl)
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body)
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
    }
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const url = `http://${hostname}:${server.address().port}`
  return {
    url,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}
