// Scenario 13's generators, oracle and wire clients. A generated CaseSpec is a structured description of one hostile
// POST /charge: every dimension (API key, Content-Type, Idempotency-Key, each body field, extra fields, JSON structure,
// body size, raw HTTP faults, X-Request-Id) is either fine or carries one fault. materialize() turns it into bytes
// plus the outcome the README promises, decided by the order in which the server looks at a request:
//   HTTP parser (400/431, Node) → API key (401) → media type (415) → size (413) → charset (415) → JSON (400)
//   → Idempotency-Key (400) → schema and field checks (422 naming the fields) → the ledger (404/422/400 declines)
//   → 200, which only a request the generator built as valid may get.
import net from 'node:net';
import fc from 'fast-check';

const BODY_LIMIT = 16_384;
const MAX_DEPTH = 8;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** What the fixture user starts with (major units as sent, minor units as checked). */
export const SEED_BALANCES = { USD: '1000000.00', JPY: '100000000', KWD: '1000000.000' } as const;
export const SEED_MINOR: Readonly<Record<string, number>> = { USD: 100_000_000, JPY: 100_000_000, KWD: 1_000_000_000 };
const EXPONENT: Readonly<Record<string, number>> = { USD: 2, JPY: 0, KWD: 3, EUR: 2 };

// ------------------------------------------------------------------------------------------------------------------
// JSON text model: every scalar is kept as its exact source text, keys as their (possibly escaped) source text and
// decoded value, so duplicates, escaped forbidden keys and number spellings survive until rendering.
// ------------------------------------------------------------------------------------------------------------------

export type JNode =
  | { readonly t: 'raw'; readonly text: string }
  | { readonly t: 'arr'; readonly items: JNode[] }
  | { readonly t: 'obj'; readonly members: Member[] };
export interface Member {
  readonly keyText: string;
  readonly key: string;
  readonly value: JNode;
}

const raw = (text: string): JNode => ({ t: 'raw', text });
const arr = (items: JNode[]): JNode => ({ t: 'arr', items });
const obj = (members: Member[]): JNode => ({ t: 'obj', members });
const member = (key: string, value: JNode, keyText: string = JSON.stringify(key)): Member => ({ keyText, key, value });

export function render(node: JNode, ws: string): string {
  if (node.t === 'raw') return node.text;
  if (node.t === 'arr') {
    return node.items.length === 0 ? '[]' : `[${ws}${node.items.map((i) => render(i, ws)).join(`,${ws}`)}${ws}]`;
  }
  if (node.members.length === 0) return '{}';
  return `{${ws}${node.members.map((m) => `${m.keyText}${ws}:${ws}${render(m.value, ws)}`).join(`,${ws}`)}${ws}}`;
}

function depthOf(node: JNode): number {
  if (node.t === 'raw') return 0;
  const children = node.t === 'arr' ? node.items : node.members.map((m) => m.value);
  return 1 + children.reduce((max, c) => Math.max(max, depthOf(c)), 0);
}

function objectsOf(node: JNode, out: Member[][] = []): Member[][] {
  if (node.t === 'obj') {
    out.push(node.members);
    for (const m of node.members) objectsOf(m.value, out);
  } else if (node.t === 'arr') {
    for (const item of node.items) objectsOf(item, out);
  }
  return out;
}

const hasDuplicateKey = (node: JNode): boolean =>
  objectsOf(node).some((members) => new Set(members.map((m) => m.key)).size !== members.length);
const hasForbiddenKey = (node: JNode): boolean => objectsOf(node).some((ms) => ms.some((m) => FORBIDDEN_KEYS.has(m.key)));

export type StringStyle = 'json' | 'escape-non-ascii' | 'escape-all';

/** A JSON string literal for s: JSON.stringify, or \uXXXX escapes for non-ASCII (or for every code unit). */
function encodeString(s: string, style: StringStyle): string {
  if (style === 'json') return JSON.stringify(s);
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const escape = style === 'escape-all' || c > 0x7e || c < 0x20 || c === 0x22 || c === 0x5c;
    const hex = c.toString(16).padStart(4, '0');
    out += escape ? `\\u${i % 2 === 0 ? hex : hex.toUpperCase()}` : s[i]; // both hex cases are legal
  }
  return `${out}"`;
}

function toNode(value: unknown): JNode {
  if (Array.isArray(value)) return arr(value.map(toNode));
  if (typeof value === 'object' && value !== null) {
    return obj(Object.entries(value).filter(([k]) => !FORBIDDEN_KEYS.has(k)).map(([k, v]) => member(k, toNode(v))));
  }
  return raw(JSON.stringify(value) ?? 'null');
}

/** The text of `depth` nested containers around 1, built without recursion. */
function deepText(depth: number, kind: 'arr' | 'obj' | 'mixed'): string {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    const asArray = kind === 'arr' || (kind === 'mixed' && i % 2 === 0);
    open += asArray ? '[' : '{"n":';
    close = (asArray ? ']' : '}') + close;
  }
  return `${open}1${close}`;
}

function nested(depth: number, kind: 'arr' | 'obj' | 'mixed'): JNode {
  let node: JNode = raw('1');
  for (let i = 0; i < depth; i++) {
    const asArray = kind === 'arr' || (kind === 'mixed' && i % 2 === 0);
    node = asArray ? arr([node]) : obj([member('n', node)]);
  }
  return node;
}

// ------------------------------------------------------------------------------------------------------------------
// Hostile strings
// ------------------------------------------------------------------------------------------------------------------

/** SQL metacharacters and friends: every one of them is legal text that must be stored and echoed byte for byte. */
export const HOSTILE_STRINGS: readonly string[] = [
  "'; DROP TABLE users; --", "' OR '1'='1", "' OR 1=1 --", '" OR ""="', '1; DELETE FROM accounts', "admin'--",
  "'); UPDATE accounts SET balance = 999999999 WHERE ('1'='1", "' UNION SELECT balance FROM accounts --",
  'SELECT pg_sleep(5)', "$$; DROP TABLE ledger_entries; $$", '$1', '$$', "E'\\x41'", '/* comment */', '--', ';', '`',
  "'", '"', '\\', '\\\\', "\\'", '%', '%%', '_', '%_%', "'%'", '%27', '%00', '\\0', '\\x00', '\\u0000', 'char(39)',
  'NULL', 'null', 'undefined', 'NaN', 'true', '${jndi:ldap://evil.example/a}', '{{7*7}}', '<script>alert(1)</script>',
  '../../../etc/passwd', '%s%n%x', '\u202e\u0631\u202c', '\ufeff', '😀👍🏽', '名前', 'Ω≈ç√', '\u00a0', '\u2028\u2029',
  'e\u0301', '\ud83d\ude00', '\t\r\n', '\u0001\u001f', '\u007f',
];

const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const storable = (s: string): boolean => !UNSTORABLE.test(s);
/** Printable ASCII without comma, not starting or ending with a space: survives fetch and is a valid bare key part. */
const bareKeySafe = (s: string): boolean => /^[\x21-\x2b\x2d-\x7e]([\x20-\x2b\x2d-\x7e]*[\x21-\x2b\x2d-\x7e])?$/.test(s);
/** A header value fetch sends as is: bytes 0x20-0xFF (tab allowed inside), no leading or trailing whitespace. */
const fetchHeaderSafe = (s: string): boolean => /^[\x21-\x7e\x80-\xff]([\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?$/.test(s);

const hostileText = (maxUnits: number): fc.Arbitrary<string> =>
  fc
    .oneof(
      { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
      { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
      { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 1, max: 0x1f }).map((c) => String.fromCharCode(c)), maxLength: 6 }) },
      { weight: 1, arbitrary: fc.array(fc.constantFrom(...HOSTILE_STRINGS), { minLength: 2, maxLength: 4 }).map((a) => a.join(' ')) },
    )
    .filter((s) => storable(s) && s.length <= maxUnits);

const printableAscii = (min: number, max: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: min, maxLength: max });

// ------------------------------------------------------------------------------------------------------------------
// Parts: one per dimension
// ------------------------------------------------------------------------------------------------------------------

export type Business = 'user_not_found' | 'currency_not_supported' | 'insufficient_balance';

