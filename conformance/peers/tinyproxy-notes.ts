/**
 * Why Debian's tinyproxy 1.11, configured as docs/conformance.md shows (Filter allowlist with
 * FilterDefaultDeny, ConnectPort 443, BasicAuth, the suite's relay as Upstream), fails or cannot be
 * graded on these cases. Each note is what the run showed: the suite's verdict, tinyproxy's own log
 * (LogLevel Info), or a raw upstream put in the relay's place to count the bytes tinyproxy forwards.
 */
export const TINYPROXY_NOTES: Record<string, string> = {
  '1.3': 'tinyproxy is an HTTP proxy as well as a tunnel (ConnectPort only limits CONNECT): its log shows "GET http://allowed.conformance.test/" and "Found upstream proxy … for allowed.conformance.test"; the 405 the client sees is the suite\'s relay answering.',
  '1.4': 'as 1.3: the POST and its body are forwarded to the upstream.',
  '1.5': 'tinyproxy takes an origin-form request as a proxy request for the host in its Host header (log: "GET / HTTP/1.1", then "Found upstream proxy … for allowed.conformance.test") and forwards it.',
  '4.1': 'tinyproxy reads a CONNECT target without a port as port 443 and opens the tunnel.',
  '4.3': 'tinyproxy drops the userinfo from the CONNECT target (log: "CONNECT user:secret@allowed.conformance.test:443", then the upstream found "for allowed.conformance.test") and opens the tunnel.',
  '4.4': 'tinyproxy drops the path after host:port in a CONNECT target and opens the tunnel.',
  '5.3': 'the filter rule is matched against the host as written and tinyproxy does not remove a trailing dot (log: Proxying refused on filtered domain "allowed.conformance.test."), so ^allowed\\.conformance\\.test$ refuses it; a rule ending in \\.?$ would admit it.',
  '6.1': 'no head size limit at 100 KiB: tinyproxy forwards the whole head to its upstream (a raw upstream in the relay\'s place received 102,541 bytes of head) and opens the tunnel.',
  '6.2': 'no limit on header fields: the 2,000 fields reach the upstream (33,018 bytes of head at a raw upstream) and the tunnel opens.',
  '7.2': 'wrong credentials are answered "HTTP/1.0 401 Unauthorized" with WWW-Authenticate (a web server\'s challenge) instead of 407 with Proxy-Authenticate; nothing is forwarded, and missing credentials do get 407 (7.1).',
  '9.3': 'tinyproxy does not look inside the tunnel: the SSL 3.0 hello reaches the upstream and its TLS alert comes back.',
  '9.4': 'no TLS inspection: a ClientHello for another name than the CONNECT host passes and the session works.',
  '9.5': 'no client certificate allowlist: the certificate travels inside TLS, which tinyproxy only relays.',
  '9.7': 'no TLS inspection: the malformed hello is forwarded; the upstream\'s alert comes back.',
  '9.8': 'no TLS inspection: plain text is carried like anything else (the echo comes back).',
  '10.3': 'tinyproxy ends the whole tunnel when the client half-closes its side, so the upstream\'s late answer never reaches the client.',
  '11.1': 'needs omsgw\'s management API (reload); tinyproxy rereads its configuration and filter on SIGUSR1 (tinyproxy(8)), which the suite does not drive.',
};
