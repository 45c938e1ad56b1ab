/** Where the rules come from; cases cite these. */
export const SRC = {
  product: 'OMS gateway documentation (DESIGN §2: CONNECT only, port 443, server allowlist, events)',
  field2016: '2016 field report (reference/oms-gateway-preview-blog-2016.md): host not in allowedlist_server.txt → 105 after 103',
  connect: 'RFC 9110 §9.3.6 (CONNECT)',
  authority: 'RFC 9110 §9.3.6 + RFC 3986 §3.2 (authority = host:port, no userinfo or path)',
  rfc431: 'RFC 6585 §5 (431 Request Header Fields Too Large)',
  rfc408: 'RFC 9110 §15.5.9 (408 Request Timeout)',
  auth: 'RFC 9110 §11.7.1, §15.5.8 (Proxy-Authorization, 407 + Proxy-Authenticate); product: agents send Basic credentials',
  relay: 'Set-OMSGatewayRelayProxy (product): the gateway CONNECTs through the relay with Proxy-Authorization: Basic',
  tls: 'OMS gateway documentation: passive TLS inspection, TLS 1.0–1.2 (2016) / 1.0–1.3 (today), no SSL; events 105, 106, 107, 402',
  clientCert: 'product: allowedlist_client.txt (client certificate subjects), 105 "Invalid Client certificate"',
  limits: 'omsgw reference limits (docs/gateway.md: maxHeadBytes 8 KiB, headerTimeoutMs, idleTimeoutMs)',
  tunnel: 'RFC 9110 §9.3.6 (the tunnel relays bytes both ways until either side closes)',
  counters: 'product performance counters (Active Client Connection, Connected Client, Rejection Count, Error Count) and event log',
  restart: 'product: allowlist edits apply after the service restarts (2016 field report); omsgw adds reload',
} as const;
