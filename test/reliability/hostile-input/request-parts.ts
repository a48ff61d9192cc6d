// Scenario 13's request-level parts: Content-Type, Idempotency-Key, API key, raw HTTP faults and X-Request-Id.
import fc from 'fast-check';
import { HOSTILE_STRINGS, bareKeySafe, fetchHeaderSafe, printableAscii } from './strings.ts';

export type ContentType =
  | { readonly kind: 'ok' | 'bad-media-type' | 'bad-charset'; readonly value: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'repeated'; readonly first: string; readonly firstOk: boolean; readonly second: string };

const OK_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=UTF-8',
  'application/json;charset="utf-8"',
  'Application/JSON',
  'application/vnd.picopay+json',
  'application/json ; charset=utf-8',
  'application/json;',
  'application/json; foo=bar',
  'application/problem+json',
  'application/json; charset=utf8',
] as const;
const BAD_MEDIA_TYPES = [
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'text/json',
  'application/jsonp',
  'application/json-patch',
  'application/x-json',
  'application/javascript',
  'application/octet-stream',
  '*/*',
  'application/*',
  'json',
  '',
  ';',
  "application/json'; DROP TABLE users; --",
  'application/jsön',
  'application/json, text/plain',
  'application/json/json',
  'application /json',
] as const;
const BAD_CHARSETS = [
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/json; charset=iso-8859-1',
  'application/json; charset="ascii"',
  'application/json; charset=UTF-32',
  'application/json; charset=',
] as const;

export const contentTypePart: fc.Arbitrary<ContentType> = fc.oneof(
  { weight: 30, arbitrary: fc.constant<ContentType>({ kind: 'ok', value: 'application/json' }) },
  { weight: 4, arbitrary: fc.constantFrom(...OK_TYPES).map((value): ContentType => ({ kind: 'ok', value })) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(...BAD_MEDIA_TYPES).map((value): ContentType => ({ kind: 'bad-media-type', value })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...BAD_CHARSETS).map((value): ContentType => ({ kind: 'bad-charset', value })),
  },
  { weight: 1, arbitrary: fc.constant<ContentType>({ kind: 'missing' }) },
  {
    weight: 1,
    arbitrary: fc
      .record({
        firstOk: fc.boolean(),
        ok: fc.constantFrom('application/json', 'application/json; charset=utf-8'),
        bad: fc.constantFrom('text/plain', 'application/xml'),
      })
      .map(({ firstOk, ok, bad }): ContentType => ({
        kind: 'repeated',
        firstOk,
        first: firstOk ? ok : bad,
        second: firstOk ? bad : ok,
      })),
  },
);

export type IdemKey =
  | { readonly kind: 'uuid' | 'missing' | 'empty' | 'repeated' | 'crlf-duplicate' | 'bare-lf' | 'bare-cr' | 'obs-fold' }
  | { readonly kind: 'bare' | 'quoted' | 'comma' | 'latin1' | 'utf8' | 'tab'; readonly part: string }
  | { readonly kind: 'exact-255' }
  | { readonly kind: 'too-long' | 'huge'; readonly length: number }
  | { readonly kind: 'control'; readonly char: string };

const CONTROL_CHARS = [0, 1, 2, 7, 8, 0x0b, 0x0c, 0x0e, 0x1b, 0x1f, 0x7f].map((c) => String.fromCharCode(c));

