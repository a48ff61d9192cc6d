import type { Config } from '../config.ts';
import { failure, type Failure, type FieldError } from '../lib/errors.ts';
import { rawNumberText } from '../lib/strict-json.ts';
import { toMoneyRequest, type MoneyBodyInput } from '../payments/money-request.ts';
import { toRefundAmount, type RefundAmount } from '../payments/refund-amount.ts';
import type { AuthorizeRequest } from './service.ts';

export interface AuthorizeBodyInput extends MoneyBodyInput {
  readonly user_id: number;
  readonly expires_in_seconds?: number;
}

/** The body of POST /authorizations in exact minor units, with its expiry (the default, at most the maximum). */
export function toAuthorizeRequest(body: AuthorizeBodyInput, config: Config): AuthorizeRequest | Failure {
  const max = config.holdMaxExpirySeconds;
  const expiry = body.expires_in_seconds ?? Math.min(config.holdDefaultExpirySeconds, max);
  const money = toMoneyRequest(body, BigInt(body.user_id));
  const errors: FieldError[] = 'ok' in money ? [...(money.errors ?? [])] : [];
  if (expiry > max) errors.push({ field: 'expires_in_seconds', message: `must be at most ${max}` });
  if ('ok' in money || errors.length > 0) return failure('validation_failed', 'The request is invalid', errors);
  return { ...money, expiresInSeconds: expiry };
}

/** A capture's amount at every exponent (the hold's currency is the database's to pick); null: the whole hold. */
export function toCaptureAmount(body: { readonly amount?: number | string }): RefundAmount | null | Failure {
  if (body.amount === undefined) return null;
  const converted = toRefundAmount(body.amount, rawNumberText(body, 'amount'));
  return 'field' in converted ? failure('validation_failed', 'The request is invalid', [converted]) : converted;
}
