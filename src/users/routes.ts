import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FastifyReply } from 'fastify';
import { isUnavailable, type Db } from '../db/pool.ts';
import type { FieldError } from '../domain/errors.ts';
import { currencyExponent, toMinorUnits } from '../domain/money.ts';
import { userRepository, type OpeningBalance, type TransactionFilter } from '../domain/users/user-repository.ts';
import { rawNumberText } from '../lib/strict-json.ts';
import { toInstant } from '../lib/timestamp.ts';
import { sendProblem } from '../plugins/app/problems.ts';
import type { RouteDeps } from './deps.ts';
import { moneyStatus, requireIdempotencyKey, sendMoneyResult, toMoneyRequest } from './money-request.ts';
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

const Timestamp = (description: string) => Type.String({ format: 'date-time', maxLength: 64, description });

const TransactionsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'next_cursor of the previous page' })),
    type: Type.Optional(Type.Union([Type.Literal('charge'), Type.Literal('credit'), Type.Literal('refund')])),
    created_after: Type.Optional(Timestamp('RFC 3339 date-time; entries created at or after it (millisecond precision)')),
    created_before: Type.Optional(Timestamp('RFC 3339 date-time; entries created before it (millisecond precision)')),
  },
  { additionalProperties: false },
);

/** The history filter from the query, or the fields whose timestamps PostgreSQL could not store. */
function transactionFilter(query: { type?: TransactionFilter['type']; created_after?: string; created_before?: string }):
  TransactionFilter | FieldError[] {
  const errors: FieldError[] = [];
  const instant = (field: string, text: string | undefined): string | null => {
    if (text === undefined) return null;
    const iso = toInstant(text);
    if (iso === undefined) errors.push({ field: `query.${field}`, message: 'must be a date-time in the years 0001-9999, without a leap second' });
    return iso ?? null;
  };
  const filter = {
    type: query.type ?? null,
    createdAfter: instant('created_after', query.created_after),
    createdBefore: instant('created_before', query.created_before),
  };
  return errors.length > 0 ? errors : filter;
}

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
        const userId = BigInt(request.params.id);
        const json = await readOnly(deps, reply, (db) => userRepository.find(db, userId), (found) => found === undefined);
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
          ], { idempotent: true }),
        },
      },
      async (request, reply) => {
        const parsed = toMoneyRequest(request.body, BigInt(request.params.id));
        const result = 'ok' in parsed ? parsed : await deps.payments.execute('credit', request.caller!, request.idempotencyKey, parsed);
        deps.metrics.creditRequests.inc({ status: moneyStatus(result) });
        return sendMoneyResult(reply, result);
      },
    );

    app.get(
      '/users/:id/transactions',
      {
        config: { access: 'client' },
        schema: {
          summary: 'A user\'s ledger entries, newest first, cursor-paginated; filter by type and creation time',
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
        const page = await readOnly(deps, reply, async (db) => {
          const user = await userRepository.find(db, userId);
          return user === undefined ? undefined : userRepository.transactions(db, userId, cursor, request.query.limit ?? 20, filter);
        }, (found) => found === undefined);
        if (page === 'unavailable') return sendProblem(reply, 'database_unavailable');
        if (page === undefined) return sendProblem(reply, 'user_not_found');
        const next = page.nextCursor === null ? 'null' : `"${page.nextCursor}"`;
        return reply.type(JSON_TYPE).send(`{"data":[${page.items.join(',')}],"next_cursor":${next}}`);
      },
    );

    // A charge (with amount_refunded and its refunds as they are now) or a refund (with its charge_id); an id of
    // another type is not found here.
    for (const [path, type, summary] of [
      ['/charges/:id', 'charge', 'A charge (transaction object), with what was refunded of it so far'],
      ['/refunds/:id', 'refund', 'A refund (transaction object), with the charge it refunds'],
    ] as const) {
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
          const found = await readOnly(deps, reply, (db) => userRepository.findTransaction(db, id), (t) => t === undefined);
          if (found === 'unavailable') return sendProblem(reply, 'database_unavailable');
          if (found === undefined || found.type !== type) return sendProblem(reply, 'transaction_not_found');
          return reply.type(JSON_TYPE).send(found.json);
        },
      );
    }
  };
}

/**
 * A read-only query through the read router: the replica when configured and healthy, else the primary, named in
 * `X-Read-Source`. An answer of "not found" from the replica is rechecked on the primary (replication lag).
 */
function readOnly<T>(
  deps: RouteDeps, reply: FastifyReply, work: (db: Db) => Promise<T>, recheck: (value: T) => boolean,
): Promise<T | 'unavailable'> {
  return withDb(async () => {
    const { value, source } = await deps.reads.read(work, recheck);
    reply.header('X-Read-Source', source);
    return value;
  });
}

async function withDb<T>(work: () => Promise<T>): Promise<T | 'unavailable'> {
  try {
    return await work();
  } catch (error) {
    if (isUnavailable(error)) return 'unavailable';
    throw error;
  }
}

