import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ROUTE_SCOPES } from '../auth/scopes.ts';
import type { RouteDeps } from '../deps.ts';
import { withinDeadline } from '../plugins/app/admission.ts';
import { COMMON_ERRORS, IdParam, responses } from '../lib/schemas.ts';
import { moneyStatus, requireIdempotencyKey, sendMoneyResult, toMoneyRequest } from './money-request.ts';
import { CreditBody, IdempotencyHeaders, MoneyMovement } from './schemas.ts';

/** POST /users/{id}/credits (credits:write): money in, exactly once per (client, Idempotency-Key). */
export function creditRoutes(deps: RouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/users/:id/credits',
      {
        config: { scopes: ROUTE_SCOPES.credit, money: true },
        preValidation: requireIdempotencyKey,
        schema: {
          summary: 'Credit a user, exactly once per Idempotency-Key; opens the currency account if needed',
          tags: ['users'],
          security: [{ ApiKey: [] }],
          params: IdParam,
          headers: IdempotencyHeaders,
          body: CreditBody,
          response: responses(
            { 200: MoneyMovement },
            [
              ...COMMON_ERRORS,
              'invalid_idempotency_key',
              'invalid_json',
              'user_not_found',
              'idempotency_key_in_use',
              'overloaded',
              'outcome_unknown',
              'validation_failed',
              'idempotency_key_reused',
              'balance_limit_exceeded',
            ],
            { idempotent: true },
          ),
        },
      },
      async (request, reply) => {
        const parsed = toMoneyRequest(request.body, BigInt(request.params.id));
        const result =
          'ok' in parsed
            ? parsed
            : await withinDeadline(
                request,
                deps.metrics.shed,
                deps.payments.credit(request.caller!, request.idempotencyKey, parsed),
              );
        deps.metrics.creditRequests.inc({ status: moneyStatus(result) });
        return sendMoneyResult(reply, result);
      },
    );
  };
}
