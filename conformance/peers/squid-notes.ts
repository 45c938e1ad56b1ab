/**
 * Why Debian's squid 5, configured as docs/conformance.md shows (dstdomain allowlist, CONNECT to 443
 * only, the suite's relay as parent), fails or cannot be graded on these cases. Each failure is squid
 * doing what a general-purpose proxy does, not a fault of the suite.
 */
export const SQUID_NOTES: Record<string, string> = {
  '1.3': 'squid is an HTTP proxy as well as a tunnel: a GET in absolute form to an allowed domain is forwarded (here to its parent).',
  '1.4': 'as 1.3: the POST and its body are forwarded; the 405 the client sees is the suite\'s relay answering, not squid refusing.',
  '4.1': 'squid reads a CONNECT target without a port as port 443 and opens the tunnel.',
  '4.4': 'squid drops the path after host:port in a CONNECT target and opens the tunnel.',
  '6.2': 'squid\'s head limit is request_header_max_size (64 KB): 2,000 small fields (about 30 KB) pass. An OMS gateway bounds heads far lower (omsgw: 8 KiB).',
  '7.1': 'this configuration has no proxy authentication; the second configuration (basic_ncsa_auth) grades section 7.',
  '7.2': 'as 7.1.',
  '7.3': 'as 7.1.',
  '9.3': 'squid does not look inside the tunnel: the SSL 3.0 hello reaches the upstream and its TLS alert comes back. TLS checks need ssl_bump, which terminates TLS (not what an OMS gateway does).',
  '9.4': 'no TLS inspection: a ClientHello for another name than the CONNECT host passes and the session works.',
  '9.5': 'no client certificate allowlist: a client certificate squid never sees is not checked.',
  '9.7': 'no TLS inspection: the malformed hello is forwarded; the upstream\'s alert comes back.',
  '9.8': 'no TLS inspection: plain text is carried like anything else (the echo comes back).',
  '10.3': 'squid closes the whole tunnel when the client half-closes its side, so the upstream\'s late answer is lost.',
  '11.1': 'needs omsgw\'s management API (reload); squid reloads with `squid -k reconfigure`, which the suite does not drive.',
};

/** The second squid configuration (basic_ncsa_auth, section 7 only): why a case fails there. */
export const SQUID_AUTH_NOTES: Record<string, string> = {};
