import { randomBytes } from 'node:crypto';
import { u16, u24 } from '../lib/wire-bytes.js';

/**
 * An SSL 3.0 ClientHello (record and client_version 3.0, no extensions): refused by an OMS gateway
 * under every policy (the product never supported SSL). No library sends one any more, so it is built here.
 */
export function ssl3ClientHello(): Buffer {
  const body = Buffer.concat([
    Buffer.from([0x03, 0x00]), // client_version SSL 3.0
    randomBytes(32),
    Buffer.from([0x00]), // session id
    u16(4),
    Buffer.from([0x00, 0x2f, 0x00, 0x0a]), // TLS_RSA_WITH_AES_128_CBC_SHA, SSL_RSA_WITH_3DES_EDE_CBC_SHA
    Buffer.from([0x01, 0x00]), // compression: null
  ]);
  const handshake = Buffer.concat([Buffer.from([0x01]), u24(body.length), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x00]), u16(handshake.length), handshake]);
}

/**
 * A complete handshake record holding a ClientHello that contradicts itself: its session id claims
 * 200 bytes where 3 follow. Record and message lengths agree, so a parser cannot wait for more; it must reject it.
 */
export function malformedClientHello(): Buffer {
  const body = Buffer.concat([Buffer.from([0x03, 0x03]), randomBytes(32), Buffer.from([200, 0xee, 0xee, 0xee])]);
  const handshake = Buffer.concat([Buffer.from([0x01]), u24(body.length), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(handshake.length), handshake]);
}
