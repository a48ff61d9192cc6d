import type { FastifyBaseLogger, FastifyInstance, FastifyReply, RouteOptions } from 'fastify';
import type { Caller, KeyRing } from '../../auth/key-ring.ts';
import type { Scope } from '../../auth/scopes.ts';
import { ProblemError } from '../../lib/errors.ts';
import type { AuthThrottle } from './auth-throttle.ts';

export interface AuthEvents {
  failed(): void;
  throttled(): void;
}

export interface AuthOptions {
  /** Undefined: failed authentications are not throttled (AUTH_FAILURE_LIMIT=0). */
  readonly throttle: AuthThrottle | undefined;
  readonly events: AuthEvents;
}

/** 429 `rate_limited` (the existing code: clients already back off on it) with Retry-After until the window passes. */
function tooManyFailures(reply: FastifyReply, waitMs: number): ProblemError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  reply.header('Retry-After', String(seconds));
  return new ProblemError('rate_limited', `Too many failed authentications from this address; retry in ${seconds} s`);
}

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
export function registerAuth(app: FastifyInstance, keys: KeyRing, options: AuthOptions): void {
  const { throttle, events } = options;
  app.decorateRequest('caller', undefined);
  app.addHook('onRoute', documentScopes);
  // A callback hook (no promise per request); failures go to done() and on to the problem+json error handler.
  app.addHook('onRequest', (request, reply, done) => {
    const scopes = request.routeOptions.config.scopes;
    if (scopes === undefined) return done();
    // An address over the failure limit is answered before its key is looked at, valid or not.
    const blocked = throttle?.blockedFor(request.ip) ?? 0;
    if (blocked > 0) {
      events.throttled();
      return done(tooManyFailures(reply, blocked));
    }
    const header = request.headers['x-api-key'];
    // A repeated X-API-Key header arrives joined ("a, b") or as an array: never a valid key.
    const caller = keys.authenticate(typeof header === 'string' ? header : undefined);
    if (caller === undefined) {
      request.log.info({ event: 'auth_failed' }, 'authentication failed');
      events.failed();
      if (throttle === undefined) return done(new ProblemError('unauthorized'));
      throttle.failed(request.ip).then(
        (wait) => {
          if (wait > 0) events.throttled();
          done(wait > 0 ? tooManyFailures(reply, wait) : new ProblemError('unauthorized'));
        },
        () => done(new ProblemError('unauthorized')),
      );
      return;
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
