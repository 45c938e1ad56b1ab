/**
 * Distinguished names as people write them (`CN=ws, CN=guid, OU=Linux Monitoring Agent, O=Microsoft`)
 * and as Node prints them (`X509Certificate.subject`: one RDN per line, in certificate order,
 * RFC 2253 escapes such as `\,`, multi-valued RDNs joined by ` + `).
 */

export interface DnAttribute {
  /** Upper-case short name ("CN", "OU", "O", "EMAILADDRESS") or a dotted OID. */
  type: string;
  /** Unescaped, trimmed, inner whitespace collapsed, lower-cased. */
  value: string;
}

/**
 * Node's multi-line subject to the one-line comma form, keeping the certificate's own RDN order
 * (the order in which the subject was written to the certificate, e.g. by `openssl req -subj`).
 * Values keep Node's RFC 2253 escaping, so commas inside values stay unambiguous.
 */
export function subjectFromNodeX509(nodeSubject: string): string {
  return nodeSubject
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join(', ');
}

// Windows (.NET X500DistinguishedName) spells a few attribute types differently from OpenSSL.
const TYPE_ALIASES: Record<string, string> = { E: 'EMAILADDRESS', EMAIL: 'EMAILADDRESS', S: 'ST' };
const TYPE_PATTERN = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)$/;

export type DnParseResult = { ok: true; attributes: DnAttribute[] } | { ok: false; error: string };

function normaliseValue(raw: string): string {
  return raw.trim().replace(/\s+/g, ' ').toLowerCase();
}

function normaliseType(raw: string): string {
  const upper = raw.trim().toUpperCase();
  return TYPE_ALIASES[upper] ?? upper;
}

/**
 * Parses `TYPE=value` attributes separated by `,`, `;` or `+` (RDN boundaries are not kept: a
 * subject is compared as a multiset of attributes). Understands backslash escapes (`\,` and `\2C`)
 * and double-quoted values. Never throws.
 */
export function parseDn(text: string): DnParseResult {
  const attributes: DnAttribute[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    // type
    const eq = text.indexOf('=', i);
    if (eq < 0) {
      const rest = text.slice(i).trim();
      if (rest.length === 0) break;
      return { ok: false, error: `"${rest}" is not TYPE=value (e.g. CN=myhost)` };
    }
    const rawType = text.slice(i, eq);
    if (/[,;+]/.test(rawType)) {
      return { ok: false, error: `"${rawType.trim()}" is not TYPE=value (e.g. CN=myhost)` };
    }
    const type = normaliseType(rawType);
    if (!TYPE_PATTERN.test(type)) {
      return { ok: false, error: `attribute type "${rawType.trim()}" is not a name (CN, OU, O, ...) or a dotted OID` };
    }
    i = eq + 1;
    // value
    let value = '';
    let quoted = false;
    while (i < n && text[i] === ' ') i++;
    if (text[i] === '"') {
      quoted = true;
      i++;
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < n) i++;
        value += text[i];
        i++;
      }
      if (i >= n) return { ok: false, error: `unterminated quoted value for ${type}` };
      i++;
    }
    while (i < n) {
      const ch = text[i];
      if (ch === ',' || ch === ';' || ch === '+') break;
      if (ch === '\\') {
        const hex = text.slice(i + 1, i + 3);
        if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
          value += String.fromCharCode(parseInt(hex, 16));
          i += 3;
        } else if (i + 1 < n) {
          value += text[i + 1];
          i += 2;
        } else {
          return { ok: false, error: `dangling backslash at the end of ${type}=${value}` };
        }
        continue;
      }
      if (quoted && ch !== ' ') return { ok: false, error: `text after the quoted value of ${type}` };
      value += ch;
      i++;
    }
    attributes.push({ type, value: normaliseValue(value) });
    if (i < n) i++; // separator
  }
  if (attributes.length === 0) return { ok: false, error: 'empty subject' };
  return { ok: true, attributes };
}

/** A key equal for two subjects holding the same attributes, whatever their order, case or spacing. */
export function dnKey(attributes: readonly DnAttribute[]): string {
  return attributes
    .map((a) => `${a.type}=${a.value}`)
    .sort()
    .join('\u0000');
}
