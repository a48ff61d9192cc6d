import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { isUnavailable } from '../db/pool.ts';
import type { FieldError } from '../domain/errors.ts';
import { currencyExponent, toMinorUnits } from '../domain/money.ts';
import { userRepository, type OpeningBalance } from '../domain/users/user-repository.ts';
import { rawNumberText } from '../lib/strict-json.ts';
import { sendProblem } from '../plugins/app/problems.ts';
import type { RouteDeps } from './deps.ts';
import { requireIdempotencyKey, sendMoneyResult, toMoneyRequest } from './money-request.ts';
import {
  Amount, COMMON_ERRORS, IdempotencyHeaders, IdParam, MoneyBody, MoneyResponse, responses, Transaction, User,
} from './schemas.ts';

const CreateUserBody = Type.Object(
  {
    name: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
    balances: Type.Optional(Type.Record(Type.String(), Amount, { maxProperties: 50 })),
  },
  { additionalProperties: false },
);

const TransactionsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'next_cursor of the previous page' })),
  },
  { additionalProperties: false },
);

const TransactionPage = Type.Object({
  data: Type.Array(Transaction),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

const JSON_TYPE = 'application/json; charset=utf-8';

type Opening = { ok: true; balances: OpeningBalance[] } | { ok: false; errors: FieldError[] };

function openingBalances(balances: Record<string, number | string>): Opening {
  const errors: FieldError[] = [];
  const out: OpeningBalance[] = [];
  for (const [currency, amount] of Object.entries(balances)) {
    const exponent = currencyExponent(currency);
    if (exponent === undefined) {
      errors.push({ field: `balances.${currency.slice(0, 8)}`, message: 'unknown ISO 4217 currency code' });
      continue;
    }
    // An opening balance may be zero (opens the account); it may not be negative or inexact.
    const isZero = typeof amount === 'string' ? /^0+(\.0+)?$/.test(amount) : amount === 0 && !Object.is(amount, -0);
    const converted = isZero ? { ok: true as const, minor: 0n } : toMinorUnits(amount, exponent, rawNumberText(balances, currency));
    if (converted.ok) out.push({ currency, exponent, amount: converted.minor });
    else errors.push({ field: `balances.${currency}`, message: converted.message, code: converted.error });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, balances: out };
}

/** Users, balances, credits and history. */
export function userRoutes(deps: RouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/users',
      {
        config: { access: 'admin' },
        schema: {
          summary: 'Create a user with optional opening balances (admin)',
          tags: ['users'],
          security: [{ ApiKey: [] }],
          body: CreateUserBody,
          response: responses({ 201: User }, [...COMMON_ERRORS, 'forbidden', 'invalid_json', 'validation_failed']),
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

    app.get(
      '/users/:id',
      {
        config: { access: 'client' },
        schema: {
          summary: 'A user and its balances',
          tags: ['users'],
          security: [{ ApiKey: [] }],
          params: IdParam,
          response: responses({ 200: User }, [...COMMON_ERRORS, 'user_not_found', 'validation_failed']),
        },
      },
      async (request, reply) => {
        const json = await withDb(() => userRepository.find(deps.db, BigInt(request.params.id)));
        if (json === 'unavailable') return sendProblem(reply, 'database_unavailable');
        if (json === undefined) return sendProblem(reply, 'user_not_found');
        return reply.type(JSON_TYPE).send(json);
      },
    );

    app.post(
      '/users/:id/credits',
      {
        config: { access: 'admin' },
        preValidation: requireIdempotencyKey,
        schema: {
          summary: 'Credit a user, exactly once per Idempotency-Key (admin); opens the currency account if needed',
          tags: ['users'],
          security: [{ ApiKey: [] }],
          params: IdParam,
          headers: IdempotencyHeaders,
          body: MoneyBody,
          response: responses({ 200: MoneyResponse }, [
            ...COMMON_ERRORS, 'forbidden', 'invalid_idempotency_key', 'invalid_json', 'user_not_found',
            'idempotency_key_in_use', 'validation_failed', 'idempotency_key_reused', 'balance_limit_exceeded',
          ]),
        },
      },
      async (request, reply) => {
        const parsed = toMoneyRequest(request.body, BigInt(request.params.id));
        const result = 'ok' in parsed ? parsed : await deps.payments.execute('credit', request.caller!, request.idempotencyKey, parsed);
        deps.metrics.creditRequests.inc({ status: !result.ok ? 'failed' : result.replayed ? 'idempotent_hit' : result.status === 200 ? 'success' : 'failed' });
        return sendMoneyResult(reply, result);
      },
    );

    app.get(
      '/users/:id/transactions',
      {
        config: { access: 'client' },
        schema: {
          summary: 'A user\'s ledger entries, newest first, cursor-paginated',
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
        const page = await withDb(async () => {
          const user = await userRepository.find(deps.db, userId);
          return user === undefined ? undefined : userRepository.transactions(deps.db, userId, cursor, request.query.limit ?? 20);
        });
        if (page === 'unavailable') return sendProblem(reply, 'database_unavailable');
        if (page === undefined) return sendProblem(reply, 'user_not_found');
        const next = page.nextCursor === null ? 'null' : `"${page.nextCursor}"`;
        return reply.type(JSON_TYPE).send(`{"data":[${page.items.join(',')}],"next_cursor":${next}}`);
      },
    );

    app.get(
      '/charges/:id',
      {
        config: { access: 'client' },
        schema: {
          summary: 'A charge (transaction object)',
          tags: ['charges'],
          security: [{ ApiKey: [] }],
          params: IdParam,
          response: responses({ 200: Transaction }, [...COMMON_ERRORS, 'transaction_not_found', 'validation_failed']),
        },
      },
      async (request, reply) => {
        const found = await withDb(() => userRepository.findTransaction(deps.db, BigInt(request.params.id)));
        if (found === 'unavailable') return sendProblem(reply, 'database_unavailable');
        if (found === undefined || found.type !== 'charge') return sendProblem(reply, 'transaction_not_found');
        return reply.type(JSON_TYPE).send(found.json);
      },
    );
  };
}

async function withDb<T>(work: () => Promise<T>): Promise<T | 'unavailable'> {
  try {
    return await work();
  } catch (error) {
    if (isUnavailable(error)) return 'unavailable';
    throw error;
  }
}

