import { X509Certificate } from 'node:crypto';
import { InputError } from '../../lib/errors.js';
import { ClientAllowlist, compiledClientAllowlist, isClientSubjectAllowed, sameClientSubject, parseClientAllowlist, parseClientSubjectEntry } from '../tls/client-allowlist.js';
import { parseDn, subjectFromNodeX509 } from '../tls/subject.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPENSSL } from './tls-support.js';

const AGENT = 'CN=8e2b1a4c-0000-4000-8000-000000000001, CN=5f3c0d0e-1111-4111-8111-111111111111, OU=Linux Monitoring Agent, O=Microsoft';

describe('subjectFromNodeX509', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'omsgw-subject-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function subjectOf(opensslSubj: string): string {
    const cert = join(dir, 'c.pem');
    execFileSync(OPENSSL, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', cert, '-days', '1', '-subj', opensslSubj], { stdio: 'pipe' });
    return subjectFromNodeX509(new X509Certificate(readFileSync(cert)).subject);
  }

  test('keeps the certificate order (as omsadmin.sh writes it) joined by ", "', () => {
    expect(subjectOf('/CN=ws/CN=guid/OU=Linux Monitoring Agent/O=Microsoft')).toBe('CN=ws, CN=guid, OU=Linux Monitoring Agent, O=Microsoft');
  });

  test('keeps commas inside values escaped and multi-valued RDNs joined by " + "', () => {
    const subject = subjectOf('/CN=a\\, b/O=Org+L=Town');
    expect(subject).toBe('CN=a\\, b, O=Org + L=Town');
    const parsed = parseDn(subject);
    expect(parsed).toEqual({ ok: true, attributes: [{ type: 'CN', value: 'a, b' }, { type: 'O', value: 'org' }, { type: 'L', value: 'town' }] });
  });
});

describe('matching', () => {
  test('an empty list allows any subject', () => {
    expect(isClientSubjectAllowed(AGENT, [])).toBe(true);
    expect(new ClientAllowlist([]).allowsAny).toBe(true);
  });

  test('CN=<workspaceId> matches any subject containing that CN, and only that', () => {
    const list = ['CN=8e2b1a4c-0000-4000-8000-000000000001'];
    expect(isClientSubjectAllowed(AGENT, list)).toBe(true);
    expect(isClientSubjectAllowed('CN=8e2b1a4c-0000-4000-8000-000000000001', list)).toBe(true);
    expect(isClientSubjectAllowed('CN=8e2b1a4c-0000-4000-8000-000000000002, O=Microsoft', list)).toBe(false);
    expect(isClientSubjectAllowed('OU=8e2b1a4c-0000-4000-8000-000000000001', list)).toBe(false);
    // containment is by whole attribute value, not substring
    expect(isClientSubjectAllowed('CN=8e2b1a4c-0000-4000-8000-0000000000011', list)).toBe(false);
  });

  test('a full subject matches the same attributes in any order, case and spacing', () => {
    expect(isClientSubjectAllowed(AGENT, [AGENT])).toBe(true);
    expect(isClientSubjectAllowed(AGENT, ['o=MICROSOFT,ou=linux   monitoring agent ,CN=5F3C0D0E-1111-4111-8111-111111111111;CN=8e2b1a4c-0000-4000-8000-000000000001'])).toBe(true);
  });

  test('a full subject does not match a subset or superset', () => {
    expect(isClientSubjectAllowed(AGENT, ['CN=8e2b1a4c-0000-4000-8000-000000000001, O=Microsoft'])).toBe(false);
    expect(isClientSubjectAllowed('CN=a, O=Microsoft', [`${'CN=a, O=Microsoft'}, C=US`])).toBe(false);
    expect(isClientSubjectAllowed('O=Microsoft', ['O=Microsoft'])).toBe(true);
    expect(isClientSubjectAllowed('O=Microsoft, CN=x', ['O=Microsoft'])).toBe(false);
  });

  test('Windows spellings E= and S= equal OpenSSL emailAddress= and ST=', () => {
    expect(isClientSubjectAllowed('CN=a, emailAddress=a@example.test, ST=Wash', ['S=Wash, E=A@example.test, CN=a'])).toBe(true);
  });

  test('escaped and quoted values', () => {
    expect(isClientSubjectAllowed('CN=a\\, b, O=Org', ['O=Org, CN="a, b"'])).toBe(true);
    expect(isClientSubjectAllowed('CN=a\\2C b, O=Org', ['O=Org, CN=a\\, b'])).toBe(true);
  });

  test('an empty or unparseable subject matches only the empty list', () => {
    expect(isClientSubjectAllowed('', ['CN=a'])).toBe(false);
    expect(isClientSubjectAllowed('', [])).toBe(true);
  });
});

