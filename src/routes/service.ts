import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RouteDeps } from './deps.ts';

const Ready = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  postgres: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  redis: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('disabled')]),
});

/** Welcome, liveness, readiness and metrics: public, no body, no key. */
export function serviceRoutes(deps: RouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/',
      {
        schema: {
          summary: 'Welcome',
          tags: ['service'],
          response: { 200: Type.Object({ service: Type.String(), version: Type.String(), docs: Type.String(), openapi: Type.String() }) },
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
          response: { 200: Type.Object({ status: Type.Literal('healthy') }) },
        },
      },
      async () => ({ status: 'healthy' as const }),
    );

    app.get(
      '/ready',
      {
        schema: {
          summary: 'Readiness: 200 when PostgreSQL answers; Redis is reported but never fails readiness',
          tags: ['service'],
          response: { 200: Ready, 503: Ready },
        },
      },
      async (_request, reply) => {
        let postgres: 'up' | 'down' = 'up';
        try {
          await deps.db.query('SELECT 1');
        } catch {
          postgres = 'down';
        }
        const body = { status: postgres === 'up' ? ('ready' as const) : ('unavailable' as const), postgres, redis: deps.cache.redisState() };
        if (postgres === 'down') reply.header('Retry-After', '1');
        return reply.code(postgres === 'up' ? 200 : 503).send(body);
      },
    );

    app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['service'], hide: false } }, async (_request, reply) => {
      const text = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(text);
    });
  };
}
