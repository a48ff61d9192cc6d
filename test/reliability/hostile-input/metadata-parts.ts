// Scenario 13's metadata parts: hostile but legal keys and values that must be echoed, and every way to break the
// metadata object (non-string values, too many keys, bad key or value lengths, unstorable text, not an object).
import fc from 'fast-check';
import { UNSTORABLE_JSON, type FieldPart } from './body-parts.ts';
import {
  FORBIDDEN_KEYS,
  type JNode,
  type Member,
  type StringStyle,
  encodeString,
  member,
  obj,
  raw,
} from './json-model.ts';
import { HOSTILE_STRINGS, hostileText, printableAscii, storable } from './strings.ts';

export interface MetaPart extends FieldPart {
  readonly echo: Readonly<Record<string, string>>;
}

const metaKey: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom(...HOSTILE_STRINGS),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
    printableAscii(1, 40),
    fc.constantFrom(
      'toString',
      'hasOwnProperty',
      'valueOf',
      '__defineGetter__',
      'a.b',
      'a/b',
      '~0',
      '$where',
      '$ne',
      '0',
      '-1',
      ' ',
      'k'.repeat(40),
    ),
  )
  .filter((k) => k.length >= 1 && k.length <= 40 && storable(k) && !FORBIDDEN_KEYS.has(k));

const metaEntries = (max: number): fc.Arbitrary<[string, string][]> =>
  fc.uniqueArray(fc.tuple(metaKey, hostileText(60)), { maxLength: max, selector: (e) => e[0] });

function metadataNode(
  entries: readonly (readonly [string, string])[],
  style: StringStyle,
  extra: Member[] = [],
): JNode {
  return obj([...entries.map(([k, v]) => member(k, raw(encodeString(v, style)), encodeString(k, style))), ...extra]);
}

export function metadataPart(): fc.Arbitrary<MetaPart> {
  const style = fc.constantFrom<StringStyle>('json', 'json', 'escape-non-ascii', 'escape-all');
  const fault = (label: string, node: JNode): MetaPart => ({ label, node, fault: 'metadata', echo: {} });
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant<MetaPart>({ label: 'ok', echo: {} }) },
    {
      weight: 5,
      arbitrary: fc.record({ entries: metaEntries(8), style }).map(({ entries, style: s }): MetaPart => ({
        label: 'ok:hostile-metadata',
        node: metadataNode(entries, s),
        echo: Object.fromEntries(entries),
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({
          entries: fc.uniqueArray(fc.tuple(metaKey, fc.constant('v')), {
            minLength: 20,
            maxLength: 20,
            selector: (e) => e[0],
          }),
          style,
        })
        .map(({ entries, style: s }): MetaPart => ({
          label: 'ok:metadata-20-keys',
          node: metadataNode(entries, s),
          echo: Object.fromEntries(entries),
        })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({
          entries: metaEntries(3),
          key: metaKey,
          value: fc.constantFrom(
            '1',
            '-0',
            '1e309',
            'true',
            'null',
            '[]',
            '{}',
            '{"a":"b"}',
            '["x"]',
            '0.30000000000000004',
          ),
        })
        .filter(({ entries, key }) => !entries.some(([k]) => k === key))
        .map(({ entries, key, value }) =>
          fault('metadata:non-string-value', metadataNode(entries, 'json', [member(key, raw(value))])),
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .uniqueArray(fc.tuple(metaKey, fc.constant('v')), { minLength: 21, maxLength: 30, selector: (e) => e[0] })
        .map((entries) => fault('metadata:too-many-keys', metadataNode(entries, 'json'))),
    },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          fc.constant(''),
          printableAscii(41, 80).filter((k) => k.length > 40),
        )
        .map((k) => fault('metadata:bad-key-length', metadataNode([[k, 'v']], 'json'))),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 501, max: 800 })
        .map((n) => fault('metadata:value-too-long', metadataNode([['k', 'v'.repeat(n)]], 'json'))),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({ inKey: fc.boolean(), bad: fc.constantFrom(...UNSTORABLE_JSON) })
        .map(({ inKey, bad }) =>
          fault(
            'metadata:unstorable-text',
            obj([
              inKey
                ? member(`k${JSON.parse(`"${bad}"`) as string}`, raw('"v"'), `"k${bad}"`)
                : member('k', raw(`"v${bad}"`)),
            ]),
          ),
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('"str"', '[]', 'null', '1', 'true', '[{"k":"v"}]', '"{\\"k\\":\\"v\\"}"')
        .map((text) => fault('metadata:not-an-object', raw(text))),
    },
  );
}