/** A body field: its value (undefined: member absent) and what it does to the outcome. */
interface FieldPart {
  readonly label: string;
  readonly node?: JNode;
  /** The field a 422 must name (exact, or as the prefix of "field.sub"); undefined: no schema-level fault. */
  readonly fault?: string;
  /** A fault that makes the request invalid although the 422 need not name the field. */
  readonly unnamedFault?: boolean;
  readonly business?: Business;
}

interface MoneyPart extends FieldPart {
  readonly currency?: JNode;
  readonly currencyFault?: string;
  readonly intended?: { readonly currency: string; readonly minor: number };
}

interface TextPart extends FieldPart {
  /** What a 200 must echo. */
  readonly echo: string | null;
}

interface MetaPart extends FieldPart {
  readonly echo: Readonly<Record<string, string>>;
}

const USER_ID_CONFUSION = [
  '"1 OR 1=1"', '"1; DROP TABLE users"', 'true', 'false', 'null', '[]', '{}', '{"$gt":0}', '0', '-1', '-0', '1.5',
  '9007199254740992', '9007199254740993', '1e309', '-1e309', '1e20', '""', '0.30000000000000004', '1e-7', '"∞"',
] as const;

function userIdPart(uid: number): fc.Arbitrary<FieldPart> {
  return fc.oneof(
    {
      weight: 14,
      arbitrary: fc.constantFrom(`${uid}`, `${uid}`, `${uid}`, `${uid}.0`, `${uid}e0`, `${uid}E+0`, `${uid}.000`, `${uid}0e-1`)
        .map((text): FieldPart => ({ label: 'ok', node: raw(text) })),
    },
    {
      weight: 4,
      arbitrary: fc.oneof(fc.constantFrom(...USER_ID_CONFUSION), fc.constantFrom(`"${uid}"`, `[${uid}]`, `{"id":${uid}}`, `${uid}.5`))
        .map((text): FieldPart => ({ label: 'user_id:type-confusion', node: raw(text), fault: 'user_id' })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...HOSTILE_STRINGS).map((s): FieldPart => ({ label: 'user_id:sql', node: raw(JSON.stringify(s)), fault: 'user_id' })),
    },
    { weight: 1, arbitrary: fc.constant<FieldPart>({ label: 'user_id:missing', fault: 'user_id' }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('9007199254740991', '9007199254740990', `${uid + 1_000_000_000}`)
        .map((text): FieldPart => ({ label: 'business:user_not_found', node: raw(text), business: 'user_not_found' })),
    },
  );
}

export function formatMajor(minor: number, exponent: number): string {
  const digits = String(minor).padStart(exponent + 1, '0');
  return exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/** Spellings of exactly `minor` minor units, as a JSON number or a decimal string. */
function amountSpellings(minor: number, exponent: number): string[] {
  const major = formatMajor(minor, exponent);
  const trimmed = exponent === 0 ? major : major.replace(/\.?0+$/, '');
  const padded = exponent === 0 ? `${major}.00` : `${major}00`;
  return [
    JSON.stringify(major), major, JSON.stringify(trimmed), trimmed, JSON.stringify(padded), padded,
    JSON.stringify(`00${major}`), `${minor}e-${exponent}`, `${minor}0E-${exponent + 1}`, `${minor}E-0${exponent}`,
  ];
}

/** Invalid for every exponent 0..3 (too many decimals, zero, negative, too large, not a number, bad text). */
const BAD_AMOUNTS = [
  '0.30000000000000004', '"0.30000000000000004"', '0.0001', '"0.0001"', '1.23456', '1e309', '-1e309', '1e-400', '1e401',
  '1E400', '9007199254740993', '"9007199254740993"', '90071992547409.92', '"90071992547409.92"', '123456789012345678',
  '0', '-0', '"0"', '"-0"', '"0.000"', '0e5', '0.0', '-1', '"-1.00"', '-0.01', '"-0.01"', '"NaN"', '"Infinity"',
  '"-Infinity"', '"1e2"', '"0x10"', '" 1"', '"1 "', '"1,00"', '"1."', '".5"', '"+1"', '"١٢"', '"１"', '"12.34.56"',
  '"--1"', '""', '"1_000"', '"1\\u0000"', `1${'0'.repeat(70)}`, `"${'9'.repeat(65)}"`, '"\\u0031\\u002e\\u0030\\u0030\\u0030\\u0031"',
] as const;
const AMOUNT_TYPE_CONFUSION = ['true', 'false', 'null', '[]', '{}', '[1]', '{"value":"1.00"}', '["1.00"]'] as const;
const UNKNOWN_CURRENCIES = [
  'XYZ', 'usd', 'Usd', 'US', 'USDD', '', 'USD ', ' USD', 'XAU', 'XTS', 'HRK', 'ÜSD', 'U$D', 'ＵＳＤ', 'JPY;',
  "'; DROP TABLE users; --", "USD' OR '1'='1", 'USD\u0000', '%', '_',
] as const;
const CURRENCY_TYPE_CONFUSION = ['840', 'null', 'true', '["USD"]', '{"code":"USD"}', '1e309', '-0'] as const;
const INSUFFICIENT: Readonly<Record<string, readonly string[]>> = {
  USD: ['"5000000.00"', '5000000', '1000000.01'],
  JPY: ['500000000', '"100000001"'],
  KWD: ['"5000000.000"', '1000000.001'],
};

const validCurrency = fc.constantFrom('USD', 'USD', 'JPY', 'KWD');

function moneyPart(): fc.Arbitrary<MoneyPart> {
  const cur = (c: string): JNode => raw(JSON.stringify(c));
  return fc.oneof(
    {
      weight: 14,
      arbitrary: fc.record({ currency: validCurrency, minor: fc.integer({ min: 1, max: 5000 }), form: fc.nat() }).map(
        ({ currency, minor, form }): MoneyPart => {
          const spellings = amountSpellings(minor, EXPONENT[currency]!);
          return { label: 'ok', node: raw(spellings[form % spellings.length]!), currency: cur(currency), intended: { currency, minor } };
        },
      ),
    },
    {
      weight: 3,
      arbitrary: fc
        .record({ currency: validCurrency, minor: fc.integer({ min: 1, max: 5000 }), extra: fc.integer({ min: 1, max: 3 }),
          last: fc.integer({ min: 1, max: 9 }), quoted: fc.boolean() })
        .map(({ currency, minor, extra, last, quoted }): MoneyPart => {
          const text = formatMajor(minor * 10 ** extra + last, EXPONENT[currency]! + extra);
          return { label: 'amount:too-many-decimals', node: raw(quoted ? JSON.stringify(text) : text), currency: cur(currency), fault: 'amount' };
        }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ currency: validCurrency, text: fc.constantFrom(...BAD_AMOUNTS) }).map(
        ({ currency, text }): MoneyPart => ({ label: 'amount:bad-number', node: raw(text), currency: cur(currency), fault: 'amount' }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.record({ currency: validCurrency, s: fc.constantFrom(...HOSTILE_STRINGS) }).map(
        ({ currency, s }): MoneyPart => ({ label: 'amount:sql', node: raw(JSON.stringify(s)), currency: cur(currency), fault: 'amount' }),
      ),
    },
    {
      weight: 2,
      arbitrary: fc.record({ currency: validCurrency, text: fc.constantFrom(...AMOUNT_TYPE_CONFUSION) }).map(
        ({ currency, text }): MoneyPart => ({ label: 'amount:type-confusion', node: raw(text), currency: cur(currency), fault: 'amount' }),
      ),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom(...UNKNOWN_CURRENCIES).map(
        (c): MoneyPart => ({ label: 'currency:unknown', node: raw('"1.00"'), currency: cur(c), currencyFault: 'currency' }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.record({ c: fc.constantFrom(...CURRENCY_TYPE_CONFUSION), a: fc.constantFrom(...AMOUNT_TYPE_CONFUSION) }).map(
        ({ c, a }): MoneyPart => ({ label: 'currency:type-confusion', node: raw(a), currency: raw(c), fault: 'amount', currencyFault: 'currency' }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('amount', 'currency').map(
        (missing): MoneyPart => missing === 'amount'
          ? { label: 'amount:missing', currency: cur('USD'), fault: 'amount' }
          : { label: 'currency:missing', node: raw('"1.00"'), currencyFault: 'currency' },
      ),
    },
    {
      weight: 1,
      arbitrary: fc.record({ minor: fc.integer({ min: 1, max: 5000 }), form: fc.nat() }).map(({ minor, form }): MoneyPart => {
        const spellings = amountSpellings(minor, 2);
        return { label: 'business:currency_not_supported', node: raw(spellings[form % spellings.length]!), currency: cur('EUR'), business: 'currency_not_supported' };
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ currency: validCurrency, form: fc.nat() }).map(({ currency, form }): MoneyPart => {
        const options = INSUFFICIENT[currency]!;
        return { label: 'business:insufficient_balance', node: raw(options[form % options.length]!), currency: cur(currency), business: 'insufficient_balance' };
      }),
    },
  );
}

function descriptionPart(): fc.Arbitrary<TextPart> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant<TextPart>({ label: 'ok', echo: null }) },
    { weight: 1, arbitrary: fc.constant<TextPart>({ label: 'ok', node: raw('null'), echo: null }) },
    {
      weight: 5,
      arbitrary: fc.record({ s: hostileText(300), style: fc.constantFrom<StringStyle>('json', 'json', 'escape-non-ascii', 'escape-all') })
        .map(({ s, style }): TextPart => ({ label: 'ok:hostile-text', node: raw(encodeString(s, style)), echo: s })),
    },
    { weight: 1, arbitrary: fc.constant<TextPart>({ label: 'ok:500-chars', node: raw(JSON.stringify('d'.repeat(500))), echo: 'd'.repeat(500) }) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 501, max: 900 }).map((n): TextPart => ({ label: 'description:too-long', node: raw(JSON.stringify('x'.repeat(n))), fault: 'description', echo: null })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('123', 'true', '[]', '{}', '{"$ne":null}', '["a"]', '1e309', '-0')
        .map((text): TextPart => ({ label: 'description:type-confusion', node: raw(text), fault: 'description', echo: null })),
    },
    {
      weight: 1,
      arbitrary: fc.record({ s: hostileText(100), bad: fc.constantFrom('\\u0000', '\\ud800', '\\udc00', '\\udbff\\u0041') })
        .map(({ s, bad }): TextPart => {
          const text = JSON.stringify(s);
          return { label: 'description:nul-or-lone-surrogate', node: raw(`${text.slice(0, -1)}${bad}"`), fault: 'description', echo: null };
        }),
    },
  );
}

const metaKey: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom(...HOSTILE_STRINGS),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
    printableAscii(1, 40),
    fc.constantFrom('toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'a.b', 'a/b', '~0', '$where', '$ne', '0', '-1', ' ', 'k'.repeat(40)),
  )
  .filter((k) => k.length >= 1 && k.length <= 40 && storable(k) && !FORBIDDEN_KEYS.has(k));

const metaEntries = (max: number): fc.Arbitrary<[string, string][]> =>
  fc.uniqueArray(fc.tuple(metaKey, hostileText(60)), { maxLength: max, selector: (e) => e[0] });

function metadataNode(entries: readonly (readonly [string, string])[], style: StringStyle, extra: Member[] = []): JNode {
  return obj([...entries.map(([k, v]) => member(k, raw(encodeString(v, style)), encodeString(k, style))), ...extra]);
}

function metadataPart(): fc.Arbitrary<MetaPart> {
  const style = fc.constantFrom<StringStyle>('json', 'json', 'escape-non-ascii', 'escape-all');
  const fault = (label: string, node: JNode): MetaPart => ({ label, node, fault: 'metadata', echo: {} });
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant<MetaPart>({ label: 'ok', echo: {} }) },
    {
      weight: 5,
      arbitrary: fc.record({ entries: metaEntries(8), style }).map(
        ({ entries, style: s }): MetaPart => ({ label: 'ok:hostile-metadata', node: metadataNode(entries, s), echo: Object.fromEntries(entries) }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.record({ entries: fc.uniqueArray(fc.tuple(metaKey, fc.constant('v')), { minLength: 20, maxLength: 20, selector: (e) => e[0] }), style }).map(
        ({ entries, style: s }): MetaPart => ({ label: 'ok:metadata-20-keys', node: metadataNode(entries, s), echo: Object.fromEntries(entries) }),
      ),
    },
    {
      weight: 2,
      arbitrary: fc.record({ entries: metaEntries(3), key: metaKey, value: fc.constantFrom('1', '-0', '1e309', 'true', 'null', '[]', '{}', '{"a":"b"}', '["x"]', '0.30000000000000004') })
        .filter(({ entries, key }) => !entries.some(([k]) => k === key))
        .map(({ entries, key, value }) => fault('metadata:non-string-value', metadataNode(entries, 'json', [member(key, raw(value))]))),
    },
    {
      weight: 1,
      arbitrary: fc.uniqueArray(fc.tuple(metaKey, fc.constant('v')), { minLength: 21, maxLength: 30, selector: (e) => e[0] })
        .map((entries) => fault('metadata:too-many-keys', metadataNode(entries, 'json'))),
    },
    {
      weight: 1,
      arbitrary: fc.oneof(fc.constant(''), printableAscii(41, 80).filter((k) => k.length > 40))
        .map((k) => fault('metadata:bad-key-length', metadataNode([[k, 'v']], 'json'))),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 501, max: 800 }).map((n) => fault('metadata:value-too-long', metadataNode([['k', 'v'.repeat(n)]], 'json'))),
    },
    {
      weight: 1,
      arbitrary: fc.record({ inKey: fc.boolean(), bad: fc.constantFrom('\\u0000', '\\ud800', '\\udc00') }).map(({ inKey, bad }) =>
        fault('metadata:nul-or-lone-surrogate', obj([inKey ? member(`k${JSON.parse(`"${bad}"`) as string}`, raw('"v"'), `"k${bad}"`) : member('k', raw(`"v${bad}"`))])),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('"str"', '[]', 'null', '1', 'true', '[{"k":"v"}]', '"{\\"k\\":\\"v\\"}"')
        .map((text) => fault('metadata:not-an-object', raw(text))),
    },
  );
}

/** Fields a client might hope to set (mass assignment) and near-miss spellings of real ones. */
const MASS_ASSIGNMENT = [
  'balance', 'status', 'id', 'user', 'amount_minor', 'new_balance', 'new_balance_minor', 'transaction', 'type', 'created_at',
  'idempotency_key', 'signed_amount', 'balance_after', 'balance_after_minor', 'is_admin', 'admin', 'role', 'client',
  'fingerprint', 'User_Id', 'AMOUNT', 'Currency', 'user_id ', ' amount', 'userId', 'amount\u200b', "'; DROP TABLE users; --",
] as const;

interface ExtraPart {
  readonly name: string;
  readonly value: JNode;
}

const extraValue: fc.Arbitrary<JNode> = fc.oneof(
  fc.constantFrom('1000000', '"completed"', 'true', 'null', '-0', '1e309', '0.30000000000000004', '{"USD":1e12}').map(raw),
  fc.jsonValue({ maxDepth: 2 }).map(toNode),
  fc.record({ depth: fc.integer({ min: 1, max: 14 }), kind: fc.constantFrom<'arr' | 'obj' | 'mixed'>('arr', 'obj', 'mixed') })
    .map(({ depth, kind }) => nested(depth, kind)),
);

const extrasPart: fc.Arbitrary<ExtraPart[]> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<ExtraPart[]>([]) },
  {
    weight: 2,
    arbitrary: fc.uniqueArray(fc.record({ name: fc.constantFrom(...MASS_ASSIGNMENT), value: extraValue }), { minLength: 1, maxLength: 3, selector: (e) => e.name }),
  },
);

