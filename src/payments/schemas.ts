import { Type } from 'typebox';
import { Amount, Currency, Description, MAX_SAFE_ID, Metadata, ResponseObject, Transaction } from '../lib/schemas.ts';

// Request and response shapes of the payments routes (charges, refunds, credits).

export const ChargeBody = Type.Object(
  {
    user_id: Type.Integer({ minimum: 1, maximum: MAX_SAFE_ID }),
    amount: Amount,
    currency: Currency,
    description: Type.Optional(Description),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

export const CreditBody = Type.Object(
  {
    amount: Amount,
    currency: Currency,
    description: Type.Optional(Description),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

export const RefundBody = Type.Object(
  {
    amount: Type.Optional(Amount),
    reason: Type.Optional(Description),
  },
  {
    additionalProperties: false,
    description: 'No amount: refund everything not refunded yet. The reason is stored as the description',
  },
);

export const IdempotencyHeaders = Type.Object({
  'x-api-key': Type.Optional(Type.String({ description: 'API key' })),
  'idempotency-key': Type.String({
    minLength: 1,
    maxLength: 257,
    description:
      '1-255 printable ASCII characters (a UUID is typical), bare or as an RFC 8941 quoted string; a bare key may not contain a comma. ' +
      'Scoped to the client. A key replays its first response for IDEMPOTENCY_RETENTION (default 30 days; 24 hours for ' +
      'user_not_found and charge_not_found declines); after that the key is new and a request with it executes again.',
  }),
});

/** The 200 body of a charge, credit or refund: what moved and the balance after it. */
export const MoneyMovement = ResponseObject({
  message: Type.String(),
  transaction: Transaction,
  new_balance: Type.Number(),
  new_balance_minor: Type.Integer(),
});
