import type { FastifyBaseLogger, FastifyInstance, RouteOptions } from 'fastify';
import type { Caller, KeyRing } from '../../auth/key-ring.ts';
import type { Scope } from '../../auth/scopes.ts';
import { ProblemError } from '../../lib/errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scopes that let a caller in (any one of them); absent: a public route, no key needed. */
    scopes?: readonly Scope[];
  }
  interface FastifyRequest {
    caller: Caller | undefined;
  }
}

/** The 403 of a key without the scope a route needs; the detail names the scope. */
export function insufficientScope(scopes: readonly Scope[]): ProblemError {
  const [needed, ...wider] = scopes;
  const alternatives = wider.length === 0 ? '' : ` (or ${wider.join(' or ')})`;
  return new ProblemError('insufficient_scope', `This API key lacks the scope ${needed}${alternatives}`, undefined, {
    scope: needed!,
  });
}

/** The OpenAPI document says which scopes each route needs. */
function documentScopes(route: RouteOptions): void {
  const scopes = route.config?.scopes;
  if (scopes === undefined || route.schema === undefined) return;
  const schema = route.schema as { description?: string };
  const needs = `Requires an API key with the scope ${scopes.map((s) => `\`${s}\``).join(' or ')}.`;
  schema.description = schema.description === undefined ? needs : `${schema.description}\n\n${needs}`;
}

/**
 * Authentication runs at onRequest, before the body is read or validated, so an unauthenticated caller learns
 * nothing about the request's shape. Every failure is the same 401; nothing says whether a key exists. A valid key
 * without the route's scope gets 403 insufficient_scope.
 */
export function registerAuth(app: FastifyInstance, keys: KeyRing): void {
  app.decorateRequest('caller', undefined);
  app.addHook('onRoute', documentScopes);
  // A callback hook (no promise per request); failures go to done() and on to the problem+json error handler.
  app.addHook('onRequest', (request, _reply, done) => {
    const scopes = request.routeOptions.config.scopes;
    if (scopes === undefined) return done();
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
    done(scopes.some((scope) => caller.scopes.has(scope)) ? undefined : insufficientScope(scopes));
  });
}
