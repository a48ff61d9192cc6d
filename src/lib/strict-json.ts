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
import {
  BACKSLASH,
  BOM,
  COLON,
  COMMA,
  CR,
  DOT,
  JsonParseError,
  LBRACE,
  LBRACKET,
  LF,
  LOWER_E,
  MINUS,
  NINE,
  ONE,
  PLUS,
  QUOTE,
  RBRACE,
  RBRACKET,
  SPACE,
  TAB,
  UPPER_E,
  ZERO,
  describeChar,
  decodeEscape,
  isDigit,
  quote,
} from './json-syntax.ts';

export { JsonParseError, type JsonErrorReason } from './json-syntax.ts';

export interface StrictJsonOptions {
  maxDepth?: number;
}

const DEFAULT_MAX_DEPTH = 32;
const OPENED = Symbol('a container was opened: its first value comes next');
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
    const stack: Container[] = [];
    const keys: string[] = []; // pending member key for each object on the stack
    for (;;) {
      this.skipWs();
      const value = this.startValue(stack, keys);
      if (value === OPENED) continue;
      const done = this.attach(value, stack, keys);
      if (done !== OPENED) return done;
    }
  }

  /** A scalar or an empty container, or OPENED after pushing a non-empty container onto the stack. */
  private startValue(stack: Container[], keys: string[]): unknown {
    const text = this.text;
    const start = this.pos;
    const c = text.charCodeAt(start);
    if (c !== LBRACE && c !== LBRACKET) return this.parseScalar(c);
    if (stack.length >= this.maxDepth) {
      throw new JsonParseError('too_deep', `Nesting deeper than ${this.maxDepth} levels at position ${start}`, start);
    }
    this.pos++;
    this.skipWs();
    const container: Container = c === LBRACE ? {} : [];
    if (text.charCodeAt(this.pos) === (c === LBRACE ? RBRACE : RBRACKET)) {
      this.pos++;
      return container;
    }
    stack.push(container);
    if (c === LBRACE) keys.push(this.readKey(container as Record<string, unknown>));
    return OPENED;
  }

  /**
   * Attaches a finished value to its container; a closing bracket finishes that container, which then attaches too.
   * Returns the whole document once the stack is empty, or OPENED when a comma says another value follows.
   */
  private attach(finished: unknown, stack: Container[], keys: string[]): unknown {
    let value = finished;
    for (;;) {
      const top = stack[stack.length - 1];
      this.skipWs();
      const at = this.pos;
      const d = this.text.charCodeAt(at);
      if (top === undefined) {
        if (at < this.len) throw this.unexpected(at, 'end of input');
        return value;
      }
      if (Array.isArray(top)) {
        top.push(value);
        if (d === COMMA) return (this.pos++, OPENED);
        if (d !== RBRACKET) throw this.unexpected(at, "',' or ']'");
      } else {
        const key = keys[keys.length - 1]!;
        this.setMember(top, key, value);
        if (d === COMMA) {
          this.pos++;
          keys[keys.length - 1] = this.readKey(top);
          return OPENED;
        }
        if (d !== RBRACE) throw this.unexpected(at, "',' or '}'");
        keys.pop();
      }
      this.pos++;
      stack.pop();
      value = top;
    }
  }

  private setMember(obj: Record<string, unknown>, key: string, value: unknown): void {
    obj[key] = value;
    if (typeof value !== 'number') return;
    let raw = rawNumbers.get(obj);
    if (raw === undefined) rawNumbers.set(obj, (raw = new Map<string, string>()));
    raw.set(key, this.numText);
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
      const escape = decodeEscape(text, i);
      if (typeof escape === 'number') {
        throw this.unexpected(escape, escape === i + 1 ? 'a valid escape character' : 'a hex digit in \\u escape');
      }
      out += escape;
      const step = text.charCodeAt(i + 1) === 0x75 /* u */ ? 6 : 2;
      i += step;
      chunk = i;
    }
    throw this.syntax('Unterminated string', this.len);
  }
}
