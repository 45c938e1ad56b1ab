/**
 * A flat copy of a string, for strings kept a long time (the event ring, an open tunnel's target).
 * V8 keeps a string built by concatenation (`a + b`, template literals) as a tree of its pieces,
 * about 32 bytes per join, and a piece cut from a larger string (slice, split, trim) keeps that whole
 * string alive: a 103 message kept the CONNECT head's text and ~10 joins. A flat copy is one string
 * of its own length. The JSON round trip copies every string exactly (lone surrogates included).
 */
export function flatString(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}
