import type { FastifyPluginAsyncTypebox, FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RouteDeps } from '../deps.ts';
import { retryAfter } from '../lib/errors.ts';
import { ResponseObject } from '../lib/schemas.ts';
import { createReadyProbe } from './ready-probe.ts';

const Ready = ResponseObject({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  postgres: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  redis: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('disabled')]),
  replica: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('disabled')]),
});

type Routes = Parameters<FastifyPluginCallbackTypebox>[0];

/**
 * GET /ready: 200 while PostgreSQL answers; Redis and the replica are reported, never decisive. The database state
 * comes from a probe refreshed at most once a second (ready-probe.ts).
 */
function readyRoute(app: Routes, deps: RouteDeps): void {
  const probe = createReadyProbe(deps);
  app.get(
    '/ready',
    {
      schema: {
        summary:
          'Readiness: 200 when PostgreSQL answers; Redis and the read replica are reported but never fail readiness',
        tags: ['service'],
        response: { 200: Ready, 503: Ready },
      },
    },
    async (_request, reply) => {
      const { postgres, replica } = await probe();
      const status = postgres === 'up' ? ('ready' as const) : ('unavailable' as const);
      const body = { status, postgres, redis: deps.cache.redisState(), replica };
      if (postgres === 'down') reply.header('Retry-After', retryAfter('database_unavailable'));
      return reply.code(postgres === 'up' ? 200 : 503).send(body);
    },
  );
}

/** Welcome, liveness, readiness and metrics: public, no body, no key. */
export function serviceRoutes(deps: RouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/',
      {
        schema: {
          summary: 'Welcome',
          tags: ['service'],
          response: {
            200: ResponseObject({
              service: Type.String(),
              version: Type.String(),
              docs: Type.String(),
              openapi: Type.String(),
            }),
          },
        },
      },
      async () => ({ service: 'PicoPay', version: deps.version, docs: '/docs', openapi: '/openapi.json' }),
    );

    app.get(
      '/health',
      {
        schema: {
          summary: 'Liveness: the process answers (no dependency is checked)',
          tags: ['service'],
          response: { 200: ResponseObject({ status: Type.Literal('healthy') }) },
        },
      },
      async () => ({ status: 'healthy' as const }),
    );

    readyRoute(app, deps);

    app.get(
      '/metrics',
      { schema: { summary: 'Prometheus metrics', tags: ['service'], hide: false } },
      async (_request, reply) => {
        const text = await deps.metrics.registry.metrics();
        return reply.type(deps.metrics.registry.contentType).send(text);
      },
    );
  };
}