describe('sameClientSubject', () => {
  test('entries equal after normalisation are the same entry', () => {
    expect(sameClientSubject('CN=ws1', ' cn=WS1 ')).toBe(true);
    expect(sameClientSubject('CN=a, O=b', 'O=B;CN=A')).toBe(true);
    expect(sameClientSubject('CN=a, O=b', 'CN=a')).toBe(false);
    expect(sameClientSubject('junk', ' junk ')).toBe(true);
  });
});

describe('compiledClientAllowlist', () => {
  test('reuses the compiled list for the same array and notices in-place changes', () => {
    const entries = ['CN=a'];
    const first = compiledClientAllowlist(entries);
    expect(compiledClientAllowlist(entries)).toBe(first);
    expect(first.allows('CN=b, O=x')).toBe(false);
    entries.push('CN=b');
    const second = compiledClientAllowlist(entries);
    expect(second).not.toBe(first);
    expect(second.allows('CN=b, O=x')).toBe(true);
    entries[0] = 'CN=c';
    expect(compiledClientAllowlist(entries).allows('CN=a')).toBe(false);
  });
});

describe('parseClientAllowlist (allowedlist_client.txt)', () => {
  test('one subject per line; blank lines and # comments ignored; CRLF and BOM tolerated', () => {
    const text = '\uFEFF# agents of workspace 1\r\nCN=ws1\r\n\r\n   # indented comment\nCN=host#1, O=Org\n  CN=x, OU=y  \n';
    expect(parseClientAllowlist(text, 'allowedlist_client.txt')).toEqual(['CN=ws1', 'CN=host#1, O=Org', 'CN=x, OU=y']);
    expect(parseClientAllowlist('', 'f')).toEqual([]);
  });

  test('a bad line is an InputError naming file:line and showing the expected form', () => {
    expect(() => parseClientAllowlist('CN=ok\nnot a subject\n', 'allowedlist_client.txt')).toThrow(
      new InputError(
        'allowedlist_client.txt:2: invalid client certificate subject "not a subject": "not a subject" is not TYPE=value (e.g. CN=myhost); write e.g. "CN=<workspaceId>" or "CN=host, OU=Unit, O=Org"',
      ),
    );
    expect(() => parseClientAllowlist('CN=a, =b', 'f')).toThrow(/f:1: invalid client certificate subject "CN=a, =b": attribute type "" is not a name/);
    expect(() => parseClientAllowlist('CN="open', 'f')).toThrow(/f:1: .*unterminated quoted value for CN/);
    expect(() => parseClientAllowlist('CN=a, O', 'f')).toThrow(/"O" is not TYPE=value/);
  });

  test('parseClientSubjectEntry validates one entry (CLI --client, API)', () => {
    expect(parseClientSubjectEntry('  CN=ws1 ', '--client')).toBe('CN=ws1');
    expect(() => parseClientSubjectEntry(' ', '--client')).toThrow(/--client: empty client certificate subject/);
    expect(() => parseClientSubjectEntry('ws1', '--client')).toThrow(InputError);
  });
});
