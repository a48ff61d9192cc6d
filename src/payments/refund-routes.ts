import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ROUTE_SCOPES } from '../auth/scopes.ts';
import type { RouteDeps } from '../deps.ts';
import { failure, type Failure } from '../lib/errors.ts';
import { withinDeadline } from '../plugins/app/admission.ts';
import { COMMON_ERRORS, IdParam, responses } from '../lib/schemas.ts';
import { rawNumberText } from '../lib/strict-json.ts';
import { countOutcomes, moneyStatus, partialAmountPreValidation, sendMoneyResult } from './money-request.ts';
import { toRefundAmount, type RefundAmount } from './refund-amount.ts';
import { IdempotencyHeaders, MoneyMovement, RefundBody } from './schemas.ts';
import type { RefundRequest } from './types.ts';

interface RefundBodyInput {
  readonly amount?: number | string;
  readonly reason?: string | null;
}

function toRefundRequest(body: RefundBodyInput, chargeId: bigint): RefundRequest | Failure {
  let amount: RefundAmount | null = null;
  if (body.amount !== undefined) {
    const converted = toRefundAmount(body.amount, rawNumberText(body, 'amount'));
    if ('field' in converted) return failure('validation_failed', 'The request is invalid', [converted]);
    amount = converted;
  }
  return { chargeId, amount, reason: body.reason ?? null };
}

/**
 * POST /charges/{id}/refunds: any client key may refund any charge, as any client key may read one (charges
 * belong to users, not to the client that made them). Exactly once per (client, Idempotency-Key), like charges.
 */
export function refundRoutes(deps: RouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    countOutcomes(app, deps.metrics.refundRequests, deps.metrics.refundLatency);

    app.post(
      '/charges/:id/refunds',
      {
        config: { scopes: ROUTE_SCOPES.refund, money: true },
        preValidation: partialAmountPreValidation,
        schema: {
          summary: 'Refund a charge, in full or in part, exactly once per Idempotency-Key',
          tags: ['charges'],
          security: [{ ApiKey: [] }],
          params: IdParam,
          headers: IdempotencyHeaders,
          body: RefundBody,
          response: responses(
            { 200: MoneyMovement },
            [
              ...COMMON_ERRORS,
              'invalid_idempotency_key',
              'invalid_json',
              'charge_not_found',
              'idempotency_key_in_use',
              'overloaded',
              'outcome_unknown',
              'payload_too_large',
              'unsupported_media_type',
              'validation_failed',
              'idempotency_key_reused',
              'refund_exceeds_charge',
              'charge_not_refundable',
              'balance_limit_exceeded',
            ],
            { idempotent: true },
          ),
        },
      },
      async (request, reply) => {
        const parsed = toRefundRequest(request.body, BigInt(request.params.id));
        const result =
          'ok' in parsed
            ? parsed
            : await withinDeadline(
                request,
                deps.metrics.shed,
                deps.payments.refund(request.caller!, request.idempotencyKey, parsed),
              );
        request.outcomeStatus = moneyStatus(result);
        return sendMoneyResult(reply, result);
      },
    );
  };
}
