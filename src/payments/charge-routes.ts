import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ROUTE_SCOPES } from '../auth/scopes.ts';
import type { RouteDeps } from '../deps.ts';
import type { Failure } from '../lib/errors.ts';
import { COMMON_ERRORS, responses } from '../lib/schemas.ts';
import { withinDeadline } from '../plugins/app/admission.ts';
import type { ChargeStatus } from '../plugins/external/metrics.ts';
import { countOutcomes, requireIdempotencyKey, sendMoneyResult, toMoneyRequest } from './money-request.ts';
import { ChargeBody, IdempotencyHeaders, MoneyMovement } from './schemas.ts';
import type { MoneyResult } from './types.ts';

function metricStatus(result: MoneyResult | Failure): ChargeStatus {
  if (!result.ok) return 'failed';
  if (result.replayed) return 'idempotent_hit';
  if (result.status === 200) return 'success';
  return result.code === 'insufficient_balance' ? 'insufficient_balance' : 'failed';
}

/** POST /charge: the original service's contract, exactly once per (client, Idempotency-Key). */
export function chargeRoutes(deps: RouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    countOutcomes(app, deps.metrics.chargeRequests, deps.metrics.chargeLatency);

    app.post(
      '/charge',
      {
        config: { scopes: ROUTE_SCOPES.charge, money: true },
        preValidation: requireIdempotencyKey,
        schema: {
          summary: 'Charge a user, exactly once per Idempotency-Key',
          tags: ['charges'],
          security: [{ ApiKey: [] }],
          headers: IdempotencyHeaders,
          body: ChargeBody,
          response: responses(
            { 200: MoneyMovement },
            [
              ...COMMON_ERRORS,
              'invalid_idempotency_key',
              'invalid_json',
              'insufficient_balance',
              'user_not_found',
              'idempotency_key_in_use',
              'overloaded',
              'outcome_unknown',
              'payload_too_large',
              'unsupported_media_type',
              'validation_failed',
              'currency_not_supported',
              'idempotency_key_reused',
            ],
            { idempotent: true },
          ),
        },
      },
      async (request, reply) => {
        const body = request.body;
        const parsed = toMoneyRequest(body, BigInt(body.user_id));
        const result =
          'ok' in parsed
            ? parsed
            : await withinDeadline(
                request,
                deps.metrics.shed,
                deps.payments.charge(request.caller!, request.idempotencyKey, parsed, request.deadline),
              );
        request.outcomeStatus = metricStatus(result);
        return sendMoneyResult(reply, result);
      },
    );
  };
}
