/**
 * Strict RFC 8259 JSON parser for money routes.
 *
 * JSON.parse is unsuitable there: it rounds number text before we can convert
 * amounts to integer minor units, lets duplicate keys silently override each
 * other (last wins), and passes `__proto__` through to downstream merges.
 * This parser is a single iterative pass (no recursion, so hostile nesting
 * cannot blow the call stack) that keeps the exact source text of every
 * number-valued object member.
 */

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

export interface StrictJsonOptions {
  maxDepth?: number;
}

const DEFAULT_MAX_DEPTH = 32;
// Keeps messages (and therefore logs) from echoing large parts of a request body.
const MAX_QUOTED_CHARS = 32;

// Character codes, named for readability of the charCodeAt comparisons below.
const TAB = 0x09, LF = 0x0a, CR = 0x0d, SPACE = 0x20, QUOTE = 0x22, PLUS = 0x2b, COMMA = 0x2c;
const MINUS = 0x2d, DOT = 0x2e, SLASH = 0x2f, ZERO = 0x30, ONE = 0x31, NINE = 0x39, COLON = 0x3a;
const UPPER_E = 0x45, LOWER_E = 0x65, LBRACKET = 0x5b, BACKSLASH = 0x5c, RBRACKET = 0x5d;
const LBRACE = 0x7b, RBRACE = 0x7d, BOM = 0xfeff;

// WeakMap so the side table lives exactly as long as the parsed body does.
const rawNumbers = new WeakMap<object, Map<string, string>>();

/** The exact source text of a number-valued member `key` of an object produced by parseStrictJson, or undefined. */
export function rawNumberText(obj: object, key: string): string | undefined {
  return rawNumbers.get(obj)?.get(key);
}

export function parseStrictJson(text: string, options?: StrictJsonOptions): unknown {
  return new Parser(text, options?.maxDepth ?? DEFAULT_MAX_DEPTH).parse();
}

type Container = Record<string, unknown> | unknown[];

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function quote(s: string): string {
  return JSON.stringify(s.length > MAX_QUOTED_CHARS ? s.slice(0, MAX_QUOTED_CHARS) + '…' : s);
}