type Shape = 'object' | 'array-wrapped' | 'string' | 'null' | 'number' | 'true' | 'empty-array';

type Structural =
  | { readonly kind: 'none' }
  | { readonly kind: 'duplicate'; readonly where: number; readonly which: number; readonly escaped: boolean; readonly value: JNode }
  | { readonly kind: 'forbidden'; readonly where: number; readonly name: string; readonly escaped: boolean; readonly value: JNode }
  | { readonly kind: 'deep'; readonly where: number; readonly depth: number; readonly shape: 'arr' | 'obj' | 'mixed' }
  | { readonly kind: 'mutate'; readonly ops: readonly (readonly [number, number, string])[] }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'invalid-utf8'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly kind: 'bom' | 'empty' | 'whitespace-only' }
  | { readonly kind: 'not-json'; readonly text: string };

const NOT_JSON = [
  'user_id=1&amount=1&currency=USD', "{'user_id':1,'amount':1,'currency':'USD'}", '<charge amount="1"/>', 'undefined', 'NaN',
  '{"amount":NaN}', '{"amount":Infinity}', '{"amount":0x10}', '{"amount":.5}', '{"amount":01}', '{"amount":1.}', '{"a":1}//',
  '/*c*/{}', '{"a":"\\x41"}', '{"a":"\\u00"}', '{"a":"\t"}', '{"a":1,}', '[1,]', '{,}', '{"a" 1}', '{"a":1 "b":2}', '{"a":tru}',
  '{"a":nul}', '{"a":True}', '{"a":1}}', '{{}}', '{"a":[}', '"unterminated', '{"a":1', '{"\\uD83D":1', '{"a":-}', '{"a":1e}',
  '{"a":+1}', "{\"a\":'x'}", '{"a":"b"c}', '\u0000{}', '{}\u0000', '{"a":\u00a01}',
] as const;
const MUTATION_CHARS = ['{', '}', '[', ']', ',', ':', '"', '\\', "'", '\n', 'x', '0', '-', '.', 'e', '/', '*', ' ', '\u0001', 'é'];

