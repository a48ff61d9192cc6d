import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Counter, Histogram } from 'prom-client';
import { failure, ProblemError, type Failure, type FieldError } from '../lib/errors.ts';
import { parseIdempotencyKey } from '../idempotency/idempotency-key.ts';
import { currencyExponent, toMinorUnits } from '../lib/money.ts';
import { rawNumberText } from '../lib/strict-json.ts';
import { sendProblem } from '../plugins/app/problems.ts';
import type { MoneyStatus } from '../plugins/external/metrics.ts';
import { toRefundAmount } from './refund-amount.ts';
import type { MoneyRequest, MoneyResult } from './types.ts';

export interface MoneyBodyInput {
  readonly amount: number | string;
  readonly currency: string;
  readonly description?: string | null;
  readonly metadata?: Record<string, string>;
}

/** How many times a header (lower-case name) was sent: Node joins repeats, rawHeaders keeps them apart. */
function countHeader(rawHeaders: readonly string[], name: string): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const header = rawHeaders[i]!;
    if (header.length === name.length && header.toLowerCase() === name) count += 1;
  }
  return count;
}

/**
 * The exact Idempotency-Key, or a 400 before the body is even validated. Also hands the money-body checks to the
 * error handler (request.bodyCheck), so a schema 422 lists a bad amount or currency alongside the schema's fields.
 */
export async function requireIdempotencyKey(request: FastifyRequest): Promise<void> {
  const occurrences = countHeader(request.raw.rawHeaders, 'idempotency-key');
  const key = occurrences === 1 ? parseIdempotencyKey(request.headers['idempotency-key']) : undefined;
  if (key === undefined) {
    const detail =
      occurrences === 0
        ? 'Idempotency-Key header is required'
        : 'Idempotency-Key header must appear once, with 1-255 printable ASCII characters (no comma unless quoted)';
    throw new ProblemError('invalid_idempotency_key', detail);
  }
  request.idempotencyKey = key;
  request.bodyCheck = (body) => checkMoneyFields(body).errors;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey: string;
  }
}

interface MoneyFields {
  readonly errors: FieldError[];
  readonly exponent: number | undefined;
  readonly amountMinor: bigint;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The amount and currency checks a schema cannot express (exact minor units, a known ISO 4217 code) on any body; a
 * field of the wrong type is skipped (the schema reports it). Text fields are the schema's (StorableText).
 */
function checkMoneyFields(body: unknown): MoneyFields {
  const errors: FieldError[] = [];
  if (!isRecord(body)) return { errors, exponent: undefined, amountMinor: 0n };
  const { amount, currency } = body;
  const exponent = typeof currency === 'string' ? currencyExponent(currency) : undefined;
  if (typeof currency === 'string' && exponent === undefined) {
    errors.push({ field: 'currency', message: 'unknown ISO 4217 currency code' });
  }
  let amountMinor = 0n;
  if (exponent !== undefined && (typeof amount === 'number' || typeof amount === 'string')) {
    const converted = toMinorUnits(amount, exponent, rawNumberText(body, 'amount'));
    if (converted.ok) amountMinor = converted.minor;
    else errors.push({ field: 'amount', message: converted.message, code: converted.error });
  }
  return { errors, exponent, amountMinor };
}

/** Body → exact minor units and checked extras; field errors listed for a 422. */
/** The amount checks a schema cannot express, so a schema 422 lists a bad amount alongside the other fields. */
function partialAmountErrors(body: unknown): FieldError[] {
  if (!isRecord(body) || (typeof body.amount !== 'number' && typeof body.amount !== 'string')) return [];
  const amount = toRefundAmount(body.amount, rawNumberText(body, 'amount'));
  return 'field' in amount ? [amount] : [];
}

/**
 * For a refund, a capture or a void: the Idempotency-Key, as for charges, and the checks of an optional partial
 * `amount`. Every body field is optional, so no body at all is the empty one.
 */
export async function partialAmountPreValidation(request: FastifyRequest): Promise<void> {
  await requireIdempotencyKey(request);
  request.bodyCheck = partialAmountErrors;
  if (request.body === undefined) request.body = {};
}

export function toMoneyRequest(body: MoneyBodyInput, userId: bigint): MoneyRequest | Failure {
  const { errors, exponent, amountMinor } = checkMoneyFields(body);
  if (errors.length > 0 || exponent === undefined)
    return failure('validation_failed', 'The request is invalid', errors);
  return {
    userId,
    currency: body.currency,
    exponent,
    amountMinor,
    description: body.description ?? null,
    metadata: body.metadata ?? {},
  };
}

export function sendMoneyResult(reply: FastifyReply, result: MoneyResult | Failure): FastifyReply {
  if (!result.ok) return sendProblem(reply, result.code, result.detail, result.errors);
  if (result.replayed) reply.header('Idempotent-Replayed', 'true');
  return reply
    .code(result.status)
    .type(result.status >= 400 ? 'application/problem+json; charset=utf-8' : 'application/json; charset=utf-8')
    .send(result.body);
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The metric label a money route's handler chose for this request; unset means it ended early ('failed'). */
    outcomeStatus: string | undefined;
  }
}

/**
 * Counts every authenticated request of the plugin's routes exactly once, whatever ended it (validation, decline,
 * 503, replay), under the label its handler set, and observes its latency.
 */
export function countOutcomes(app: FastifyInstance, counter: Counter<'status'>, latency: Histogram): void {
  app.decorateRequest('outcomeStatus', undefined);
  app.addHook('onResponse', (request, reply, done) => {
    if (request.caller !== undefined) {
      counter.inc({ status: request.outcomeStatus ?? 'failed' });
      latency.observe(reply.elapsedTime / 1000);
    }
    done();
  });
}

/** The metric label of a credit or refund outcome (charges add insufficient_balance, see charge.ts). */
export function moneyStatus(result: MoneyResult | Failure): MoneyStatus {
  if (!result.ok) return 'failed';
  if (result.replayed) return 'idempotent_hit';
  return result.status === 200 ? 'success' : 'failed';
}
