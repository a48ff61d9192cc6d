// The vocabulary of the strict JSON parser (strict-json.ts): its error type, character codes and message helpers.

export type JsonErrorReason = 'syntax' | 'duplicate_key' | 'forbidden_key' | 'too_deep';

export class JsonParseError extends Error {
  readonly reason: JsonErrorReason;
  readonly position: number; // index in the text where the problem was found
  constructor(reason: JsonErrorReason, message: string, position: number) {
    super(message);
    this.name = 'JsonParseError';
    this.reason = reason;
    this.position = position;
  }
}

// Keeps messages (and therefore logs) from echoing large parts of a request body.
const MAX_QUOTED_CHARS = 32;

// Character codes, named for readability of the charCodeAt comparisons below.
// prettier-ignore
export const TAB = 0x09, LF = 0x0a, CR = 0x0d, SPACE = 0x20, QUOTE = 0x22, PLUS = 0x2b, COMMA = 0x2c;
// prettier-ignore
export const MINUS = 0x2d, DOT = 0x2e, SLASH = 0x2f, ZERO = 0x30, ONE = 0x31, NINE = 0x39, COLON = 0x3a;
// prettier-ignore
export const UPPER_E = 0x45, LOWER_E = 0x65, LBRACKET = 0x5b, BACKSLASH = 0x5c, RBRACKET = 0x5d;
// prettier-ignore
export const LBRACE = 0x7b, RBRACE = 0x7d, BOM = 0xfeff;

export function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

export function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

export function quote(s: string): string {
  return JSON.stringify(s.length > MAX_QUOTED_CHARS ? s.slice(0, MAX_QUOTED_CHARS) + '…' : s);
}

export function describeChar(c: number): string {
  if (c > SPACE && c < 0x7f) return `character ${JSON.stringify(String.fromCharCode(c))}`;
  return `character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

const SIMPLE_ESCAPES: Readonly<Record<number, string>> = {
  [QUOTE]: '"',
  [BACKSLASH]: '\\',
  [SLASH]: '/',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
};

/**
 * The character a backslash escape at `i` stands for: `\n` and friends (two characters of source) or `\uXXXX` (six).
 * Surrogate halves come back one at a time: pairs recombine when appended, lone ones are kept. On a bad escape, the
 * position of the offending character instead.
 */
export function decodeEscape(text: string, i: number): string | number {
  const e = text.charCodeAt(i + 1);
  if (e !== 0x75) return SIMPLE_ESCAPES[e] ?? i + 1;
  let code = 0;
  for (let k = i + 2; k < i + 6; k++) {
    const h = hexValue(text.charCodeAt(k));
    if (h < 0) return k;
    code = code * 16 + h;
  }
  return String.fromCharCode(code);
}
