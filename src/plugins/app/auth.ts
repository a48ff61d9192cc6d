import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Caller, KeyRing } from '../../auth/key-ring.ts';
import { ProblemError } from '../../lib/errors.ts';

/** Who may call a route: nobody needs a key, any client key, or an admin key. */
export type Access = 'public' | 'client' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    caller: Caller | undefined;
  }
}

/**
 * Authentication runs at onRequest, before the body is read or validated, so an unauthenticated caller learns
 * nothing about the request's shape. Every failure is the same 401; nothing says whether a key exists.
 */
export function registerAuth(app: FastifyInstance, keys: KeyRing): void {
  app.decorateRequest('caller', undefined);
  // A callback hook (no promise per request); failures go to done() and on to the problem+json error handler.
  app.addHook('onRequest', (request, _reply, done) => {
    const access = request.routeOptions.config.access ?? 'public';
    if (access === 'public') return done();
    const header = request.headers['x-api-key'];
    // A repeated X-API-Key header arrives joined ("a, b") or as an array: never a valid key.
    const caller = keys.authenticate(typeof header === 'string' ? header : undefined);
    if (caller === undefined) {
      request.log.info({ event: 'auth_failed' }, 'authentication failed');
      return done(new ProblemError('unauthorized'));
    }
    request.caller = caller;
    // In place, not a second child logger per request: request.log and reply.log are the same per-request logger
    // (Fastify writes "request completed" and error lines through reply.log), so both carry the caller. pino's
    // setBindings, or LazyRequestLogger's (plugins/external/request-logger.ts), which defers it with the child.
    (request.log as FastifyBaseLogger & { setBindings(b: Record<string, string>): void }).setBindings({
      client: caller.client,
      api_key: caller.maskedKey,
    });
    done(access === 'admin' && !caller.admin ? new ProblemError('forbidden') : undefined);
  });
}
