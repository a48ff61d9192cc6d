// Scenario 13's structural parts: the body's top-level shape, structural JSON faults (duplicate and forbidden keys,
// nesting, mutations, truncation, invalid UTF-8, BOM, empty, not JSON) and the body size around the 16 KiB limit.
import fc from 'fast-check';
import { extraValue } from './body-parts.ts';
import { type JNode, raw } from './json-model.ts';

export type Shape = 'object' | 'array-wrapped' | 'string' | 'null' | 'number' | 'true' | 'empty-array';

export type Structural =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'duplicate';
      readonly where: number;
      readonly which: number;
      readonly escaped: boolean;
      readonly value: JNode;
    }
  | {
      readonly kind: 'forbidden';
      readonly where: number;
      readonly name: string;
      readonly escaped: boolean;
      readonly value: JNode;
    }
  | { readonly kind: 'deep'; readonly where: number; readonly depth: number; readonly shape: 'arr' | 'obj' | 'mixed' }
  | { readonly kind: 'mutate'; readonly ops: readonly (readonly [number, number, string])[] }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'invalid-utf8'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly kind: 'bom' | 'empty' | 'whitespace-only' }
  | { readonly kind: 'not-json'; readonly text: string };

const NOT_JSON = [
  'user_id=1&amount=1&currency=USD',
  "{'user_id':1,'amount':1,'currency':'USD'}",
  '<charge amount="1"/>',
  'undefined',
  'NaN',
  '{"amount":NaN}',
  '{"amount":Infinity}',
  '{"amount":0x10}',
  '{"amount":.5}',
  '{"amount":01}',
  '{"amount":1.}',
  '{"a":1}//',
  '/*c*/{}',
  '{"a":"\\x41"}',
  '{"a":"\\u00"}',
  '{"a":"\t"}',
  '{"a":1,}',
  '[1,]',
  '{,}',
  '{"a" 1}',
  '{"a":1 "b":2}',
  '{"a":tru}',
  '{"a":nul}',
  '{"a":True}',
  '{"a":1}}',
  '{{}}',
  '{"a":[}',
  '"unterminated',
  '{"a":1',
  '{"\\uD83D":1',
  '{"a":-}',
  '{"a":1e}',
  '{"a":+1}',
  '{"a":\'x\'}',
  '{"a":"b"c}',
  '\u0000{}',
  '{}\u0000',
  '{"a":\u00a01}',
] as const;
const MUTATION_CHARS = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  '\\',
  "'",
  '\n',
  'x',
  '0',
  '-',
  '.',
  'e',
  '/',
  '*',
  ' ',
  '\u0001',
  'é',
];

export const structuralPart: fc.Arbitrary<Structural> = fc.oneof(
  { weight: 30, arbitrary: fc.constant<Structural>({ kind: 'none' }) },
  {
    weight: 3,
    arbitrary: fc
      .record({ where: fc.nat(), which: fc.nat(), escaped: fc.boolean(), value: extraValue })
      .map((r): Structural => ({ kind: 'duplicate', ...r })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        where: fc.nat(),
        name: fc.constantFrom('__proto__', 'constructor', 'prototype'),
        escaped: fc.boolean(),
        value: fc.oneof(
          fc
            .constantFrom('{"amount":1000000}', '{"isAdmin":true}', '{"polluted":"yes"}', 'null', '{}', '[]', '"x"')
            .map(raw),
          extraValue,
        ),
      })
      .map((r): Structural => ({ kind: 'forbidden', ...r })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        where: fc.nat(),
        depth: fc.oneof(fc.integer({ min: 8, max: 12 }), fc.integer({ min: 13, max: 2000 })),
        shape: fc.constantFrom<'arr' | 'obj' | 'mixed'>('arr', 'obj', 'mixed'),
      })
      .map((r): Structural => ({ kind: 'deep', ...r })),
  },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 3 }), fc.constantFrom(...MUTATION_CHARS)), {
        minLength: 1,
        maxLength: 4,
      })
      .map((ops): Structural => ({ kind: 'mutate', ops })),
  },
  { weight: 2, arbitrary: fc.nat().map((at): Structural => ({ kind: 'truncate', at })) },
  {
    weight: 1,
    arbitrary: fc
      .record({
        at: fc.nat(),
        bytes: fc.constantFrom(
          [0xc3, 0x28],
          [0xff],
          [0xfe],
          [0xed, 0xa0, 0x80],
          [0xc0, 0xaf],
          [0xe2, 0x82],
          [0xf8, 0x88, 0x80, 0x80, 0x80],
          [0x80],
        ),
      })
      .map((r): Structural => ({ kind: 'invalid-utf8', ...r })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Structural>({ kind: 'bom' }, { kind: 'empty' }, { kind: 'whitespace-only' }),
  },
  { weight: 1, arbitrary: fc.constantFrom(...NOT_JSON).map((text): Structural => ({ kind: 'not-json', text })) },
);

export type Size =
  | { readonly kind: 'normal' }
  | {
      readonly kind: 'exact-limit' | 'over-limit';
      readonly extra: number;
      readonly leading: boolean;
      readonly pad: string;
    };

export const sizePart: fc.Arbitrary<Size> = fc.oneof(
  { weight: 24, arbitrary: fc.constant<Size>({ kind: 'normal' }) },
  {
    weight: 1,
    arbitrary: fc
      .record({ extra: fc.constant(0), leading: fc.boolean(), pad: fc.constantFrom(' ', '\n', '\t', '\r\n') })
      .map((r): Size => ({ kind: 'exact-limit', ...r })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        extra: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 4096 })),
        leading: fc.boolean(),
        pad: fc.constantFrom(' ', '\n', '\t'),
      })
      .map((r): Size => ({ kind: 'over-limit', ...r })),
  },
);
