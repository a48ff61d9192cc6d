import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RouteDeps } from '../deps.ts';
import { readOnly } from '../db/read-only.ts';
import { COMMON_ERRORS, IdParam, responses, Transaction } from '../lib/schemas.ts';
import { sendProblem } from '../plugins/app/problems.ts';
import { paymentRepository } from './repository.ts';

const JSON_TYPE = 'application/json; charset=utf-8';

const ROUTES = [
  ['/charges/:id', 'charge', 'A charge (transaction object), with what was refunded of it so far'],
  ['/refunds/:id', 'refund', 'A refund (transaction object), with the charge it refunds'],
] as const;

/**
 * GET /charges/{id} (with amount_refunded and its refunds as they are now) and GET /refunds/{id} (with its charge_id);
 * an id of another type is not found here.
 */
export function paymentReadRoutes(deps: RouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    for (const [path, type, summary] of ROUTES) {
      app.get(
        path,
        {
          config: { access: 'client' },
          schema: {
            summary,
            tags: ['charges'],
            security: [{ ApiKey: [] }],
            params: IdParam,
            response: responses({ 200: Transaction }, [...COMMON_ERRORS, 'transaction_not_found', 'validation_failed']),
          },
        },
        async (request, reply) => {
          const id = BigInt(request.params.id);
          const found = await readOnly(
            deps.reads,
            reply,
            (db) => paymentRepository.findTransaction(db, id),
            (t) => t === undefined,
          );
          if (found === 'unavailable') return sendProblem(reply, 'database_unavailable');
          if (found === undefined || found.type !== type) return sendProblem(reply, 'transaction_not_found');
          return reply.type(JSON_TYPE).send(found.json);
        },
      );
    }
  };
}
