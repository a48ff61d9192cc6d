// Scenario 13's body-field parts: the FieldPart shape every body dimension shares, and the user_id, description and
// extra (mass-assignment) fields. Money is in money-parts.ts, metadata in metadata-parts.ts.
import fc from 'fast-check';
import { type JNode, nested, raw, toNode, encodeString, type StringStyle } from './json-model.ts';
import { HOSTILE_STRINGS, hostileText } from './strings.ts';

export type Business = 'user_not_found' | 'currency_not_supported' | 'insufficient_balance';

/** A body field: its value (undefined: member absent) and what it does to the outcome. */
export interface FieldPart {
  readonly label: string;
  readonly node?: JNode;
  /** The field a 422 must name (exact, or as the prefix of "field.sub"); undefined: no schema-level fault. */
  readonly fault?: string;
  /** A fault that makes the request invalid although the 422 need not name the field. */
  readonly unnamedFault?: boolean;
  readonly business?: Business;
}

export interface TextPart extends FieldPart {
  /** What a 200 must echo. */
  readonly echo: string | null;
}

const USER_ID_CONFUSION = [
  '"1 OR 1=1"',
  '"1; DROP TABLE users"',
  'true',
  'false',
  'null',
  '[]',
  '{}',
  '{"$gt":0}',
  '0',
  '-1',
  '-0',
  '1.5',
  '9007199254740992',
  '9007199254740993',
  '1e309',
  '-1e309',
  '1e20',
  '""',
  '0.30000000000000004',
  '1e-7',
  '"∞"',
] as const;

export function userIdPart(uid: number): fc.Arbitrary<FieldPart> {
  return fc.oneof(
    {
      weight: 14,
      arbitrary: fc
        .constantFrom(`${uid}`, `${uid}`, `${uid}`, `${uid}.0`, `${uid}e0`, `${uid}E+0`, `${uid}.000`, `${uid}0e-1`)
        .map((text): FieldPart => ({ label: 'ok', node: raw(text) })),
    },
    {
      weight: 4,
      arbitrary: fc
        .oneof(
          fc.constantFrom(...USER_ID_CONFUSION),
          fc.constantFrom(`"${uid}"`, `[${uid}]`, `{"id":${uid}}`, `${uid}.5`),
        )
        .map((text): FieldPart => ({ label: 'user_id:type-confusion', node: raw(text), fault: 'user_id' })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...HOSTILE_STRINGS)
        .map((s): FieldPart => ({ label: 'user_id:sql', node: raw(JSON.stringify(s)), fault: 'user_id' })),
    },
    { weight: 1, arbitrary: fc.constant<FieldPart>({ label: 'user_id:missing', fault: 'user_id' }) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('9007199254740991', '9007199254740990', `${uid + 1_000_000_000}`)
        .map((text): FieldPart => ({ label: 'business:user_not_found', node: raw(text), business: 'user_not_found' })),
    },
  );
}

/**
 * What the storable-text rule refuses, as JSON string-literal fragments: NUL, lone and half pairs of surrogates, other C0
 * controls (CR, ESC), and DEL and C1 controls, escaped or as raw UTF-8 (JSON allows them unescaped).
 */
export const UNSTORABLE_JSON = [
  '\\u0000',
  '\\ud800',
  '\\udc00',
  '\\udbff\\u0041',
  '\\u0001',
  '\\r',
  '\\u001b[0m',
  '\\u007f',
  '\u007f',
  '\u0085',
  '\\u009b',
] as const;

export function descriptionPart(): fc.Arbitrary<TextPart> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant<TextPart>({ label: 'ok', echo: null }) },
    { weight: 1, arbitrary: fc.constant<TextPart>({ label: 'ok', node: raw('null'), echo: null }) },
    {
      weight: 5,
      arbitrary: fc
        .record({
          s: hostileText(300),
          style: fc.constantFrom<StringStyle>('json', 'json', 'escape-non-ascii', 'escape-all'),
        })
        .map(({ s, style }): TextPart => ({ label: 'ok:hostile-text', node: raw(encodeString(s, style)), echo: s })),
    },
    {
      weight: 1,
      arbitrary: fc.constant<TextPart>({
        label: 'ok:500-chars',
        node: raw(JSON.stringify('d'.repeat(500))),
        echo: 'd'.repeat(500),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 501, max: 900 }).map((n): TextPart => ({
        label: 'description:too-long',
        node: raw(JSON.stringify('x'.repeat(n))),
        fault: 'description',
        echo: null,
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('123', 'true', '[]', '{}', '{"$ne":null}', '["a"]', '1e309', '-0')
        .map((text): TextPart => ({
          label: 'description:type-confusion',
          node: raw(text),
          fault: 'description',
          echo: null,
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({ s: hostileText(100), bad: fc.constantFrom(...UNSTORABLE_JSON) })
        .map(({ s, bad }): TextPart => {
          const text = JSON.stringify(s);
          return {
            label: 'description:unstorable-text',
            node: raw(`${text.slice(0, -1)}${bad}"`),
            fault: 'description',
            echo: null,
          };
        }),
    },
  );
}

/** Fields a client might hope to set (mass assignment) and near-miss spellings of real ones. */
const MASS_ASSIGNMENT = [
  'balance',
  'status',
  'id',
  'user',
  'amount_minor',
  'new_balance',
  'new_balance_minor',
  'transaction',
  'type',
  'created_at',
  'idempotency_key',
  'signed_amount',
  'balance_after',
  'balance_after_minor',
  'is_admin',
  'admin',
  'role',
  'client',
  'fingerprint',
  'User_Id',
  'AMOUNT',
  'Currency',
  'user_id ',
  ' amount',
  'userId',
  'amount\u200b',
  "'; DROP TABLE users; --",
] as const;

export interface ExtraPart {
  readonly name: string;
  readonly value: JNode;
}

export const extraValue: fc.Arbitrary<JNode> = fc.oneof(
  fc
    .constantFrom('1000000', '"completed"', 'true', 'null', '-0', '1e309', '0.30000000000000004', '{"USD":1e12}')
    .map(raw),
  fc.jsonValue({ maxDepth: 2 }).map(toNode),
  fc
    .record({
      depth: fc.integer({ min: 1, max: 14 }),
      kind: fc.constantFrom<'arr' | 'obj' | 'mixed'>('arr', 'obj', 'mixed'),
    })
    .map(({ depth, kind }) => nested(depth, kind)),
);

export const extrasPart: fc.Arbitrary<ExtraPart[]> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<ExtraPart[]>([]) },
  {
    weight: 2,
    arbitrary: fc.uniqueArray(fc.record({ name: fc.constantFrom(...MASS_ASSIGNMENT), value: extraValue }), {
      minLength: 1,
      maxLength: 3,
      selector: (e) => e.name,
    }),
  },
);
