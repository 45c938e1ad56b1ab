/** Big-endian length fields as TLS writes them, for the hand-built hellos of the hostile and conformance suites. */

/** `n` as 2 bytes, big-endian (a TLS uint16). */
export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** `n` as 3 bytes, big-endian (a TLS uint24: handshake lengths). */
export function u24(n: number): Buffer {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}
