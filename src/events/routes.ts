import type { FastifyPluginAsyncTypebox, FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { hasScope } from '../auth/key-ring.ts';
import { ROUTE_SCOPES } from '../auth/scopes.ts';
import { readOnly } from '../db/read-only.ts';
import type { RouteDeps } from '../deps.ts';
import { COMMON_ERRORS, responses } from '../lib/schemas.ts';
import { sendProblem } from '../plugins/app/problems.ts';
import { createEventMetrics, type EventMetrics } from './metrics.ts';
import { startEventPurger, type EventPurger } from './purge.ts';
import { eventRepository, type StoredEvent } from './repository.ts';
import { DEFAULT_PAGE, EventPage, EventsQuery } from './schemas.ts';
import { startSequencer, type Sequencer } from './sequencer.ts';

const JSON_TYPE = 'application/json; charset=utf-8';
type Routes = Parameters<FastifyPluginCallbackTypebox>[0];

/** One event as the feed shows it; `data` goes out as the stored bytes, never parsed and serialised again. */
function render(e: StoredEvent): string {
  return (
    `{"id":${e.seq},"type":${JSON.stringify(e.type)},"created_at":"${e.created_at}",` +
    `"client":${JSON.stringify(e.client)},"data":${e.data}}`
  );
}

/** GET /events: the published events after a cursor, oldest first; a client sees the events it caused. */
function feedRoute(app: Routes, deps: RouteDeps): void {
  app.get(
    '/events',
    {
      config: { scopes: ROUTE_SCOPES.readEvents },
      schema: {
        summary: 'Events (the outbox), oldest first, after a cursor: resume from the last id processed',
        tags: ['events'],
        security: [{ ApiKey: [] }],
        querystring: EventsQuery,
        response: responses({ 200: EventPage }, [...COMMON_ERRORS, 'validation_failed']),
      },
    },
    async (request, reply) => {
      const caller = request.caller!;
      const after = BigInt(request.query.after ?? '0');
      const limit = request.query.limit ?? DEFAULT_PAGE;
      const types = request.query.type === undefined ? null : [...new Set(request.query.type.split(','))];
      const feed = { after, limit: limit + 1, types, client: hasScope(caller, 'read:all') ? null : caller.client };
      // The replica is fine: it applies commits in order, so it shows a prefix of the seq order, never a gap.
      const rows = await readOnly(
        deps.reads,
        reply,
        (db) => eventRepository.page(db, feed),
        () => false,
      );
      if (rows === 'unavailable') return sendProblem(reply, 'database_unavailable');
      const page = rows.slice(0, limit);
      const nextAfter = page.length === 0 ? after.toString() : page[page.length - 1]!.seq;
      const hasMore = rows.length > limit;
      return reply
        .type(JSON_TYPE)
        .send(`{"data":[${page.map(render).join(',')}],"has_more":${hasMore},"next_after":${nextAfter}}`);
    },
  );
}

/** The sequencer (EVENTS_SEQUENCE_INTERVAL_MS; 0: none here) and the retention purge, while the app runs. */
function startLoops(app: FastifyInstance, deps: RouteDeps, metrics: EventMetrics): void {
  const { config } = deps;
  let sequencer: Sequencer | undefined;
  let purger: EventPurger | undefined;
  app.addHook('onReady', async () => {
    if (config.eventsSequenceIntervalMs > 0)
      sequencer = startSequencer(deps.db, config.eventsSequenceIntervalMs, metrics, app.log);
    if (config.idempotencyPurgeIntervalMs > 0) {
      const settings = {
        retentionMs: config.eventRetentionMs,
        batch: config.idempotencyPurgeBatch,
        maxSteps: 1000,
        intervalMs: config.idempotencyPurgeIntervalMs,
      };
      purger = startEventPurger(deps.db, settings, (result) => {
        if (result instanceof Error) app.log.warn({ err: result.message }, 'event purge failed; retrying next run');
        else metrics.purged.inc(result.deleted);
      });
    }
  });
  app.addHook('preClose', async () => {
    await sequencer?.stop();
    await purger?.stop();
  });
}

/** Events: GET /events, and the loops that publish new events and delete those past EVENT_RETENTION. */
export function eventRoutes(deps: RouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const metrics = createEventMetrics(deps.metrics.registry);
    startLoops(app, deps, metrics);
    feedRoute(app, deps);
  };
}
