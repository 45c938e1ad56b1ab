import { ALLOWED_CONTROLS, EXPECTED_REFUSALS, HOSTILE_CASES, acceptedRefusals, clientHello } from '../hostile-cases.js';

describe('hostile case table', () => {
  it('has at least 60 cases with unique ids, bytes and a known refusal each', () => {
    expect(HOSTILE_CASES.length).toBeGreaterThanOrEqual(60);
    const ids = HOSTILE_CASES.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of HOSTILE_CASES) {
      expect(c.request.length).toBeGreaterThan(0);
      for (const kind of acceptedRefusals(c)) {
        expect(EXPECTED_REFUSALS[kind]).toBeDefined();
        expect(EXPECTED_REFUSALS[kind].upstreamConnections).toBe(0);
      }
    }
    expect(ALLOWED_CONTROLS.map((c) => c.id).every((id) => !ids.includes(id))).toBe(true);
  });

  it('covers every category the issue names', () => {
    const cats = new Set(HOSTILE_CASES.map((c) => c.category));
    expect([...cats].sort()).toEqual(['headers', 'injection', 'ip-literal', 'oversize', 'port', 'protocol', 'proxy-auth', 'target-host']);
  });

  it('builds a parseable TLS 1.2 ClientHello record', () => {
    const hello = clientHello('abc.example');
    expect(hello[0]).toBe(0x16); // handshake record
    expect(hello.readUInt16BE(3)).toBe(hello.length - 5);
    expect(hello[5]).toBe(0x01); // ClientHello
    expect(hello.includes(Buffer.from('abc.example'))).toBe(true);
  });
});
