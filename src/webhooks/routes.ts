import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { ROUTE_SCOPES } from '../auth/scopes.ts';
import type { RouteDeps } from '../deps.ts';
import { COMMON_ERRORS, IdParam, responses } from '../lib/schemas.ts';
import { sendProblem } from '../plugins/app/problems.ts';
import { createWebhookMetrics } from './metrics.ts';
import { startRelay, type Relay } from './relay.ts';
import { webhookRepository as repo } from './repository.ts';
import { AttemptPage, CreatedEndpoint, CreateEndpointBody, Endpoint, EndpointPage, PageQuery } from './schemas.ts';
import { createEndpoint, renderAttempt, renderEndpoint } from './service.ts';

const common = { tags: ['webhooks'], security: [{ ApiKey: [] }] };
const config = { scopes: ROUTE_SCOPES.webhooks };
const READ_ERRORS = [...COMMON_ERRORS, 'validation_failed'] as const;
const ONE_ERRORS = [...READ_ERRORS, 'webhook_endpoint_not_found'] as const;
const WRITE_ERRORS = [
  ...READ_ERRORS,
  'invalid_json',
  'payload_too_large',
  'unsupported_media_type',
  'webhook_url_refused',
] as const;

type App = Parameters<FastifyPluginAsyncTypebox>[0];

const nextCursor = (rows: readonly { id: bigint }[], limit: number): string | null =>
  rows.length === limit ? rows[rows.length - 1]!.id.toString() : null;

function writeRoutes(app: App, deps: RouteDeps): void {
  app.post(
    '/webhook-endpoints',
    {
      config,
      schema: {
        ...common,
        summary: 'Register a webhook endpoint; the response carries its signing secret, shown only this once',
        body: CreateEndpointBody,
        response: responses({ 201: CreatedEndpoint }, WRITE_ERRORS),
      },
    },
    async (request, reply) => {
      const created = await createEndpoint(
        deps.db,
        request.body,
        request.caller!.client,
        deps.config.webhookUrlAllowlist,
      );
      if (!created.ok) return sendProblem(reply, 'webhook_url_refused', `The URL is refused: ${created.reason}`);
      return reply.code(201).send(created.endpoint);
    },
  );
  app.delete(
    '/webhook-endpoints/:id',
    {
      config,
      schema: {
        ...common,
        summary: 'Delete a webhook endpoint and its delivery log; nothing more is sent to it',
        params: IdParam,
        response: responses({ 204: { type: 'null', description: 'Deleted' } }, ONE_ERRORS),
      },
    },
    async (request, reply) => {
      if (!(await repo.remove(deps.db, BigInt(request.params.id))))
        return sendProblem(reply, 'webhook_endpoint_not_found');
      return reply.code(204).send();
    },
  );
}

function readRoutes(app: App, deps: RouteDeps): void {
  app.get(
    '/webhook-endpoints',
    {
      config,
      schema: {
        ...common,
        summary: 'Webhook endpoints, oldest first',
        querystring: PageQuery,
        response: responses({ 200: EndpointPage }, READ_ERRORS),
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 20;
      const rows = await repo.list(deps.db, BigInt(request.query.cursor ?? 0), limit);
      return { data: rows.map(renderEndpoint), next_cursor: nextCursor(rows, limit) };
    },
  );
  app.get(
    '/webhook-endpoints/:id',
    {
      config,
      schema: {
        ...common,
        summary: 'A webhook endpoint and its delivery state (never its secret)',
        params: IdParam,
        response: responses({ 200: Endpoint }, ONE_ERRORS),
      },
    },
    async (request, reply) => {
      const row = await repo.find(deps.db, BigInt(request.params.id));
      return row === undefined ? sendProblem(reply, 'webhook_endpoint_not_found') : renderEndpoint(row);
    },
  );
  app.get(
    '/webhook-endpoints/:id/deliveries',
    {
      config,
      schema: {
        ...common,
        summary: "An endpoint's delivery attempts, oldest first",
        params: IdParam,
        querystring: PageQuery,
        response: responses({ 200: AttemptPage }, ONE_ERRORS),
      },
    },
    async (request, reply) => {
      const id = BigInt(request.params.id);
      if ((await repo.find(deps.db, id)) === undefined) return sendProblem(reply, 'webhook_endpoint_not_found');
      const limit = request.query.limit ?? 20;
      const rows = await repo.attempts(deps.db, id, BigInt(request.query.cursor ?? 0), limit);
      return { data: rows.map(renderAttempt), next_cursor: nextCursor(rows, limit) };
    },
  );
}

/** The relay runs while the app does (none with WEBHOOK_RELAY_INTERVAL_MS=0); stopped before the pools close. */
function relayWith(app: FastifyInstance, deps: RouteDeps): void {
  const metrics = createWebhookMetrics(deps.metrics.registry, deps.db);
  const c = deps.config;
  if (c.webhookRelayIntervalMs <= 0) return;
  let relay: Relay | undefined;
  app.addHook('onReady', async () => {
    relay = startRelay(
      deps.db,
      {
        intervalMs: c.webhookRelayIntervalMs,
        concurrency: c.webhookConcurrency,
        timeoutMs: c.webhookTimeoutMs,
        retryBaseMs: c.webhookRetryBaseMs,
        retryPeriodMs: c.webhookRetryPeriodMs,
        allowlist: c.webhookUrlAllowlist,
        attemptRetentionMs: c.webhookAttemptRetentionMs,
      },
      metrics,
      app.log,
    );
  });
  app.addHook('preClose', async () => relay?.stop());
}

/** /webhook-endpoints (webhooks:manage) and the relay that delivers published events to them. */
export function webhookRoutes(deps: RouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    relayWith(app, deps);
    writeRoutes(app, deps);
    readRoutes(app, deps);
  };
}