const structuralPart: fc.Arbitrary<Structural> = fc.oneof(
  { weight: 30, arbitrary: fc.constant<Structural>({ kind: 'none' }) },
  {
    weight: 3,
    arbitrary: fc.record({ where: fc.nat(), which: fc.nat(), escaped: fc.boolean(), value: extraValue })
      .map((r): Structural => ({ kind: 'duplicate', ...r })),
  },
  {
    weight: 3,
    arbitrary: fc.record({ where: fc.nat(), name: fc.constantFrom('__proto__', 'constructor', 'prototype'), escaped: fc.boolean(),
      value: fc.oneof(fc.constantFrom('{"amount":1000000}', '{"isAdmin":true}', '{"polluted":"yes"}', 'null', '{}', '[]', '"x"').map(raw), extraValue) })
      .map((r): Structural => ({ kind: 'forbidden', ...r })),
  },
  {
    weight: 2,
    arbitrary: fc.record({ where: fc.nat(), depth: fc.oneof(fc.integer({ min: 8, max: 12 }), fc.integer({ min: 13, max: 2000 })),
      shape: fc.constantFrom<'arr' | 'obj' | 'mixed'>('arr', 'obj', 'mixed') })
      .map((r): Structural => ({ kind: 'deep', ...r })),
  },
  {
    weight: 3,
    arbitrary: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 3 }), fc.constantFrom(...MUTATION_CHARS)), { minLength: 1, maxLength: 4 })
      .map((ops): Structural => ({ kind: 'mutate', ops })),
  },
  { weight: 2, arbitrary: fc.nat().map((at): Structural => ({ kind: 'truncate', at })) },
  {
    weight: 1,
    arbitrary: fc.record({ at: fc.nat(), bytes: fc.constantFrom([0xc3, 0x28], [0xff], [0xfe], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80]) })
      .map((r): Structural => ({ kind: 'invalid-utf8', ...r })),
  },
  { weight: 1, arbitrary: fc.constantFrom<Structural>({ kind: 'bom' }, { kind: 'empty' }, { kind: 'whitespace-only' }) },
  { weight: 1, arbitrary: fc.constantFrom(...NOT_JSON).map((text): Structural => ({ kind: 'not-json', text })) },
);

type Size = { readonly kind: 'normal' } | { readonly kind: 'exact-limit' | 'over-limit'; readonly extra: number; readonly leading: boolean; readonly pad: string };

const sizePart: fc.Arbitrary<Size> = fc.oneof(
  { weight: 24, arbitrary: fc.constant<Size>({ kind: 'normal' }) },
  {
    weight: 1,
    arbitrary: fc.record({ extra: fc.constant(0), leading: fc.boolean(), pad: fc.constantFrom(' ', '\n', '\t', '\r\n') })
      .map((r): Size => ({ kind: 'exact-limit', ...r })),
  },
  {
    weight: 2,
    arbitrary: fc.record({ extra: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 4096 })), leading: fc.boolean(), pad: fc.constantFrom(' ', '\n', '\t') })
      .map((r): Size => ({ kind: 'over-limit', ...r })),
  },
);

type ContentType =
  | { readonly kind: 'ok' | 'bad-media-type' | 'bad-charset'; readonly value: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'repeated'; readonly first: string; readonly firstOk: boolean; readonly second: string };

const OK_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'application/json; charset=UTF-8', 'application/json;charset="utf-8"',
  'Application/JSON', 'application/vnd.picopay+json', 'application/json ; charset=utf-8', 'application/json;', 'application/json; foo=bar',
  'application/problem+json', 'application/json; charset=utf8',
] as const;
const BAD_MEDIA_TYPES = [
  'text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml',
  'text/json', 'application/jsonp', 'application/json-patch', 'application/x-json', 'application/javascript', 'application/octet-stream',
  '*/*', 'application/*', 'json', '', ';', "application/json'; DROP TABLE users; --", 'application/jsön', 'application/json, text/plain',
  'application/json/json', 'application /json',
] as const;
const BAD_CHARSETS = [
  'application/json; charset=utf-16', 'application/json; charset=latin1', 'application/json; charset=iso-8859-1',
  'application/json; charset="ascii"', 'application/json; charset=UTF-32', 'application/json; charset=',
] as const;

const contentTypePart: fc.Arbitrary<ContentType> = fc.oneof(
  { weight: 30, arbitrary: fc.constant<ContentType>({ kind: 'ok', value: 'application/json' }) },
  { weight: 4, arbitrary: fc.constantFrom(...OK_TYPES).map((value): ContentType => ({ kind: 'ok', value })) },
  { weight: 2, arbitrary: fc.constantFrom(...BAD_MEDIA_TYPES).map((value): ContentType => ({ kind: 'bad-media-type', value })) },
  { weight: 1, arbitrary: fc.constantFrom(...BAD_CHARSETS).map((value): ContentType => ({ kind: 'bad-charset', value })) },
  { weight: 1, arbitrary: fc.constant<ContentType>({ kind: 'missing' }) },
  {
    weight: 1,
    arbitrary: fc.record({ firstOk: fc.boolean(), ok: fc.constantFrom('application/json', 'application/json; charset=utf-8'), bad: fc.constantFrom('text/plain', 'application/xml') })
      .map(({ firstOk, ok, bad }): ContentType => ({ kind: 'repeated', firstOk, first: firstOk ? ok : bad, second: firstOk ? bad : ok })),
  },
);

type IdemKey =
  | { readonly kind: 'uuid' | 'missing' | 'empty' | 'repeated' | 'crlf-duplicate' | 'bare-lf' | 'bare-cr' | 'obs-fold' }
  | { readonly kind: 'bare' | 'quoted' | 'comma' | 'latin1' | 'utf8' | 'tab'; readonly part: string }
  | { readonly kind: 'exact-255' }
  | { readonly kind: 'too-long' | 'huge'; readonly length: number }
  | { readonly kind: 'control'; readonly char: string };

const CONTROL_CHARS = [0, 1, 2, 7, 8, 0x0b, 0x0c, 0x0e, 0x1b, 0x1f, 0x7f].map((c) => String.fromCharCode(c));

