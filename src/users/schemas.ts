import { Type } from 'typebox';
import { Amount, ResponseObject, StorableText, Transaction } from '../lib/schemas.ts';

// Request and response shapes of the users routes.

export const User = ResponseObject({
  id: Type.Integer(),
  name: Type.Union([Type.String(), Type.Null()]),
  balances: Type.Record(Type.String(), Type.Number()),
  balances_minor: Type.Record(Type.String(), Type.Integer()),
  available_balances: Type.Record(Type.String(), Type.Number(), {
    description: 'The balance less pending holds (authorizations), what a charge or a new hold may spend',
  }),
  available_balances_minor: Type.Record(Type.String(), Type.Integer()),
  created_at: Type.String({ format: 'date-time' }),
});

export const CreateUserBody = Type.Object(
  {
    name: Type.Optional(Type.Union([StorableText({ maxLength: 200 }), Type.Null()])),
    balances: Type.Optional(Type.Record(Type.String(), Amount, { maxProperties: 50 })),
  },
  { additionalProperties: false },
);

const Timestamp = (description: string) => Type.String({ format: 'date-time', maxLength: 64, description });

export const TransactionsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(
      Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'next_cursor of the previous page' }),
    ),
    type: Type.Optional(
      Type.Union([
        Type.Literal('charge'),
        Type.Literal('credit'),
        Type.Literal('refund'),
        Type.Literal('hold'),
        Type.Literal('release'),
      ]),
    ),
    created_after: Type.Optional(
      Timestamp('RFC 3339 date-time; entries created at or after it (millisecond precision)'),
    ),
    created_before: Type.Optional(Timestamp('RFC 3339 date-time; entries created before it (millisecond precision)')),
  },
  { additionalProperties: false },
);

export const TransactionPage = ResponseObject({
  data: Type.Array(Transaction),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});
