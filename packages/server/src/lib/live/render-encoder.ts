import { hash as digest } from 'node:crypto'
import { RENDER_MESSAGE } from '@wire-auth/core'

// The wire encoder of the live socket's `render` message (docs/protocol.md):
// each region result serialised once, copied into every message that carries it.
// The shape (a result's JSON, the message frame) is core's (lib/protocol/server-message.ts);
// this file turns it into bytes.

/**
 * A region result serialised once: `body` is the UTF-8 of the JSON object
 * without its leading `{` and the id. Encoded once here and copied into every
 * message that carries it (hashing a string and encoding the whole message
 * again cost two UTF-8 passes over the HTML).
 */
export class RenderedRegion {
  readonly body: Buffer
  /** Unique within its batch: two sends of the same (id, seq) list carry the same bytes. */
  readonly seq: number
  #hash: string | null = null

  constructor(body: Buffer, seq: number) {
    this.body = body
    this.seq = seq
  }

  /**
   * SHA-256 of `body` (one-shot, no Hash object), computed on first use: a
   * mount sends first and hashes after, a change compares before sending.
   */
  get hash(): string {
    return (this.#hash ??= digest('sha256', this.body, 'base64url'))
  }
}

/** The bytes of a result body (core's `regionResultBody`). @internal */
export function encodeBody(body: string, seq: number): RenderedRegion {
  return new RenderedRegion(Buffer.from(body), seq)
}

const RENDER_OPEN = Buffer.from(RENDER_MESSAGE.open)
const RENDER_CLOSE = Buffer.from(RENDER_MESSAGE.close)

/**
 * `{"t":"render","regions":[{"id":…,<body>},…]}` as one Buffer, copying each
 * region's encoded body. Ids match `[A-Za-z0-9_:.-]` (checked when the region
 * was parsed), so they need no escaping and are one byte per character.
 * @internal
 */
export function renderMessage(ids: readonly string[], rendered: readonly RenderedRegion[]): Buffer {
  let size = RENDER_OPEN.length + RENDER_CLOSE.length + Math.max(0, ids.length - 1)
  for (let i = 0; i < ids.length; i++) size += 9 + ids[i].length + rendered[i].body.length
  // Zero-filled, and every byte is written below: nothing from other memory can reach a client.
  const out = Buffer.alloc(size)
  let at = RENDER_OPEN.copy(out, 0)
  for (let i = 0; i < ids.length; i++) {
    if (i > 0) out[at++] = 0x2c // ,
    at += out.write(`{"id":"${ids[i]}",`, at, 'latin1')
    at += rendered[i].body.copy(out, at)
  }
  at += RENDER_CLOSE.copy(out, at)
  if (at !== size) throw new Error(`render message: wrote ${at} of ${size} bytes`)
  return out
}