const keyPart: fc.Arbitrary<IdemKey> = fc.oneof(
  { weight: 20, arbitrary: fc.constant<IdemKey>({ kind: 'uuid' }) },
  {
    weight: 8,
    arbitrary: fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), printableAscii(1, 300)).filter(bareKeySafe)
      .map((part): IdemKey => ({ kind: 'bare', part })),
  },
  { weight: 2, arbitrary: printableAscii(0, 120).map((part): IdemKey => ({ kind: 'quoted', part })) },
  { weight: 2, arbitrary: fc.constant<IdemKey>({ kind: 'exact-255' }) },
  { weight: 2, arbitrary: fc.constantFrom<IdemKey>({ kind: 'missing' }, { kind: 'empty' }, { kind: 'repeated' }) },
  { weight: 2, arbitrary: fc.integer({ min: 256, max: 6000 }).map((length): IdemKey => ({ kind: 'too-long', length })) },
  { weight: 1, arbitrary: fc.integer({ min: 17_000, max: 24_000 }).map((length): IdemKey => ({ kind: 'huge', length })) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_STRINGS).filter(bareKeySafe).map((part): IdemKey => ({ kind: 'comma', part })) },
  { weight: 2, arbitrary: fc.constantFrom('é', 'ÿ', '\u0080', '\u00a0', 'ñ', '\u00ad').map((part): IdemKey => ({ kind: 'latin1', part })) },
  { weight: 1, arbitrary: fc.constantFrom('clé', '€', '😀', '名前', '\u2028').map((part): IdemKey => ({ kind: 'utf8', part })) },
  { weight: 1, arbitrary: fc.constantFrom(...CONTROL_CHARS).map((char): IdemKey => ({ kind: 'control', char })) },
  { weight: 1, arbitrary: fc.constant<IdemKey>({ kind: 'tab', part: 'a' }) },
  { weight: 2, arbitrary: fc.constantFrom<IdemKey>({ kind: 'crlf-duplicate' }, { kind: 'bare-lf' }, { kind: 'bare-cr' }, { kind: 'obs-fold' }) },
);

type Auth = { readonly kind: 'ok' | 'missing' | 'repeated' } | { readonly kind: 'wrong'; readonly value: string };

const authPart = (clientKey: string): fc.Arbitrary<Auth> =>
  fc.oneof(
    { weight: 40, arbitrary: fc.constant<Auth>({ kind: 'ok' }) },
    { weight: 1, arbitrary: fc.constantFrom<Auth>({ kind: 'missing' }, { kind: 'repeated' }) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.constantFrom(...HOSTILE_STRINGS).filter(fetchHeaderSafe),
        fc.constantFrom(clientKey.toUpperCase(), clientKey.slice(0, -1), `${clientKey}x`, `Bearer ${clientKey}`, `${clientKey},${clientKey}`, '', 'rk_admin_reliability_key_0000000000'),
      ).map((value): Auth => ({ kind: 'wrong', value })),
    },
  );

type HttpFault = 'none' | 'header-cr' | 'header-lf' | 'header-nul' | 'header-del' | 'obs-fold' | 'no-colon' | 'space-before-colon'
  | 'bad-name' | 'empty-name' | 'duplicate-content-length' | 'content-length-and-chunked' | 'te-gzip' | 'content-length-plus';

const httpFaultPart: fc.Arbitrary<HttpFault> = fc.oneof(
  { weight: 40, arbitrary: fc.constant<HttpFault>('none') },
  {
    weight: 1,
    arbitrary: fc.constantFrom<HttpFault>('header-cr', 'header-lf', 'header-nul', 'header-del', 'obs-fold', 'no-colon', 'space-before-colon',
      'bad-name', 'empty-name', 'duplicate-content-length', 'content-length-and-chunked', 'te-gzip', 'content-length-plus'),
  },
);

type RequestId = { readonly kind: 'none' | 'safe' } | { readonly kind: 'hostile'; readonly value: string };

const requestIdPart: fc.Arbitrary<RequestId> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<RequestId>({ kind: 'none' }) },
  { weight: 1, arbitrary: fc.constant<RequestId>({ kind: 'safe' }) },
  {
    weight: 1,
    arbitrary: fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.constantFrom('a'.repeat(65), 'a b', 'é', '<script>', 'x\ty'))
      .filter(fetchHeaderSafe).map((value): RequestId => ({ kind: 'hostile', value })),
  },
);

export interface CaseSpec {
  readonly mode: 'mixed' | 'single' | 'clean';
  readonly auth: Auth;
  readonly contentType: ContentType;
  readonly key: IdemKey;
  readonly userId: FieldPart;
  readonly money: MoneyPart;
  readonly description: TextPart;
  readonly metadata: MetaPart;
  readonly extras: readonly ExtraPart[];
  readonly shape: Shape;
  readonly order: readonly number[];
  readonly ws: string;
  readonly keyStyle: StringStyle;
  readonly structural: Structural;
  readonly size: Size;
  readonly httpFault: HttpFault;
  readonly requestId: RequestId;
  readonly preferRaw: boolean;
  readonly chunks: number;
}

const isOkLabel = (label: string): boolean => label === 'ok' || label.startsWith('ok:');
const VALID_KEY_KINDS: ReadonlySet<IdemKey['kind']> = new Set(['uuid', 'bare', 'quoted', 'exact-255']);

/** Which dimensions of a spec carry something hostile (a fault, or for requestId a value the server must not echo). */
function hostileDimensions(spec: CaseSpec): (keyof CaseSpec)[] {
  const out: (keyof CaseSpec)[] = [];
  if (spec.auth.kind !== 'ok') out.push('auth');
  if (spec.contentType.kind !== 'ok') out.push('contentType');
  if (!VALID_KEY_KINDS.has(spec.key.kind)) out.push('key');
  for (const field of ['userId', 'money', 'description', 'metadata'] as const) if (!isOkLabel(spec[field].label)) out.push(field);
  if (spec.extras.length > 0) out.push('extras');
  if (spec.shape !== 'object') out.push('shape');
  if (spec.structural.kind !== 'none') out.push('structural');
  if (spec.size.kind === 'over-limit') out.push('size');
  if (spec.httpFault !== 'none') out.push('httpFault');
  if (spec.requestId.kind === 'hostile') out.push('requestId');
  return out;
}

/**
 * One generated request, in one of three mixes: "mixed" draws every dimension independently (several faults at once,
 * so the order in which the server checks them is what decides); "single" is a valid request with exactly one hostile
 * dimension taken from a mixed draw (so every fault is seen on its own, unmasked); "clean" is a valid charge whose
 * strings (description, metadata, key) are hostile but legal, and must be stored and echoed byte for byte.
 */
export function caseArbitrary(uid: number, clientKey: string): fc.Arbitrary<CaseSpec> {
  const common = {
    order: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
    ws: fc.constantFrom('', '', '', ' ', '\n', '\t', '\r\n', ' \n\t '),
    keyStyle: fc.constantFrom<StringStyle>('json', 'json', 'json', 'escape-all'),
    requestId: requestIdPart,
    preferRaw: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    chunks: fc.integer({ min: 0, max: 3 }),
  };
  const mixed: fc.Arbitrary<CaseSpec> = fc.record({
    ...common,
    mode: fc.constant<CaseSpec['mode']>('mixed'),
    auth: authPart(clientKey),
    contentType: contentTypePart,
    key: keyPart,
    userId: userIdPart(uid),
    money: moneyPart(),
    description: descriptionPart(),
    metadata: metadataPart(),
    extras: extrasPart,
    shape: fc.oneof(
      { weight: 40, arbitrary: fc.constant<Shape>('object') },
      { weight: 1, arbitrary: fc.constantFrom<Shape>('array-wrapped', 'string', 'null', 'number', 'true', 'empty-array') },
    ),
    structural: structuralPart,
    size: sizePart,
    httpFault: httpFaultPart,
  });
  const clean: fc.Arbitrary<CaseSpec> = fc.record({
    ...common,
    mode: fc.constant<CaseSpec['mode']>('clean'),
    auth: fc.constant<Auth>({ kind: 'ok' }),
    contentType: contentTypePart.filter((c) => c.kind === 'ok'),
    key: keyPart.filter((k) => VALID_KEY_KINDS.has(k.kind)),
    userId: userIdPart(uid).filter((p) => isOkLabel(p.label)),
    money: moneyPart().filter((p) => isOkLabel(p.label)),
    description: descriptionPart().filter((p) => isOkLabel(p.label)),
    metadata: metadataPart().filter((p) => isOkLabel(p.label)),
    extras: fc.constant<ExtraPart[]>([]),
    shape: fc.constant<Shape>('object'),
    structural: fc.constant<Structural>({ kind: 'none' }),
    size: sizePart.filter((z) => z.kind !== 'over-limit'),
    httpFault: fc.constant<HttpFault>('none'),
    requestId: requestIdPart.filter((r) => r.kind !== 'hostile'),
  });
  const single = fc.record({ base: clean, donor: mixed, pick: fc.nat() }).map(({ base, donor, pick }): CaseSpec => {
    const hostile = hostileDimensions(donor);
    const dimension = hostile[pick % Math.max(1, hostile.length)];
    return dimension === undefined ? base : { ...base, mode: 'single', [dimension]: donor[dimension] };
  });
  return fc.oneof({ weight: 2, arbitrary: mixed }, { weight: 1, arbitrary: clean }, { weight: 2, arbitrary: single });
}

