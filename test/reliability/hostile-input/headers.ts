// Scenario 13's header bytes: the Idempotency-Key header (value, stored key, fault) for each key part, and the raw
// header lines each HTTP-parser fault writes.
import type { HttpFault, IdemKey } from './request-parts.ts';
import { bareKeySafe } from './strings.ts';

export function keyHeader(
  key: IdemKey,
  token: string,
): { value?: string; repeatedValue?: string; raw: boolean; stored?: string; fault?: 'key' | 'http400' | 'http431' } {
  const fit = (part: string, room: number): string => part.slice(0, Math.max(0, room));
  switch (key.kind) {
    case 'uuid':
      return { value: token, raw: false, stored: token };
    case 'bare': {
      let part = fit(key.part, 255 - token.length - 1);
      while (part.length > 0 && !bareKeySafe(part)) part = part.slice(0, -1); // keep the last char non-space
      const value = part.length === 0 ? token : `${part}-${token}`;
      return { value, raw: false, stored: value };
    }
    case 'quoted': {
      const inner = `${fit(key.part, 255 - token.length)}${token}`;
      return { value: `"${inner.replace(/["\\]/g, '\\$&')}"`, raw: false, stored: inner };
    }
    case 'exact-255': {
      const value = `${'k'.repeat(255 - token.length)}${token}`;
      return { value, raw: false, stored: value };
    }
    case 'missing':
      return { raw: false, fault: 'key' };
    case 'empty':
      return { value: '', raw: false, fault: 'key' };
    case 'repeated':
      return { value: `${token}a`, repeatedValue: `${token}b`, raw: false, fault: 'key' };
    case 'too-long':
      return { value: `${token}${'L'.repeat(key.length - token.length)}`, raw: false, fault: 'key' };
    case 'huge':
      // On its own socket: the server answers 431 and destroys the connection without "Connection: close", so a
      // keep-alive client would send its next request into the dead socket (see the todo test).
      return { value: `${token}${'H'.repeat(key.length - token.length)}`, raw: true, fault: 'http431' };
    case 'comma':
      return { value: `${key.part},${token}`, raw: false, fault: 'key' };
    case 'latin1':
      return { value: `${token}${key.part}x`, raw: false, fault: 'key' };
    case 'utf8':
      return { value: `${token}${key.part}x`, raw: true, fault: 'key' };
    case 'tab':
      return { value: `${token}\tx`, raw: false, fault: 'key' };
    case 'control':
      return { value: `${token}${key.char}x`, raw: true, fault: 'http400' };
    case 'crlf-duplicate': // the "injected" line is a second Idempotency-Key header
      return { value: `${token}\r\nIdempotency-Key: injected-${token}`, raw: true, fault: 'key' };
    case 'bare-lf':
      return { value: `${token}\nX-Injected: 1`, raw: true, fault: 'http400' };
    case 'bare-cr':
      return { value: `${token}\rX-Injected: 1`, raw: true, fault: 'http400' };
    case 'obs-fold':
      return { value: `${token}\r\n folded`, raw: true, fault: 'http400' };
  }
}

export const HTTP_FAULT_LINES: Readonly<
  Record<Exclude<HttpFault, 'none' | 'duplicate-content-length' | 'content-length-plus'>, readonly string[]>
> = {
  'header-cr': ['X-Note: a\rX-Injected: 1'],
  'header-lf': ['X-Note: a\nX-Injected: 1'],
  'header-nul': ['X-Note: a\u0000b'],
  'header-del': ['X-Note: a\u007fb'],
  'obs-fold': ['X-Note: a', ' X-Injected: 1'],
  'no-colon': ['JustAName'],
  'space-before-colon': ['X-Note : a'],
  'bad-name': ['X(Note): a'],
  'empty-name': [': a'],
  'content-length-and-chunked': ['Transfer-Encoding: chunked', 'Content-Length: 5'],
  'te-gzip': ['Transfer-Encoding: gzip'],
};