export const keyPart: fc.Arbitrary<IdemKey> = fc.oneof(
  { weight: 20, arbitrary: fc.constant<IdemKey>({ kind: 'uuid' }) },
  {
    weight: 8,
    arbitrary: fc
      .oneof(fc.constantFrom(...HOSTILE_STRINGS), printableAscii(1, 300))
      .filter(bareKeySafe)
      .map((part): IdemKey => ({ kind: 'bare', part })),
  },
  { weight: 2, arbitrary: printableAscii(0, 120).map((part): IdemKey => ({ kind: 'quoted', part })) },
  { weight: 2, arbitrary: fc.constant<IdemKey>({ kind: 'exact-255' }) },
  { weight: 2, arbitrary: fc.constantFrom<IdemKey>({ kind: 'missing' }, { kind: 'empty' }, { kind: 'repeated' }) },
  {
    weight: 2,
    arbitrary: fc.integer({ min: 256, max: 6000 }).map((length): IdemKey => ({ kind: 'too-long', length })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 17_000, max: 24_000 }).map((length): IdemKey => ({ kind: 'huge', length })),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(...HOSTILE_STRINGS)
      .filter(bareKeySafe)
      .map((part): IdemKey => ({ kind: 'comma', part })),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('é', 'ÿ', '\u0080', '\u00a0', 'ñ', '\u00ad')
      .map((part): IdemKey => ({ kind: 'latin1', part })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('clé', '€', '😀', '名前', '\u2028').map((part): IdemKey => ({ kind: 'utf8', part })),
  },
  { weight: 1, arbitrary: fc.constantFrom(...CONTROL_CHARS).map((char): IdemKey => ({ kind: 'control', char })) },
  { weight: 1, arbitrary: fc.constant<IdemKey>({ kind: 'tab', part: 'a' }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<IdemKey>(
      { kind: 'crlf-duplicate' },
      { kind: 'bare-lf' },
      { kind: 'bare-cr' },
      { kind: 'obs-fold' },
    ),
  },
);

export type Auth =
  { readonly kind: 'ok' | 'missing' | 'repeated' } | { readonly kind: 'wrong'; readonly value: string };

export const authPart = (clientKey: string): fc.Arbitrary<Auth> =>
  fc.oneof(
    { weight: 40, arbitrary: fc.constant<Auth>({ kind: 'ok' }) },
    { weight: 1, arbitrary: fc.constantFrom<Auth>({ kind: 'missing' }, { kind: 'repeated' }) },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          fc.constantFrom(...HOSTILE_STRINGS).filter(fetchHeaderSafe),
          fc.constantFrom(
            clientKey.toUpperCase(),
            clientKey.slice(0, -1),
            `${clientKey}x`,
            `Bearer ${clientKey}`,
            `${clientKey},${clientKey}`,
            '',
            'rk_admin_reliability_key_0000000000',
          ),
        )
        .map((value): Auth => ({ kind: 'wrong', value })),
    },
  );

export type HttpFault =
  | 'none'
  | 'header-cr'
  | 'header-lf'
  | 'header-nul'
  | 'header-del'
  | 'obs-fold'
  | 'no-colon'
  | 'space-before-colon'
  | 'bad-name'
  | 'empty-name'
  | 'duplicate-content-length'
  | 'content-length-and-chunked'
  | 'te-gzip'
  | 'content-length-plus';

export const httpFaultPart: fc.Arbitrary<HttpFault> = fc.oneof(
  { weight: 40, arbitrary: fc.constant<HttpFault>('none') },
  {
    weight: 1,
    arbitrary: fc.constantFrom<HttpFault>(
      'header-cr',
      'header-lf',
      'header-nul',
      'header-del',
      'obs-fold',
      'no-colon',
      'space-before-colon',
      'bad-name',
      'empty-name',
      'duplicate-content-length',
      'content-length-and-chunked',
      'te-gzip',
      'content-length-plus',
    ),
  },
);

export type RequestId = { readonly kind: 'none' | 'safe' } | { readonly kind: 'hostile'; readonly value: string };

export const requestIdPart: fc.Arbitrary<RequestId> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<RequestId>({ kind: 'none' }) },
  { weight: 1, arbitrary: fc.constant<RequestId>({ kind: 'safe' }) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.constantFrom('a'.repeat(65), 'a b', 'é', '<script>', 'x\ty'))
      .filter(fetchHeaderSafe)
      .map((value): RequestId => ({ kind: 'hostile', value })),
  },
);
