/** node's header map: lower-case names; a repeated header arrives as an array and its first value counts. */
export type HeaderMap = Record<string, string | string[] | undefined>;

export function firstHeader(headers: HeaderMap, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
