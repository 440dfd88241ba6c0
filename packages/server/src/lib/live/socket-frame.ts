import type { RawData } from 'ws'

// A received frame of the live socket, before the protocol's parser
// (`parseClientMessage` in `@wire-auth/core`) reads it.

/** Size of a received frame in bytes. @internal */
export function frameBytes(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0)
  return data instanceof ArrayBuffer ? data.byteLength : data.length
}

/** A received frame as UTF-8 text. @internal */
export function frameText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  return (data instanceof ArrayBuffer ? Buffer.from(data) : data).toString('utf8')
}
