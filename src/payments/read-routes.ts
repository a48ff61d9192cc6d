import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { hasScope, type Caller } from '../auth/key-ring.ts';
import { ROUTE_SCOPES } from '../auth/scopes.ts';
import type { RouteDeps } from '../deps.ts';
import { readOnly } from '../db/read-only.ts';
import { COMMON_ERRORS, IdParam, responses, Transaction } from '../lib/schemas.ts';
import { sendProblem } from '../plugins/app/problems.ts';
import { paymentRepository, type FoundTransaction } from './repository.ts';

const JSON_TYPE = 'application/json; charset=utf-8';

const ROUTES = [
  ['/charges/:id', 'charge', 'charge_not_found', 'A charge (transaction object), with what was refunded of it so far'],
  ['/refunds/:id', 'refund', 'refund_not_found', 'A refund (transaction object), with the charge it refunds'],
] as const;

/**
 * A charge or refund belongs to the client that made it. Another client's is answered exactly like one that does not
 * exist (no existence leak through sequential ids), unless the key may read everything.
 */
export function visibleTo(caller: Caller, found: FoundTransaction): boolean {
  return found.client === caller.client || hasScope(caller, 'read:all');
}

/**
 * GET /charges/{id} (with amount_refunded and its refunds as they are now) and GET /refunds/{id} (with its charge_id);
 * an id of another type is not found here.
 */
export function paymentReadRoutes(deps: RouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    for (const [path, type, notFound, summary] of ROUTES) {
      app.get(
        path,
        {
          config: { scopes: ROUTE_SCOPES.readCharges },
          schema: {
            summary,
            tags: ['charges'],
            security: [{ ApiKey: [] }],
            params: IdParam,
            response: responses({ 200: Transaction }, [...COMMON_ERRORS, notFound, 'validation_failed']),
          },
        },
        async (request, reply) => {
          const id = BigInt(request.params.id);
          const lookup = (db: Parameters<typeof paymentRepository.findTransaction>[0]) =>
            paymentRepository.findTransaction(db, id);
          const found = await readOnly(deps.reads, reply, lookup, (t) => t === undefined);
          if (found === 'unavailable') return sendProblem(reply, 'database_unavailable');
          if (found === undefined || found.type !== type || !visibleTo(request.caller!, found))
            return sendProblem(reply, notFound);
          return reply.type(JSON_TYPE).send(found.json);
        },
      );
    }
  };
}
