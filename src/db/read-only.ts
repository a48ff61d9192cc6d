import type { FastifyReply } from 'fastify';
import { isUnavailable, type Db } from './pool.ts';
import type { ReadRouter } from './read-router.ts';

/**
 * A read-only query through the read router: the replica when configured and healthy, else the primary, named in
 * `X-Read-Source`. An answer `recheck` calls "not found" from the replica is asked again on the primary (replication
 * lag). 'unavailable' when the database could not answer (the route answers 503).
 */
export async function readOnly<T>(
  reads: ReadRouter,
  reply: FastifyReply,
  work: (db: Db) => Promise<T>,
  recheck: (value: T) => boolean,
): Promise<T | 'unavailable'> {
  try {
    const { value, source } = await reads.read(work, recheck);
    reply.header('X-Read-Source', source);
    return value;
  } catch (error) {
    if (isUnavailable(error)) return 'unavailable';
    throw error;
  }
}
