/** Number of hash slots of a Redis Cluster. @internal */
export const SLOT_COUNT = 16384

const TABLE = new Uint16Array(256)
for (let i = 0; i < 256; i++) {
  let crc = i << 8
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  TABLE[i] = crc
}

/**
 * The hash slot of a key or shard channel, as Redis Cluster computes it:
 * CRC16 (XModem) of the UTF-8 bytes modulo 16384, over the hash tag
 * (`{…}`, the first non-empty one) when there is one.
 * @internal
 */
export function slotOf(name: string): number {
  let bytes = Buffer.from(name, 'utf8')
  const open = bytes.indexOf(0x7b)
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1)
    if (close > open + 1) bytes = bytes.subarray(open + 1, close)
  }
  let crc = 0
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] as number)
  return crc % SLOT_COUNT
}
