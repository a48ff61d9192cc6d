import type { FastifyInstance } from 'fastify';
import type { Caller, KeyRing } from '../../domain/auth.ts';
import { ProblemError } from '../../domain/errors.ts';

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
  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config.access ?? 'public';
    if (access === 'public') return;
    const header = request.headers['x-api-key'];
    // A repeated X-API-Key header arrives joined ("a, b") or as an array: never a valid key.
    const caller = keys.authenticate(typeof header === 'string' ? header : undefined);
    if (caller === undefined) {
      request.log.info({ event: 'auth_failed' }, 'authentication failed');
      throw new ProblemError('unauthorized');
    }
    request.caller = caller;
    // reply.log too: Fastify writes "request completed" (and error lines) through it, and it was bound before this hook.
    request.log = request.log.child({ client: caller.client, api_key: caller.maskedKey });
    reply.log = request.log;
    if (access === 'admin' && !caller.admin) throw new ProblemError('forbidden');
  });
}
