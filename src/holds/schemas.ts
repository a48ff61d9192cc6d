import { Type } from 'typebox';
import { Amount, Currency, Description, MAX_SAFE_ID, Metadata, ResponseObject } from '../lib/schemas.ts';

// Request and response shapes of the holds routes (authorizations).

export const AuthorizeBody = Type.Object(
  {
    user_id: Type.Integer({ minimum: 1, maximum: MAX_SAFE_ID }),
    amount: Amount,
    currency: Currency,
    expires_in_seconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'Seconds until the hold is released unless captured; at most HOLD_MAX_EXPIRY_SECONDS',
      }),
    ),
    description: Type.Optional(Description),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

export const CaptureBody = Type.Object(
  { amount: Type.Optional(Amount) },
  {
    additionalProperties: false,
    description: "No amount: capture the whole hold. The rest of a partial capture is released. In the hold's currency",
  },
);

export const VoidBody = Type.Object({}, { additionalProperties: false });

const Status = Type.Union([
  Type.Literal('pending'),
  Type.Literal('captured'),
  Type.Literal('voided'),
  Type.Literal('expired'),
]);

/** A hold; amounts in major units (exact text from the integer) and in minor units, like a transaction's. */
export const Authorization = ResponseObject({
  id: Type.Integer(),
  user_id: Type.Integer(),
  currency: Type.String(),
  status: Status,
  amount: Type.Number({ description: 'The amount authorized (held while pending)' }),
  amount_minor: Type.Integer(),
  amount_held: Type.Number({ description: 'Held now: the amount while pending, else 0' }),
  amount_held_minor: Type.Integer(),
  amount_captured: Type.Number(),
  amount_captured_minor: Type.Integer(),
  amount_released: Type.Number({ description: 'Given back to the available balance: void, expiry, uncaptured rest' }),
  amount_released_minor: Type.Integer(),
  capture_id: Type.Union([Type.Integer(), Type.Null()], {
    description: 'The charge (GET /charges/{id}, refundable) the capture made; null unless captured',
  }),
  idempotency_key: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  metadata: Type.Record(Type.String(), Type.String()),
  expires_at: Type.String({ format: 'date-time' }),
  created_at: Type.String({ format: 'date-time' }),
});
