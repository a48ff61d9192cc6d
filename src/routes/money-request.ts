import type { FastifyReply, FastifyRequest } from 'fastify';
import { failure, ProblemError, type Failure, type FieldError } from '../domain/errors.ts';
import { parseIdempotencyKey } from '../domain/idempotency/idempotency-key.ts';
import { currencyExponent, toMinorUnits } from '../domain/money.ts';
import type { MoneyRequest, MoneyResult } from '../domain/payments/payment-service.ts';
import { rawNumberText } from '../lib/strict-json.ts';
import { sendProblem } from '../plugins/app/problems.ts';

export interface MoneyBodyInput {
  readonly amount: number | string;
  readonly currency: string;
  readonly description?: string | null;
  readonly metadata?: Record<string, string>;
}

/** The exact Idempotency-Key, or a 400 before the body is even validated. */
export async function requireIdempotencyKey(request: FastifyRequest): Promise<void> {
  const occurrences = request.raw.rawHeaders.filter((_, i) => i % 2 === 0 && /^idempotency-key$/i.test(_)).length;
  const key = occurrences === 1 ? parseIdempotencyKey(request.headers['idempotency-key']) : undefined;
  if (key === undefined) {
    const detail =
      occurrences === 0
        ? 'Idempotency-Key header is required'
        : 'Idempotency-Key header must appear once, with 1-255 printable ASCII characters';
    throw new ProblemError('invalid_idempotency_key', detail);
  }
  request.idempotencyKey = key;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey: string;
  }
}

/** Body → exact minor units and checked extras; field errors listed for a 422. */
export function toMoneyRequest(body: MoneyBodyInput, userId: bigint): MoneyRequest | Failure {
  const errors: FieldError[] = [];
  const exponent = currencyExponent(body.currency);
  if (exponent === undefined) errors.push({ field: 'currency', message: 'unknown ISO 4217 currency code' });
  let amountMinor = 0n;
  if (exponent !== undefined) {
    const converted = toMinorUnits(body.amount, exponent, rawNumberText(body, 'amount'));
    if (converted.ok) amountMinor = converted.minor;
    else errors.push({ field: 'amount', message: converted.message, code: converted.error });
  }
  const metadata = body.metadata ?? {};
  for (const key of Object.keys(metadata)) {
    if (key.length === 0 || key.length > 40) errors.push({ field: 'metadata', message: 'keys must be 1-40 characters' });
  }
  if (errors.length > 0 || exponent === undefined) return failure('validation_failed', 'The request is invalid', errors);
  return { userId, currency: body.currency, exponent, amountMinor, description: body.description ?? null, metadata };
}

export function sendMoneyResult(reply: FastifyReply, result: MoneyResult | Failure): FastifyReply {
  if (!result.ok) return sendProblem(reply, result.code, result.detail, result.errors);
  if (result.replayed) reply.header('Idempotent-Replayed', 'true');
  return reply
    .code(result.status)
    .type(result.status >= 400 ? 'application/problem+json; charset=utf-8' : 'application/json; charset=utf-8')
    .send(result.body);
}
