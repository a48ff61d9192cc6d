import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { hasScope } from '../auth/key-ring.ts';
import { ROUTE_SCOPES } from '../auth/scopes.ts';
import type { RouteDeps } from '../deps.ts';
import { readOnly } from '../db/read-only.ts';
import { COMMON_ERRORS, IdParam, responses } from '../lib/schemas.ts';
import { sendProblem } from '../plugins/app/problems.ts';
import type { HoldMetrics, HoldOperation, HoldTransition } from '../plugins/external/hold-metrics.ts';
import type { MoneyResult } from '../payments/types.ts';
import { requireIdempotencyKey, sendMoneyResult } from '../payments/money-request.ts';
import { IdempotencyHeaders } from '../payments/schemas.ts';
import { holdRepository } from './repository.ts';
import { partialAmountPreValidation } from '../payments/money-request.ts';
import { toAuthorizeRequest, toCaptureAmount } from './requests.ts';
import { Authorization, AuthorizeBody, CaptureBody, VoidBody } from './schemas.ts';
import { createHoldService, type HoldService } from './service.ts';
import { startSweeper, type Sweeper } from './sweeper.ts';

const WRITE_ERRORS = [
  ...COMMON_ERRORS,
  'invalid_idempotency_key',
  'invalid_json',
  'idempotency_key_in_use',
  'payload_too_large',
  'unsupported_media_type',
  'validation_failed',
  'idempotency_key_reused',
] as const;
const SETTLE_ERRORS = [
  ...WRITE_ERRORS,
  'authorization_not_found',
  'authorization_expired',
  'authorization_already_captured',
  'authorization_not_pending',
] as const;
const MADE: Record<HoldOperation, HoldTransition> = { authorize: 'authorized', capture: 'captured', void: 'voided' };

/** Counts a hold POST's outcome and, when this request (not a replay) moved the hold, its state change. */
function counted(metrics: HoldMetrics, operation: HoldOperation, result: MoneyResult): MoneyResult {
  const succeeded = result.ok && result.status < 300;
  metrics.request(
    operation,
    !result.ok ? 'failed' : result.replayed ? 'idempotent_hit' : succeeded ? 'success' : 'failed',
  );
  if (succeeded && !result.replayed) metrics.transition(MADE[operation]);
  return result;
}

const common = { tags: ['authorizations'], security: [{ ApiKey: [] }] };

type App = Parameters<FastifyPluginAsyncTypebox>[0];

function authorizeRoute(app: App, deps: RouteDeps, holds: HoldService): void {
  app.post(
    '/authorizations',
    {
      config: { scopes: ROUTE_SCOPES.authorize, money: true },
      preValidation: requireIdempotencyKey,
      schema: {
        ...common,
        summary: "Hold an amount of a user's available balance, exactly once per Idempotency-Key",
        headers: IdempotencyHeaders,
        body: AuthorizeBody,
        response: responses(
          { 201: Authorization },
          [...WRITE_ERRORS, 'insufficient_balance', 'user_not_found', 'currency_not_supported'],
          { idempotent: true },
        ),
      },
    },
    async (request, reply) => {
      const parsed = toAuthorizeRequest(request.body, deps.config);
      const result = 'ok' in parsed ? parsed : await holds.authorize(request.caller!, request.idempotencyKey, parsed);
      return sendMoneyResult(reply, counted(deps.metrics.holds, 'authorize', result));
    },
  );
}

function captureRoute(app: App, deps: RouteDeps, holds: HoldService): void {
  app.post(
    '/authorizations/:id/capture',
    {
      config: { scopes: ROUTE_SCOPES.settleHold, money: true },
      preValidation: partialAmountPreValidation,
      schema: {
        ...common,
        summary: 'Capture all or part of a pending hold (the rest is released), exactly once per Idempotency-Key',
        params: IdParam,
        headers: IdempotencyHeaders,
        body: CaptureBody,
        response: responses({ 200: Authorization }, [...SETTLE_ERRORS, 'capture_exceeds_authorization'], {
          idempotent: true,
        }),
      },
    },
    async (request, reply) => {
      const amount = toCaptureAmount(request.body);
      const id = BigInt(request.params.id);
      const result =
        amount !== null && 'ok' in amount
          ? amount
          : await holds.capture(request.caller!, request.idempotencyKey, id, amount);
      return sendMoneyResult(reply, counted(deps.metrics.holds, 'capture', result));
    },
  );
}

function voidRoute(app: App, deps: RouteDeps, holds: HoldService): void {
  app.post(
    '/authorizations/:id/void',
    {
      config: { scopes: ROUTE_SCOPES.settleHold, money: true },
      preValidation: partialAmountPreValidation,
      schema: {
        ...common,
        summary: 'Release a pending hold, exactly once per Idempotency-Key',
        params: IdParam,
        headers: IdempotencyHeaders,
        body: VoidBody,
        response: responses({ 200: Authorization }, SETTLE_ERRORS, { idempotent: true }),
      },
    },
    async (request, reply) => {
      const result = await holds.void(request.caller!, request.idempotencyKey, BigInt(request.params.id));
      return sendMoneyResult(reply, counted(deps.metrics.holds, 'void', result));
    },
  );
}

function readRoute(app: App, deps: RouteDeps): void {
  app.get(
    '/authorizations/:id',
    {
      config: { scopes: ROUTE_SCOPES.readCharges },
      schema: {
        ...common,
        summary: 'A hold as it is now (a pending hold past its expiry shows as expired)',
        params: IdParam,
        response: responses({ 200: Authorization }, [...COMMON_ERRORS, 'authorization_not_found', 'validation_failed']),
      },
    },
    async (request, reply) => {
      const id = BigInt(request.params.id);
      const found = await readOnly(
        deps.reads,
        reply,
        (db) => holdRepository.find(db, id),
        (h) => h === undefined,
      );
      if (found === 'unavailable') return sendProblem(reply, 'database_unavailable');
      const caller = request.caller!;
      if (found === undefined || !(found.client === caller.client || hasScope(caller, 'read:all')))
        return sendProblem(reply, 'authorization_not_found');
      return reply.type('application/json; charset=utf-8').send(found.json);
    },
  );
}

/**
 * Holds: POST /authorizations, POST /authorizations/{id}/capture and /void (exactly once per Idempotency-Key, like
 * charges), GET /authorizations/{id}; and the sweeper that releases expired holds (HOLD_SWEEP_INTERVAL_MS).
 */
export function holdRoutes(deps: RouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const holds = createHoldService(deps.db, deps.cache, {
      retentionMs: deps.config.idempotencyRetentionMs,
      declineRetentionMs: deps.config.idempotencyDeclineRetentionMs,
    });
    startSweeperWith(app, deps);
    authorizeRoute(app, deps, holds);
    captureRoute(app, deps, holds);
    voidRoute(app, deps, holds);
    readRoute(app, deps);
  };
}

/** The sweeper runs while the app does (none with HOLD_SWEEP_INTERVAL_MS=0). */
function startSweeperWith(app: FastifyInstance, deps: RouteDeps): void {
  if (deps.config.holdSweepIntervalMs <= 0) return;
  let sweeper: Sweeper | undefined;
  app.addHook('onReady', async () => {
    sweeper = startSweeper(deps.db, deps.config.holdSweepIntervalMs, app.log, (holds) =>
      deps.metrics.holds.transition('expired', holds),
    );
  });
  app.addHook('preClose', async () => sweeper?.stop());
}
