import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './config.ts';
import { createPool } from './db/pool.ts';
import { createReadRouter } from './db/read-router.ts';
import { createKeyRing } from './domain/auth.ts';
import { renderProblem } from './domain/errors.ts';
import { createResponseCache } from './domain/idempotency/response-cache.ts';
import { createChargeBatcher } from './domain/payments/charge-batcher.ts';
import { createPaymentService } from './domain/payments/payment-service.ts';
import { registerAuth } from './plugins/app/auth.ts';
import { registerJsonBody } from './plugins/app/json-body.ts';
import { registerProblems } from './plugins/app/problems.ts';
import { registerRateLimit } from './plugins/app/rate-limit.ts';
import { registerSecurityHeaders } from './plugins/app/security-headers.ts';
import { validatorCompiler } from './plugins/app/validator.ts';
import { createMetrics } from './plugins/external/metrics.ts';
import { createRedis, createRedisCluster, type RedisClient } from './plugins/external/redis.ts';
import { createRedisGuard } from './plugins/external/redis-guard.ts';
import { lazyChildLogger } from './plugins/external/request-logger.ts';
import { chargeRoutes } from './routes/charge.ts';
import type { RouteDeps } from './routes/deps.ts';
import { refundRoutes } from './routes/refunds.ts';
import { serviceRoutes } from './routes/service.ts';
import { userRoutes } from './routes/users.ts';

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

export interface AppOptions {
  readonly config: Config;
  /** The resolved database (DATABASE_URL, or the embedded cluster's URL). */
  readonly databaseUrl: string;
  /** Where logs go; defaults to stdout. Tests pass a stream to scan what was logged. */
  readonly logStream?: NodeJS.WritableStream;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Builds the HTTP app and everything it owns (pool, Redis client, metrics); app.close() releases them all. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const app = Fastify({
    logger: {
      level: config.logLevel,
      ...(options.logStream === undefined ? {} : { stream: options.logStream }),
      redact: { paths: ['req.headers["x-api-key"]', 'req.headers.authorization'], censor: '[redacted]' },
    },
    childLoggerFactory: lazyChildLogger,
    bodyLimit: config.bodyLimitBytes,
    // A caller's X-Request-Id is kept when it is safe to log; otherwise a fresh one.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    requestTimeout: config.requestTimeoutMs,
    trustProxy: (_address: string, hop: number) => hop < config.trustProxyHops,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    // Requests Node's HTTP parser refuses (bad framing, headers too large) never reach the app: answer them as
    // problem+json too, and say the connection is closing so a keep-alive client does not reuse the dead socket.
    clientErrorHandler: (error, socket) => {
      if (!socket.writable) return socket.destroy(error);
      const tooLarge = (error as { code?: string }).code === 'HPE_HEADER_OVERFLOW';
      const body = renderProblem(tooLarge ? 'headers_too_large' : 'bad_request');
      socket.end(
        `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n` +
          `Content-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
    },
  })
    .withTypeProvider<TypeBoxTypeProvider>()
    .setValidatorCompiler(validatorCompiler);

  const db = createPool(config, options.databaseUrl);
  const redisOptions = {
    commandTimeoutMs: config.redisCommandTimeoutMs,
    onError: (error: Error) => app.log.debug({ err: error.message }, 'redis connection error'),
  };
  const redis: RedisClient | undefined =
    config.redisClusterNodes !== undefined
      ? createRedisCluster(config.redisClusterNodes, redisOptions)
      : config.redisUrl !== undefined
        ? createRedis(config.redisUrl, redisOptions)
        : undefined;
  // Read-only endpoints may use a replica; money and idempotency decisions always use `db`, the primary.
  const reads = createReadRouter(config, db, (error) =>
    app.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'read replica failed; reading from the primary'),
  );
  const metrics = createMetrics(db);
  const guard = createRedisGuard(redis, (operation, error) => {
    metrics.redisErrors.inc({ operation });
    app.log.warn({ operation, err: error instanceof Error ? error.message : String(error) }, 'redis unavailable; skipping it');
  });
  const cache = createResponseCache({
    redis: guard,
    ttlSeconds: config.cacheTtlSeconds,
    memoryEntries: config.memoryCacheEntries,
    events: metrics.cacheEvents,
  });
  const deps: RouteDeps = {
    config,
    db,
    reads,
    cache,
    payments: createPaymentService({
      db,
      cache,
      batcher: config.batchEnabled
        ? createChargeBatcher(
            db,
            { maxSize: config.batchMaxSize, maxWaitMs: config.batchMaxWaitMs, maxInFlight: config.batchMaxInFlight },
            metrics.batchEvents,
          )
        : undefined,
    }),
    metrics,
    version: VERSION,
  };

  app.addHook('onClose', async () => {
    redis?.disconnect();
    await reads.end();
    await db.end();
  });

  registerSecurityHeaders(app);
  registerJsonBody(app);
  registerProblems(app);
  registerAuth(app, createKeyRing(config.apiKeys));
  await registerRateLimit(app, { max: config.rateLimitMax, windowMs: config.rateLimitWindowMs }, guard);

  await app.register(swagger, {
    openapi: {
      info: { title: 'PicoPay', version: VERSION, description: 'Exactly-once charges over HTTP' },
      components: { securitySchemes: { ApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(serviceRoutes(deps));
  await app.register(chargeRoutes(deps));
  await app.register(refundRoutes(deps));
  await app.register(userRoutes(deps));
  return app;
}
