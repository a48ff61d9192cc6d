import type { FastifyPluginAsyncTypebox, FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { hasScope } from '../auth/key-ring.ts';
import { ROUTE_SCOPES } from '../auth/scopes.ts';
import type { RouteDeps } from '../deps.ts';
import { isUnavailable } from '../db/pool.ts';
import { readOnly } from '../db/read-only.ts';
import { COMMON_ERRORS, IdParam, responses } from '../lib/schemas.ts';
import { sendProblem } from '../plugins/app/problems.ts';
import { userRepository } from './repository.ts';
import { openingBalances, transactionFilter } from './requests.ts';
import { CreateUserBody, TransactionPage, TransactionsQuery, User } from './schemas.ts';

const JSON_TYPE = 'application/json; charset=utf-8';

type Routes = Parameters<FastifyPluginCallbackTypebox>[0];

/** POST /users (users:write): a user with opening balances, each a credit entry. */
function createUserRoute(app: Routes, deps: RouteDeps): void {
  app.post(
    '/users',
    {
      config: { scopes: ROUTE_SCOPES.createUser },
      schema: {
        summary: 'Create a user with optional opening balances',
        tags: ['users'],
        security: [{ ApiKey: [] }],
        body: CreateUserBody,
        response: responses({ 201: User }, [...COMMON_ERRORS, 'invalid_json', 'validation_failed']),
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const opening = openingBalances(body.balances ?? {});
      if (!opening.ok) return sendProblem(reply, 'validation_failed', 'The request is invalid', opening.errors);
      try {
        const json = await userRepository.create(deps.db, body.name ?? null, opening.balances);
        return reply.code(201).type(JSON_TYPE).send(json);
      } catch (error) {
        if (isUnavailable(error)) return sendProblem(reply, 'database_unavailable');
        throw error;
      }
    },
  );
}

/** GET /users/{id}: the user and its balances. */
function getUserRoute(app: Routes, deps: RouteDeps): void {
  app.get(
    '/users/:id',
    {
      config: { scopes: ROUTE_SCOPES.readUsers },
      schema: {
        summary: 'A user and its balances',
        tags: ['users'],
        security: [{ ApiKey: [] }],
        params: IdParam,
        response: responses({ 200: User }, [...COMMON_ERRORS, 'user_not_found', 'validation_failed']),
      },
    },
    async (request, reply) => {
      const userId = BigInt(request.params.id);
      const json = await readOnly(
        deps.reads,
        reply,
        (db) => userRepository.find(db, userId),
        (found) => found === undefined,
      );
      if (json === 'unavailable') return sendProblem(reply, 'database_unavailable');
      if (json === undefined) return sendProblem(reply, 'user_not_found');
      return reply.type(JSON_TYPE).send(json);
    },
  );
}

/** GET /users/{id}/transactions: the ledger, newest first, keyset-paginated. */
function transactionsRoute(app: Routes, deps: RouteDeps): void {
  app.get(
    '/users/:id/transactions',
    {
      config: { scopes: ROUTE_SCOPES.readUsers },
      schema: {
        summary: "A user's ledger entries, newest first, cursor-paginated; filter by type and creation time",
        tags: ['users'],
        security: [{ ApiKey: [] }],
        params: IdParam,
        querystring: TransactionsQuery,
        response: responses({ 200: TransactionPage }, [...COMMON_ERRORS, 'user_not_found', 'validation_failed']),
      },
    },
    async (request, reply) => {
      const userId = BigInt(request.params.id);
      const cursor = request.query.cursor === undefined ? null : BigInt(request.query.cursor);
      const filter = transactionFilter(request.query);
      if (Array.isArray(filter)) return sendProblem(reply, 'validation_failed', 'The request is invalid', filter);
      const caller = request.caller!;
      const pageRequest = {
        before: cursor,
        limit: request.query.limit ?? 20,
        filter,
        viewer: hasScope(caller, 'read:all') ? null : caller.client,
      };
      const page = await readOnly(
        deps.reads,
        reply,
        async (db) => {
          const user = await userRepository.find(db, userId);
          return user === undefined ? undefined : userRepository.transactions(db, userId, pageRequest);
        },
        (found) => found === undefined,
      );
      if (page === 'unavailable') return sendProblem(reply, 'database_unavailable');
      if (page === undefined) return sendProblem(reply, 'user_not_found');
      const next = page.nextCursor === null ? 'null' : `"${page.nextCursor}"`;
      return reply.type(JSON_TYPE).send(`{"data":[${page.items.join(',')}],"next_cursor":${next}}`);
    },
  );
}

/** Users, their balances and their history. */
export function userRoutes(deps: RouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    createUserRoute(app, deps);
    getUserRoute(app, deps);
    transactionsRoute(app, deps);
  };
}