// ------------------------------------------------------------------------------------------------------------------
// Materialization and the oracle
// ------------------------------------------------------------------------------------------------------------------

export interface Intended {
  readonly currency: string;
  readonly minor: number;
  readonly description: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly storedKey: string;
}

export interface Expected {
  readonly status: number;
  /** Problem code; undefined for a 200 and for a rejection by Node's HTTP parser. */
  readonly code?: string;
  /** validation_failed must name each of these (exactly or as "field.…"); undefined: names not asserted. */
  readonly fields?: readonly string[];
  /** Refused by Node's HTTP parser before Fastify sees it. */
  readonly httpLayer?: boolean;
  readonly intended?: Intended;
  /** The request id we sent and whether the server may echo it. */
  readonly requestId?: { readonly sent: string; readonly echo: boolean };
}

export interface Wire {
  readonly transport: 'fetch' | 'raw';
  /** Header name and value; raw values are written as UTF-8 bytes and may contain anything. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** raw only: send the body with Transfer-Encoding: chunked in this many chunks (0: Content-Length). */
  readonly chunks: number;
  /** raw only: header lines written right after the request line (HTTP-parser faults). */
  readonly leadingLines: readonly string[];
  /** raw only: replaces the Content-Length line. */
  readonly contentLength?: string;
}

