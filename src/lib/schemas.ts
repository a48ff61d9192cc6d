import { Type, type TObject, type TProperties, type TSchema, type TString } from 'typebox';
import { ERRORS, RECORDED_DECLINES, retryAfter, type ErrorCode } from './errors.ts';

// Schemas shared by the feature modules. One schema per shape: it validates requests, documents the API (OpenAPI)
// and types the handlers.

export const MAX_SAFE_ID = Number.MAX_SAFE_INTEGER;

/**
 * A response object: exactly these fields. Bodies rendered in SQL are sent as text, past Fastify's serializer, so
 * only a strict schema lets test/db/sql-drift notice a field the renderer adds that the documentation lacks.
 */
export function ResponseObject<T extends TProperties>(
  properties: T,
  options: { description?: string } = {},
): TObject<T> {
  return Type.Object(properties, { ...options, additionalProperties: false });
}

export const IdParam = Type.Object(
  { id: Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'Positive integer id' }) },
  { additionalProperties: false },
);

export const Amount = Type.Union([Type.Number(), Type.String({ maxLength: 64 })], {
  description: 'Major units as a JSON number or a decimal string, e.g. 49.90 or "49.90"; exact by ISO 4217 exponent',
});

export const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, upper case' });

/**
 * The one storable-text rule, for every text field a request can store (user name, description, refund reason,
 * metadata keys and values). PostgreSQL text and jsonb cannot hold U+0000; an unpaired UTF-16 surrogate (legal as a
 * JSON escape, "\ud800") is not Unicode: text would store U+FFFD instead (not what the client sent) and jsonb refuses
 * it. The other control characters (C0 but tab and line feed, so CR too; DEL; C1) have no meaning in stored text and
 * turn into log, CSV and terminal injection downstream (ESC and U+009B start terminal escape sequences); C1 in
 * practice is Windows-1252 decoded wrongly. TypeBox compiles patterns with the `u` flag, so the class matches lone
 * surrogates only: a paired one (an emoji) is one code point outside it.
 */
export const STORABLE_TEXT_PATTERN = '^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F\\uD800-\\uDFFF]*$';
/** What a 422 says about a string that breaks the rule (src/plugins/app/problems.ts maps the pattern to it). */
export const STORABLE_TEXT_MESSAGE =
  'must be Unicode text without control characters (tab and line feed allowed) or unpaired surrogates';

/** A string that PostgreSQL stores exactly as sent; lengths count code points, as PostgreSQL's char_length does. */
export function StorableText(options: { minLength?: number; maxLength: number; description?: string }): TString {
  return Type.String({ ...options, pattern: STORABLE_TEXT_PATTERN });
}

// Every key matches the Record's key pattern, so every value is checked ([\s\S]: ^.*$ misses keys with line breaks,
// whose values would go unchecked); the keys themselves are checked by propertyNames.
export const Metadata = Type.Record(Type.String({ pattern: '^[\\s\\S]*$' }), StorableText({ maxLength: 500 }), {
  maxProperties: 20,
  propertyNames: StorableText({ minLength: 1, maxLength: 40 }),
  description: 'Up to 20 string pairs; keys 1-40 characters, values up to 500',
});

export const Description = Type.Union([StorableText({ maxLength: 500 }), Type.Null()]);

export const Transaction = ResponseObject({
  id: Type.Integer(),
  type: Type.Union(
    [
      Type.Literal('charge'),
      Type.Literal('credit'),
      Type.Literal('refund'),
      Type.Literal('hold'),
      Type.Literal('release'),
    ],
    { description: 'hold and release move money between available and held; they leave the balance as it is' },
  ),
  user_id: Type.Integer(),
  amount: Type.Number({ description: 'Major units, exact text from the integer minor units' }),
  amount_minor: Type.Integer(),
  signed_amount: Type.Number(),
  signed_amount_minor: Type.Integer(),
  currency: Type.String(),
  status: Type.Literal('completed'),
  idempotency_key: Type.Union([Type.String(), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
  metadata: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()], {
    description: "null in another client's entry of a user's history (without read:all)",
  }),
  balance_after: Type.Number(),
  balance_after_minor: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  amount_refunded: Type.Optional(Type.Number({ description: 'Charges only: the total refunded so far, major units' })),
  amount_refunded_minor: Type.Optional(Type.Integer({ description: 'Charges only' })),
  refunds: Type.Optional(Type.Array(Type.Integer(), { description: 'Charges only: ids of its refunds, oldest first' })),
  charge_id: Type.Optional(Type.Integer({ description: 'Refunds only: the refunded charge' })),
  authorization_id: Type.Optional(
    Type.Integer({ description: 'Holds, releases and charges that captured a hold: the authorization' }),
  ),
});

export const Problem = ResponseObject(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    scope: Type.Optional(Type.String({ description: 'insufficient_scope: the scope the API key lacks' })),
    errors: Type.Optional(
      Type.Array(ResponseObject({ field: Type.String(), message: Type.String(), code: Type.Optional(Type.String()) })),
    ),
  },
  { description: 'RFC 9457 problem details' },
);

const REPLAYED_HEADER = {
  'Idempotent-Replayed': {
    type: 'string',
    enum: ['true'],
    description: 'Present when this is the stored response of an earlier request with the same Idempotency-Key',
  },
};
const RETRY_AFTER_HEADER = { 'Retry-After': { type: 'string', description: 'Seconds to wait before retrying' } };

/**
 * Response schemas for a route: its success shapes plus a problem for each error code it can return. Idempotent
 * routes document the Idempotent-Replayed header on answers that can be replays (successes and recorded declines).
 */
export function responses(
  success: Record<number, TSchema>,
  codes: readonly ErrorCode[],
  options: { idempotent?: boolean } = {},
): Record<number, TSchema> {
  const replayHeaders = options.idempotent === true ? REPLAYED_HEADER : undefined;
  const out: Record<number, TSchema> = {};
  for (const [status, schema] of Object.entries(success)) {
    const description = (schema as { description?: string }).description ?? 'Success';
    out[Number(status)] = Type.Unsafe({ ...schema, description, headers: replayHeaders });
  }
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERRORS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, list] of byStatus) {
    const recorded = list.some((code) => (RECORDED_DECLINES as readonly ErrorCode[]).includes(code));
    const retried = list.some((code) => retryAfter(code) !== undefined);
    const headers = retried ? RETRY_AFTER_HEADER : recorded ? replayHeaders : undefined;
    out[status] = Type.Unsafe({ ...Problem, description: `Problem; code: ${list.join(', ')}`, headers });
  }
  return out;
}

/** Errors every authenticated route can answer with. */
export const COMMON_ERRORS = [
  'unauthorized',
  'insufficient_scope',
  'internal_error',
  'database_unavailable',
  'rate_limited',
] as const;