function describeChar(c: number): string {
  if (c > SPACE && c < 0x7f) return `character ${JSON.stringify(String.fromCharCode(c))}`;
  return `character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

class Parser {
  readonly text: string;
  readonly len: number;
  readonly maxDepth: number;
  pos = 0;
  // Source text of the most recently parsed number; consumed when it is attached to an object.
  numText = '';

  constructor(text: string, maxDepth: number) {
    this.text = text;
    this.len = text.length;
    this.maxDepth = maxDepth;
  }

  parse(): unknown {
    const text = this.text;
    const stack: Container[] = [];
    const keys: string[] = []; // pending member key for each object on the stack
    let value: unknown;
    for (;;) {
      this.skipWs();
      const start = this.pos;
      const c = text.charCodeAt(start);
      if (c === LBRACE || c === LBRACKET) {
        if (stack.length >= this.maxDepth) {
          throw new JsonParseError(
            'too_deep',
            `Nesting deeper than ${this.maxDepth} levels at position ${start}`,
            start,
          );
        }
        this.pos++;
        this.skipWs();
        if (c === LBRACE) {
          const obj: Record<string, unknown> = {};
          if (text.charCodeAt(this.pos) !== RBRACE) {
            stack.push(obj);
            keys.push(this.readKey(obj));
            continue;
          }
          value = obj;
        } else {
          const arr: unknown[] = [];
          if (text.charCodeAt(this.pos) !== RBRACKET) {
            stack.push(arr);
            continue;
          }
          value = arr;
        }
        this.pos++;
      } else {
        value = this.parseScalar(c);
      }

      // Attach the finished value; a closing bracket finishes its container, which then attaches too.
      for (;;) {
        const top = stack[stack.length - 1];
        this.skipWs();
        const at = this.pos;
        const d = text.charCodeAt(at);
        if (top === undefined) {
          if (at < this.len) throw this.unexpected(at, 'end of input');
          return value;
        }
        if (Array.isArray(top)) {
          top.push(value);
          if (d === COMMA) {
            this.pos++;
            break;
          }
          if (d !== RBRACKET) throw this.unexpected(at, "',' or ']'");
        } else {
          const key = keys[keys.length - 1] as string;
          top[key] = value;
          if (typeof value === 'number') {
            let raw = rawNumbers.get(top);
            if (raw === undefined) rawNumbers.set(top, (raw = new Map()));
            raw.set(key, this.numText);
          }
          if (d === COMMA) {
            this.pos++;
            keys[keys.length - 1] = this.readKey(top);
            break;
          }
          if (d !== RBRACE) throw this.unexpected(at, "',' or '}'");
          keys.pop();
        }
        this.pos++;
        stack.pop();
        value = top;
      }
    }
  }

  private skipWs(): void {
    const text = this.text;
    let i = this.pos;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c !== SPACE && c !== LF && c !== CR && c !== TAB) break;
      i++;
    }
    this.pos = i;
  }

  private syntax(message: string, at: number): JsonParseError {
    return new JsonParseError('syntax', `${message} at position ${at}`, at);
  }

  private unexpected(at: number, expected: string): JsonParseError {
    if (at >= this.len) return this.syntax(`Unexpected end of input, expected ${expected}`, at);
    const c = this.text.charCodeAt(at);
    if (c === BOM && at === 0) return this.syntax('Byte order mark is not allowed', at);
    return this.syntax(`Unexpected ${describeChar(c)}, expected ${expected}`, at);
  }

  /** Reads `"key" :` and leaves pos at the start of the member value. */
  private readKey(obj: Record<string, unknown>): string {
    this.skipWs();
    const at = this.pos;
    if (this.text.charCodeAt(at) !== QUOTE) throw this.unexpected(at, 'a string key');
    const key = this.parseString();
    // Checked after unescaping so "__pro\u0074o__" cannot sneak through.
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
      throw new JsonParseError('forbidden_key', `Forbidden key ${quote(key)} at position ${at}`, at);
    }
    // Every earlier member is already assigned when the next key is read, so own-property lookup suffices.
    if (Object.hasOwn(obj, key)) {
      throw new JsonParseError('duplicate_key', `Duplicate key ${quote(key)} at position ${at}`, at);
    }
    this.skipWs();
    if (this.text.charCodeAt(this.pos) !== COLON) throw this.unexpected(this.pos, "':'");
    this.pos++;
    return key;
  }

  private parseScalar(c: number): unknown {
    if (c === QUOTE) return this.parseString();
    if (c === MINUS || isDigit(c)) return this.parseNumber();
    const at = this.pos;
    const literal = c === 0x74 ? 'true' : c === 0x66 ? 'false' : c === 0x6e ? 'null' : undefined;
    if (literal === undefined) throw this.unexpected(at, 'a value');
    if (!this.text.startsWith(literal, at)) throw this.syntax('Invalid literal', at);
    this.pos = at + literal.length;
    return literal === 'true' ? true : literal === 'false' ? false : null;
  }

  private parseNumber(): number {
    const text = this.text;
    const start = this.pos;
    let i = start;
    if (text.charCodeAt(i) === MINUS) i++;
    let c = text.charCodeAt(i);
    if (c === ZERO) {
      c = text.charCodeAt(++i);
      if (isDigit(c)) throw this.syntax('Leading zeros are not allowed in numbers', i);
    } else if (c >= ONE && c <= NINE) {
      do c = text.charCodeAt(++i);
      while (isDigit(c));
    } else {
      throw this.unexpected(i, 'a digit');
    }
    if (c === DOT) {
      c = text.charCodeAt(++i);
      if (!isDigit(c)) throw this.unexpected(i, 'a digit after the decimal point');
      do c = text.charCodeAt(++i);
      while (isDigit(c));
    }
    if (c === LOWER_E || c === UPPER_E) {
      c = text.charCodeAt(++i);
      if (c === PLUS || c === MINUS) c = text.charCodeAt(++i);
      if (!isDigit(c)) throw this.unexpected(i, 'a digit in the exponent');
      do c = text.charCodeAt(++i);
      while (isDigit(c));
    }
    const raw = text.slice(start, i);
    this.pos = i;
    this.numText = raw;
    return Number(raw);
  }

  /** pos is at the opening quote; the common escape-free case is a single slice. */
  private parseString(): string {
    const text = this.text;
    const len = this.len;
    const start = this.pos + 1;
    for (let i = start; i < len; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.pos = i + 1;
        return text.slice(start, i);
      }
      if (c === BACKSLASH) return this.parseEscapedString(start, i);
      if (c < SPACE) throw this.syntax(`Unescaped control ${describeChar(c)} in string`, i);
    }
    throw this.syntax('Unterminated string', this.len);
  }

  private parseEscapedString(start: number, firstEscape: number): string {
    const text = this.text;
    let out = '';
    let chunk = start; // start of the not-yet-copied run of plain characters
    let i = firstEscape;
    while (i < this.len) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.pos = i + 1;
        return out + text.slice(chunk, i);
      }
      if (c < SPACE) throw this.syntax(`Unescaped control ${describeChar(c)} in string`, i);
      if (c !== BACKSLASH) {
        i++;
        continue;
      }
      out += text.slice(chunk, i);
      const e = text.charCodeAt(i + 1);
      let step = 2;
      if (e === QUOTE) out += '"';
      else if (e === BACKSLASH) out += '\\';
      else if (e === SLASH) out += '/';
      else if (e === 0x62) out += '\b';
      else if (e === 0x66) out += '\f';
      else if (e === 0x6e) out += '\n';
      else if (e === 0x72) out += '\r';
      else if (e === 0x74) out += '\t';
      else if (e === 0x75) {
        let code = 0;
        for (let k = i + 2; k < i + 6; k++) {
          const h = hexValue(text.charCodeAt(k));
          if (h < 0) throw this.unexpected(k, 'a hex digit in \\u escape');
          code = code * 16 + h;
        }
        // Surrogate halves are appended one at a time: pairs recombine naturally, lone ones are kept.
        out += String.fromCharCode(code);
        step = 6;
      } else {
        throw this.unexpected(i + 1, 'a valid escape character');
      }
      i += step;
      chunk = i;
    }
    throw this.syntax('Unterminated string', this.len);
  }
}