export interface Built {
  readonly wire: Wire;
  readonly expected: Expected;
  readonly labels: readonly string[];
  /** The body text before byte-level faults, for failure reports. */
  readonly preview: string;
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function parsesAsJson(bytes: Buffer): boolean {
  try {
    const text = utf8Fatal.decode(bytes);
    if (text.charCodeAt(0) === 0xfeff) return false;
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function keyHeader(key: IdemKey, token: string): { value?: string; repeatedValue?: string; raw: boolean; stored?: string; fault?: 'key' | 'http400' | 'http431' } {
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

const HTTP_FAULT_LINES: Readonly<Record<Exclude<HttpFault, 'none' | 'duplicate-content-length' | 'content-length-plus'>, readonly string[]>> = {
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

/** Builds the bytes for one spec and decides the outcome it must get. `token` makes every key unique. */
export function materialize(spec: CaseSpec, uid: number, token: string, clientKey: string): Built {
  const labels: string[] = [`mode:${spec.mode}`];
  const label = (l: string): void => void (l !== 'ok' && !labels.includes(l) && labels.push(l));

  // ---- body tree
  const { money, description, metadata, userId } = spec;
  const fields: [string, JNode | undefined][] = [
    ['user_id', userId.node], ['amount', money.node], ['currency', money.currency],
    ['description', description.node], ['metadata', metadata.node],
    ...spec.extras.map((e): [string, JNode] => [e.name, e.value]),
  ];
  const ranked = fields
    .map((f, i) => ({ f, rank: spec.order[i % spec.order.length]! * 16 + i }))
    .sort((a, b) => a.rank - b.rank)
    .map((r) => r.f);
  const members = ranked.filter((f): f is [string, JNode] => f[1] !== undefined)
    .map(([name, node]) => member(name, node, encodeString(name, spec.keyStyle)));
  const bodyObject = obj(members);
  const root: JNode = spec.shape === 'object' ? bodyObject
    : spec.shape === 'array-wrapped' ? arr([bodyObject])
    : spec.shape === 'empty-array' ? arr([])
    : raw({ string: '"charge"', null: 'null', number: '1', true: 'true' }[spec.shape]);
  if (spec.shape !== 'object') label(`shape:${spec.shape}`);
  for (const part of [userId, money, description, metadata]) label(part.label);
  if (spec.extras.length > 0) label('mass-assignment');

  // ---- structural faults on the tree
  const st = spec.structural;
  let deep = false;
  if (st.kind === 'duplicate' || st.kind === 'forbidden' || st.kind === 'deep') {
    const objects = objectsOf(root);
    const target = objects[st.where % Math.max(1, objects.length)];
    if (target === undefined) {
      // a scalar or empty-array body has no object to put the fault in
    } else if (st.kind === 'duplicate') {
      const existing = target[st.which % Math.max(1, target.length)];
      if (existing === undefined) target.push(member('dup', raw('1')), member('dup', st.value));
      else target.push(member(existing.key, st.value, st.escaped ? encodeString(existing.key, 'escape-all') : JSON.stringify(existing.key)));
      label(target === members ? 'json:duplicate-key' : 'json:duplicate-key-nested');
    } else if (st.kind === 'forbidden') {
      target.push(member(st.name, st.value, st.escaped ? encodeString(st.name, 'escape-all') : JSON.stringify(st.name)));
      label(target === members ? 'json:forbidden-key' : 'json:forbidden-key-nested');
    } else {
      // Rendered as text (up to 2,000 levels would overflow the recursive helpers); it sits inside an object, so the
      // document is at least depth + 1 > 8 deep.
      target.push(member('nest', raw(deepText(st.depth, st.shape))));
      deep = true;
      label('json:too-deep');
    }
  }
  const treeDepth = depthOf(root);
  if (treeDepth > MAX_DEPTH) label('json:too-deep');
  if (treeDepth === MAX_DEPTH) label('json:depth-exactly-8');
  const treeInvalid = deep || hasDuplicateKey(root) || hasForbiddenKey(root) || treeDepth > MAX_DEPTH;

  // ---- text and byte faults
  let text = render(root, spec.ws);
  let textMutated = false;
  if (st.kind === 'mutate') {
    let mutated = text;
    for (const [pos, op, ch] of st.ops) {
      const at = pos % (mutated.length + 1);
      if (op === 0) mutated = mutated.slice(0, at) + mutated.slice(at + 1);
      else if (op === 1) mutated = mutated.slice(0, at) + ch + mutated.slice(at);
      else if (op === 2) mutated = mutated.slice(0, at) + ch + mutated.slice(at + 1);
      else mutated = mutated.slice(0, at) + mutated.slice(at, at + 1).repeat(2) + mutated.slice(at + 1);
    }
    // A mutation that still parses is not malformed: fall back to a truncation, which never parses.
    text = parsesAsJson(Buffer.from(mutated)) ? text.trimEnd().slice(0, (st.ops[0]?.[0] ?? 0) % text.trimEnd().length) : mutated;
    textMutated = true;
    label('json:malformed');
  } else if (st.kind === 'truncate') {
    const trimmed = text.trimEnd();
    text = trimmed.slice(0, st.at % trimmed.length);
    textMutated = true;
    label('json:truncated');
  } else if (st.kind === 'not-json') {
    text = st.text;
    textMutated = true;
    label('json:not-json');
  } else if (st.kind === 'empty' || st.kind === 'whitespace-only') {
    text = st.kind === 'empty' ? '' : spec.ws.length > 0 ? spec.ws.repeat(3) : ' \n';
    textMutated = true;
    label(`json:${st.kind}`);
  }
  let body = Buffer.from(text, 'utf8');
  if (st.kind === 'invalid-utf8') {
    const at = st.at % (body.length + 1);
    body = Buffer.concat([body.subarray(0, at), Buffer.from(st.bytes), body.subarray(at)]);
    label('json:invalid-utf8');
  } else if (st.kind === 'bom') {
    body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
    label('json:bom');
  }
  const size = spec.size;
  if (size.kind !== 'normal') {
    const target = size.kind === 'exact-limit' ? BODY_LIMIT : BODY_LIMIT + size.extra;
    if (body.length < target && body.length > 0) {
      const pad = Buffer.from(size.pad.repeat(Math.ceil((target - body.length) / size.pad.length)).slice(0, target - body.length));
      body = size.leading ? Buffer.concat([pad, body]) : Buffer.concat([body, pad]);
    }
  }
  if (body.length > BODY_LIMIT) label('size:over-limit');
  else if (body.length === BODY_LIMIT) label('size:exactly-limit');

  // ---- headers
  const headers: [string, string][] = [];
  let needsRaw = false;
  const auth = spec.auth;
  if (auth.kind === 'ok') headers.push(['X-API-Key', clientKey]);
  else if (auth.kind === 'repeated') headers.push(['X-API-Key', clientKey], ['X-API-Key', clientKey]);
  else if (auth.kind === 'wrong') headers.push(['X-API-Key', auth.value]);
  if (auth.kind !== 'ok') label(`auth:${auth.kind}`);

  const ct = spec.contentType;
  if (ct.kind === 'repeated') {
    headers.push(['Content-Type', ct.first], ['Content-Type', ct.second]);
    needsRaw = true; // fetch would join them into one line
    label('content-type:repeated');
  } else if (ct.kind !== 'missing') {
    headers.push(['Content-Type', ct.value]);
    if (ct.kind !== 'ok') label(`content-type:${ct.kind}`);
    else if (ct.value !== 'application/json') label('ok:content-type-variant');
  } else {
    label('content-type:missing');
  }

  const key = keyHeader(spec.key, token);
  if (key.value !== undefined) headers.push(['Idempotency-Key', key.value]);
  if (key.repeatedValue !== undefined) headers.push(['Idempotency-Key', key.repeatedValue]);
  needsRaw ||= key.raw;
  if (key.fault !== undefined || spec.key.kind !== 'uuid') label(`key:${spec.key.kind}`);

  const rid = spec.requestId;
  const sentRequestId = rid.kind === 'safe' ? `rid-${token}` : rid.kind === 'hostile' ? rid.value : undefined;
  if (sentRequestId !== undefined) {
    headers.push(['X-Request-Id', sentRequestId]);
    label(`request-id:${rid.kind}`);
  }

  const leadingLines: string[] = [];
  let contentLength: string | undefined;
  // An oversized header (431) and a parser fault (400) together would race inside the parser: keep one.
  const httpFault = spec.key.kind === 'huge' ? 'none' : spec.httpFault;
  if (httpFault !== 'none') {
    needsRaw = true;
    label(`http:${httpFault}`);
    if (httpFault === 'duplicate-content-length') leadingLines.push(`Content-Length: ${body.length + 1}`);
    else if (httpFault === 'content-length-plus') contentLength = `+${body.length}`;
    else leadingLines.push(...HTTP_FAULT_LINES[httpFault]);
  }
  const transport = needsRaw || spec.preferRaw ? 'raw' : 'fetch';
  // Chunked framing only without parser faults: "Transfer-Encoding: gzip" plus chunked is "gzip, chunked", which is valid.
  const chunks = transport === 'raw' && httpFault === 'none' ? spec.chunks : 0;
  if (transport === 'raw') label(chunks > 0 ? 'transport:raw-chunked' : 'transport:raw');

  // ---- the oracle, in the server's order
  // Fastify runs the body parser whenever a Content-Type is sent (even for an empty body), otherwise only for a body.
  const parsed = ct.kind !== 'missing' || chunks > 0 || body.length > 0;
  const intendedBase = money.intended;
  const expected = ((): Expected => {
    const requestId = sentRequestId === undefined ? undefined : { sent: sentRequestId, echo: SAFE_REQUEST_ID.test(sentRequestId) };
    if (key.fault === 'http431') return { status: 431, httpLayer: true };
    if (httpFault !== 'none' || key.fault === 'http400') return { status: 400, httpLayer: true };
    const problem = (status: number, code: string, fields?: readonly string[]): Expected => ({ status, code, fields, requestId });
    if (auth.kind !== 'ok') return problem(401, 'unauthorized');
    if (parsed) {
      const effective = ct.kind === 'repeated' ? (ct.firstOk ? 'ok' : 'bad-media-type') : ct.kind;
      if (effective === 'missing' || effective === 'bad-media-type') return problem(415, 'unsupported_media_type');
      if (body.length > BODY_LIMIT) return problem(413, 'payload_too_large');
      if (effective === 'bad-charset') return problem(415, 'unsupported_media_type');
      if (!parsesAsJson(body) || (!textMutated && treeInvalid)) return problem(400, 'invalid_json');
    }
    if (key.fault !== undefined) return problem(400, 'invalid_idempotency_key');
    if (!parsed || spec.shape !== 'object') return problem(422, 'validation_failed', ['body']);
    const named = [userId.fault, money.fault, money.currencyFault, description.fault, metadata.fault, ...spec.extras.map((e) => e.name)]
      .filter((f): f is string => f !== undefined);
    // The amount is only checked against a currency the server knows; a wrong type is the schema's to report anyway.
    const amountNamed = money.currencyFault === undefined || money.label === 'currency:type-confusion';
    if (named.length > 0) return problem(422, 'validation_failed', named.filter((f) => f !== 'amount' || amountNamed));
    if (userId.business === 'user_not_found') return problem(404, 'user_not_found');
    if (money.business === 'currency_not_supported') return problem(422, 'currency_not_supported');
    if (money.business === 'insufficient_balance') return problem(400, 'insufficient_balance');
    if (intendedBase === undefined || key.stored === undefined) throw new Error('generator bug: a valid request without an amount or key');
    return {
      status: 200,
      requestId,
      intended: { ...intendedBase, description: description.echo, metadata: metadata.echo, storedKey: key.stored },
    };
  })();
  if (expected.status === 200) labels.push('valid');

  return {
    wire: { transport, headers, body, chunks, leadingLines, contentLength },
    expected,
    labels,
    preview: text.length > 300 ? `${text.slice(0, 300)}… (${body.length} bytes)` : text,
  };
}

// ------------------------------------------------------------------------------------------------------------------
// Wire clients
// ------------------------------------------------------------------------------------------------------------------

export interface HttpReply {
  readonly status: number; // 0: no HTTP answer
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly error?: string;
}

/** fetch (undici, keep-alive): for everything whose header bytes fetch accepts. */
export async function sendFetch(url: string, wire: Wire, timeoutMs: number): Promise<HttpReply> {
  try {
    const headers = new Headers();
    for (const [name, value] of wire.headers) headers.append(name, value);
    const res = await fetch(`${url}/charge`, {
      method: 'POST',
      headers,
      body: new Uint8Array(wire.body), // a copy on its own ArrayBuffer (what BodyInit wants)
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await res.text();
    const out: Record<string, string> = {};
    res.headers.forEach((value, name) => (out[name] = value));
    return { status: res.status, headers: out, body };
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    return { status: 0, headers: {}, body: '', error: String(cause ?? error) };
  }
}

/** One request on a fresh socket, bytes exactly as given: repeated lines, CR/LF, control and non-ASCII bytes. */
export async function sendRaw(port: number, wire: Wire, timeoutMs: number): Promise<HttpReply> {
  const lines = ['POST /charge HTTP/1.1', ...wire.leadingLines, `Host: 127.0.0.1:${port}`, 'Connection: close'];
  for (const [name, value] of wire.headers) lines.push(`${name}: ${value}`);
  let payload = wire.body;
  if (wire.chunks > 0) {
    lines.push('Transfer-Encoding: chunked');
    const parts: Buffer[] = [];
    const step = Math.max(1, Math.ceil(wire.body.length / wire.chunks));
    for (let i = 0; i < wire.body.length; i += step) {
      const chunk = wire.body.subarray(i, i + step);
      parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
    }
    parts.push(Buffer.from('0\r\n\r\n'));
    payload = Buffer.concat(parts);
  } else {
    lines.push(`Content-Length: ${wire.contentLength ?? wire.body.length}`);
  }
  const request = Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), payload]);
  return new Promise<HttpReply>((resolve) => {
    const received: Buffer[] = [];
    let error: string | undefined;
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(timeoutMs, () => {
      error = 'timeout';
      socket.destroy();
    });
    socket.on('connect', () => socket.write(request)); // no half-close: Node would drop the pending response
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', (e) => (error ??= e.message));
    socket.on('close', () => resolve(parseResponse(Buffer.concat(received), error)));
  });
}

function parseResponse(bytes: Buffer, error: string | undefined): HttpReply {
  let offset = 0;
  for (;;) {
    const end = bytes.indexOf('\r\n\r\n', offset);
    if (end < 0) return { status: 0, headers: {}, body: '', error: error ?? `incomplete response (${bytes.length} bytes)` };
    const [statusLine = '', ...lines] = bytes.subarray(offset, end).toString('latin1').split('\r\n');
    const status = Number(statusLine.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const start = end + 4;
    if (status === 100) {
      offset = start;
      continue;
    }
    let body: Buffer;
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts: Buffer[] = [];
      let at = start;
      for (;;) {
        const lineEnd = bytes.indexOf('\r\n', at);
        if (lineEnd < 0) break;
        const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
        if (!(size > 0)) break;
        parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      body = bytes.subarray(start, start + Number(headers['content-length']));
    } else {
      body = bytes.subarray(start);
    }
    return { status, headers, body: body.toString('utf8'), error };
  }
}

// ------------------------------------------------------------------------------------------------------------------
// Checks every reply must pass
// ------------------------------------------------------------------------------------------------------------------

/** Server internals that must never reach a client: stack frames, source paths, SQL, PostgreSQL errors. */
export const LEAK = /\bat .*\(|\.ts:\d|node_modules|\/work\/|SELECT |INSERT |UPDATE |DELETE FROM|pg_|syntax error at|violates|relation "|DatabaseError/;
/** What Node/Fastify answer when the HTTP parser refuses a request (Fastify's default clientErrorHandler). */
export const HTTP_LAYER_BODIES: ReadonlySet<string> = new Set([
  '{"error":"Bad Request","message":"Client Error","statusCode":400}',
  '{"error":"Request Header Fields Too Large","message":"Exceeded maximum allowed HTTP header size","statusCode":431}',
]);

export interface Verdict {
  readonly problems: string[];
  /** A non-replayed 200: what it took from the fixture's balance. */
  readonly debit?: { readonly currency: string; readonly minor: number; readonly key: string; readonly intended: boolean };
  /** Recorded under the key (200 or a final decline): the stored key. */
  readonly recordedKey?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Client-controlled text the API echoes on purpose (quoted keys in parser messages), removed before the leak scan. */
const stripQuoted = (s: string): string => s.replace(/"(?:[^"\\]|\\.)*"/g, '""');

export function checkReply(expected: Expected, reply: HttpReply, uid: number, token: string): Verdict {
  const problems: string[] = [];
  if (reply.status === 0) return { problems: [`no HTTP answer: ${reply.error ?? 'connection closed'}`] };
  if (reply.status >= 500) problems.push(`server error ${reply.status}`);
  if (reply.status !== expected.status) {
    problems.push(`status ${reply.status}, expected ${expected.status}${expected.code === undefined ? '' : ` ${expected.code}`}`);
  }
  if (Object.keys(reply.headers).some((h) => h.includes('injected'))) problems.push('an injected header came back');
  const leakScan = (text: string, what: string): void => {
    if (LEAK.test(text)) problems.push(`${what} leaks internals: ${text.slice(0, 200)}`);
  };
  for (const [name, value] of Object.entries(reply.headers)) if (name !== 'x-request-id') leakScan(`${name}: ${value}`, 'a header');

  if (expected.httpLayer === true) {
    const problem = parseJson(reply.body);
    if (!HTTP_LAYER_BODIES.has(reply.body) && !(isRecord(problem) && typeof problem.code === 'string')) {
      problems.push(`unexpected HTTP-layer body: ${reply.body.slice(0, 200)}`);
    }
    leakScan(reply.body, 'the body');
    return { problems };
  }

  const rid = reply.headers['x-request-id'];
  if (rid === undefined || !SAFE_REQUEST_ID.test(rid)) problems.push(`unsafe or missing X-Request-Id: ${JSON.stringify(rid)}`);
  else if (expected.requestId !== undefined && (rid === expected.requestId.sent) !== expected.requestId.echo) {
    problems.push(`X-Request-Id ${expected.requestId.echo ? 'not echoed' : 'echoed although unsafe'}: ${JSON.stringify(expected.requestId.sent)}`);
  }

  const parsed = parseJson(reply.body);
  let verdict: Verdict = { problems };
  if (reply.status >= 200 && reply.status < 300) {
    if (!isRecord(parsed) || !isRecord(parsed.transaction)) {
      problems.push(`2xx body is not a charge: ${reply.body.slice(0, 200)}`);
      return verdict;
    }
    const t = parsed.transaction;
    const replayed = reply.headers['idempotent-replayed'] === 'true';
    const key = typeof t.idempotency_key === 'string' ? t.idempotency_key : '';
    verdict = {
      problems,
      debit: replayed ? undefined : { currency: String(t.currency), minor: Number(t.amount_minor), key, intended: expected.intended !== undefined },
      recordedKey: key,
    };
    const intended = expected.intended;
    if (intended !== undefined) {
      const want = { user_id: uid, currency: intended.currency, amount_minor: intended.minor, type: 'charge', status: 'completed',
        idempotency_key: intended.storedKey, description: intended.description };
      for (const [field, value] of Object.entries(want)) {
        if (t[field] !== value) problems.push(`transaction.${field} is ${JSON.stringify(t[field])}, sent ${JSON.stringify(value)}`);
      }
      const metadata = isRecord(t.metadata) ? t.metadata : {};
      const same = Object.keys(metadata).length === Object.keys(intended.metadata).length
        && Object.entries(intended.metadata).every(([k, v]) => Object.hasOwn(metadata, k) && metadata[k] === v);
      if (!same) problems.push(`metadata came back as ${JSON.stringify(metadata)}, sent ${JSON.stringify(intended.metadata)}`);
      if (parsed.new_balance_minor !== t.balance_after_minor || !(Number(parsed.new_balance_minor) >= 0)) problems.push('inconsistent new balance');
    }
    const { description: _d, metadata: _m, idempotency_key: _k, ...rest } = t;
    leakScan(JSON.stringify({ ...parsed, transaction: rest }), 'the body');
    return verdict;
  }

  // Every non-2xx answer is problem+json with a string code and detail.
  if (!/^application\/problem\+json/.test(reply.headers['content-type'] ?? '')) problems.push(`content-type ${reply.headers['content-type']}`);
  if (!isRecord(parsed) || typeof parsed.code !== 'string' || typeof parsed.detail !== 'string') {
    problems.push(`not a problem body: ${reply.body.slice(0, 200)}`);
    return verdict;
  }
  if (parsed.status !== reply.status) problems.push(`problem status ${String(parsed.status)} on a ${reply.status}`);
  if (parsed.type !== `urn:picopay:problem:${parsed.code}` || typeof parsed.title !== 'string') problems.push('problem type/title');
  if (expected.code !== undefined && parsed.code !== expected.code) problems.push(`code ${parsed.code}, expected ${expected.code}`);
  if (reply.status === 401 && reply.headers['www-authenticate'] !== 'ApiKey') problems.push('401 without WWW-Authenticate: ApiKey');
  const errors = Array.isArray(parsed.errors) ? parsed.errors.filter(isRecord) : [];
  if (parsed.code === 'validation_failed' && expected.fields !== undefined) {
    const named = errors.map((e) => String(e.field));
    const covers = (field: string, n: string): boolean => n === field || n.startsWith(`${field}.`);
    // Sound: only fields the generator broke are named. Complete up to TypeBox's cap of 8 schema issues per request
    // (an anyOf field costs 3): with one or two broken fields every one is named, with more at least one is.
    for (const n of named) if (!expected.fields.some((f) => covers(f, n))) problems.push(`422 names ${JSON.stringify(n)}, which was valid`);
    const unnamed = expected.fields.filter((f) => !named.some((n) => covers(f, n)));
    if (expected.fields.length <= 2 ? unnamed.length > 0 : unnamed.length === expected.fields.length) {
      problems.push(`422 does not name ${JSON.stringify(unnamed)}: ${JSON.stringify(named)}`);
    }
  }
  if (['user_not_found', 'currency_not_supported', 'insufficient_balance'].includes(parsed.code) && reply.headers['idempotent-replayed'] !== 'true') {
    verdict = { problems, recordedKey: token };
  }
  leakScan(JSON.stringify({ ...parsed, detail: stripQuoted(parsed.detail), errors: errors.map((e) => e.message) }), 'the problem');
  return verdict;
}
