/**
 * The names the suite CONNECTs to. All under `conformance.test` (RFC 2606 reserves `.test`), routed by
 * the gateway under test to the suite's echo upstream, so a host the gateway should refuse but forwards
 * anyway is seen arriving there.
 */
export const SUFFIX = 'conformance.test';
export const ALLOWED_HOST = `allowed.${SUFFIX}`;
/** Target of the positive-control tunnel each refusal case ends with. */
export const BARRIER_HOST = `barrier.${SUFFIX}`;
/** Punycode of bücher.conformance.test: allowed in its ASCII (A-label) form only. */
export const PUNYCODE_HOST = `xn--bcher-kva.${SUFFIX}`;
export const UNICODE_HOST = `bücher.${SUFFIX}`;
export const FORBIDDEN_HOST = `forbidden.${SUFFIX}`;
export const SUBDOMAIN_HOST = `sub.${ALLOWED_HOST}`;
/** Allowed by the gateway, refused by the suite's relay (403): how a gateway reports a relay's refusal. */
export const RELAY_REFUSED_HOST = `relay-refuses.${SUFFIX}`;

/** Hosts the gateway under test must allow (its server allowlist), besides the workspace's OMS host. */
export const ALLOWLIST = [ALLOWED_HOST, BARRIER_HOST, PUNYCODE_HOST, RELAY_REFUSED_HOST];

/** Subject of the client certificate the gateway's client allowlist must hold (a lone CN entry). */
export const ALLOWED_CLIENT_CN = 'conformance-allowed-client';
export const ALLOWED_CLIENT_SUBJECT = `CN=${ALLOWED_CLIENT_CN}, O=omsgw conformance`;
export const INTRUDER_CLIENT_SUBJECT = 'CN=conformance-intruder, O=omsgw conformance';

/** Default workspace the fake cloud serves during a run (any GUID works; fixed so printed routes stay valid). */
export const DEFAULT_WORKSPACE = '00000000-0000-4000-8000-00000000c0f0';
export const DEFAULT_WORKSPACE_KEY = Buffer.from('omsgw-conformance-shared-key-0001').toString('base64');

export const DEFAULT_PORTS = { cloud: 9555, echo: 9556, relay: 9557 } as const;
