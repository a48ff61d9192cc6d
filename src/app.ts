import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createKeyStore, type KeyStore } from './auth/key-ring.ts';
import { configuredSessionRole, type Config } from './config.ts';
import { eventRoutes } from './events/routes.ts';
import { ERRORS, renderProblem } from './lib/errors.ts';
import { holdRoutes } from './holds/routes.ts';
import { paymentRoutes } from './payments/routes.ts';
import { registerAdmission } from './plugins/app/admission.ts';
import { registerAuth } from './plugins/app/auth.ts';
import { createAuthThrottle } from './plugins/app/auth-throttle.ts';
import { registerJsonBody } from './plugins/app/json-body.ts';
import { registerProblems } from './plugins/app/problems.ts';
import { registerRateLimit } from './plugins/app/rate-limit.ts';
import { registerSecurityHeaders } from './plugins/app/security-headers.ts';
import { validatorCompiler } from './plugins/app/validator.ts';
import { AccessLogController, lazyChildLogger } from './plugins/external/request-logger.ts';
import { serviceRoutes } from './service/routes.ts';
import { createServices } from './services.ts';
import { userRoutes } from './users/routes.ts';
import { webhookRoutes } from './webhooks/routes.ts';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

declare module 'fastify' {
  interface FastifyInstance {
    /** The API keys in use; the server replaces them on SIGHUP. */
    keys: KeyStore;
  }
}

export interface AppOptions {
  readonly config: Config;
  /** The resolved database (DATABASE_URL, or the embedded cluster's URL). */
  readonly databaseUrl: string;
  /**
   * The role the server's sessions switch to (see openDatabase); null: DATABASE_URL's login as it is. Undefined:
   * decided from the configuration alone (tests build apps on a database migrated once per run): DATABASE_APP_ROLE
   * in single-URL mode, none with DATABASE_MIGRATION_URL.
   */
  readonly sessionRole?: string | null;
  /** Where logs go; defaults to stdout. Tests pass a stream to scan what was logged. */
  readonly logStream?: NodeJS.WritableStream;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Requests Node's HTTP parser refuses (bad framing, headers too large) never reach the app: answer them as
 * problem+json too, and say the connection is closing so a keep-alive client does not reuse the dead socket.
 */
function answerClientError(error: Error, socket: Socket): void {
  if (!socket.writable) return void socket.destroy(error);
  const code = (error as { code?: string }).code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'bad_request';
  const { status } = ERRORS[code];
  const body = renderProblem(code);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      `Content-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
}

function fastifyOptions(options: AppOptions): FastifyServerOptions {
  const { config } = options;
  return {
    logger: {
      level: config.logLevel,
      ...(options.logStream === undefined ? {} : { stream: options.logStream }),
      redact: { paths: ['req.headers["x-api-key"]', 'req.headers.authorization'], censor: '[redacted]' },
    },
    childLoggerFactory: lazyChildLogger,
    logController: new AccessLogController(),
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
    clientErrorHandler: answerClientError,
    // Direct HTTPS (TLS_CERT_FILE/TLS_KEY_FILE): Fastify creates an https server with the same timeouts. Read once
    // at start, so a renewed certificate takes a restart (docs/DEPLOY.md).
    ...(config.tls === undefined ? {} : { https: { cert: config.tls.cert, key: config.tls.key } }),
  };
}

async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: { title: 'PicoPay', version: VERSION, description: 'Exactly-once charges over HTTP' },
      components: { securitySchemes: { ApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** Builds the HTTP app and everything it owns (pool, Redis client, metrics); app.close() releases them all. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const app = Fastify(fastifyOptions(options))
    .withTypeProvider<TypeBoxTypeProvider>()
    .setValidatorCompiler(validatorCompiler);
  const sessionRole = options.sessionRole === undefined ? configuredSessionRole(config) : options.sessionRole;
  const services = createServices(config, { url: options.databaseUrl, sessionRole }, VERSION, app.log);
  app.addHook('onClose', () => services.close());

  registerSecurityHeaders(app);
  registerJsonBody(app);
  registerProblems(app);
  const admission = {
    maxInflight: config.maxInflightRequests,
    maxEventLoopDelayMs: config.maxEventLoopDelayMs,
    deadlineMs: config.requestDeadlineMs,
  };
  await registerAdmission(app, admission, services.deps.metrics.shed);
  const keys = createKeyStore(config.apiKeys);
  app.decorate('keys', keys);
  const throttle = createAuthThrottle(
    { limit: config.authFailureLimit, windowMs: config.authFailureWindowMs },
    services.redisGuard,
  );
  registerAuth(app, keys, { throttle, events: services.deps.metrics.authEvents });
  await registerRateLimit(app, { max: config.rateLimitMax, windowMs: config.rateLimitWindowMs }, services.redisGuard);
  await registerDocs(app);

  await app.register(serviceRoutes(services.deps));
  await app.register(paymentRoutes(services.deps));
  await app.register(userRoutes(services.deps));
  await app.register(holdRoutes(services.deps));
  await app.register(eventRoutes(services.deps));
  await app.register(webhookRoutes(services.deps));
  return app;
}
