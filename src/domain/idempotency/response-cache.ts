import type { Redis } from 'ioredis';
import { LruCache } from './lru.ts';

/** A final response stored under an Idempotency-Key, with the fingerprint of the request that produced it. */
export interface StoredResponse {
  readonly fingerprint: string; // hex
  readonly status: number;
  readonly code: string | null;
  readonly body: string;
}

export type CacheLayer = 'memory' | 'redis';
export type LookupResult = 'hit' | 'miss' | 'mismatch' | 'error' | 'skipped';

export interface CacheEvents {
  lookup(layer: CacheLayer, result: LookupResult): void;
  redisError(operation: 'get' | 'set', error: unknown): void;
}

export interface ResponseCache {
  /** A stored response whose fingerprint matches, or undefined: the caller then asks PostgreSQL, the authority. */
  get(client: string, key: string, fingerprint: string): Promise<StoredResponse | undefined>;
  /** After commit only. Never throws, never waits for Redis. */
  set(client: string, key: string, response: StoredResponse): void;
  readonly redisState: () => 'up' | 'down' | 'disabled';
}

export interface ResponseCacheDeps {
  readonly redis: Redis | undefined;
  readonly ttlSeconds: number;
  readonly memoryEntries: number;
  readonly events: CacheEvents;
  readonly now?: () => number;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * A Redis entry names the (client, key) it was written for: an entry copied or left under another key (a stale
 * restore, a bug, a swap) must not replay there, even when the two requests were identical and so share a fingerprint.
 */
function encode(client: string, key: string, response: StoredResponse): string {
  return JSON.stringify({ client, key, ...response });
}

function decode(raw: string, client: string, key: string): StoredResponse | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null) return undefined;
    const entry = value as Record<string, unknown>;
    if (entry.client !== client || entry.key !== key) return undefined;
    const { fingerprint, status, code, body } = entry;
    if (typeof fingerprint !== 'string' || !/^[0-9a-f]{64}$/.test(fingerprint)) return undefined;
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 499) return undefined;
    if (code !== null && typeof code !== 'string') return undefined;
    if (typeof body !== 'string') return undefined;
    JSON.parse(body); // a garbled body is a miss, never a reply
    return { fingerprint, status, code, body };
  } catch {
    return undefined;
  }
}

/**
 * Two layers in front of PostgreSQL: an in-process LRU, then Redis under `idempotency:{client}:{key}`. Redis is
 * an accelerator only: after a failure it is skipped for a back-off period (1 s doubling to 30 s), so a dead or
 * slow Redis costs nothing per request, and any entry that does not decode, or was not written for this client, key
 * and request fingerprint, is a miss.
 */
export function createResponseCache(deps: ResponseCacheDeps): ResponseCache {
  const now = deps.now ?? Date.now;
  const memory = new LruCache<StoredResponse>(deps.memoryEntries, deps.ttlSeconds * 1000, now);
  const redis = deps.redis;
  let skipUntil = 0;
  let backoffMs = 0;

  const redisUsable = (): boolean => redis !== undefined && redis.status === 'ready' && now() >= skipUntil;
  const redisFailed = (operation: 'get' | 'set', error: unknown): void => {
    backoffMs = Math.min(backoffMs === 0 ? 1000 : backoffMs * 2, MAX_BACKOFF_MS);
    skipUntil = now() + backoffMs;
    deps.events.redisError(operation, error);
  };
  const redisOk = (): void => {
    backoffMs = 0;
  };
  const memoryKey = (client: string, key: string): string => `${client}\u0000${key}`;
  const redisKey = (client: string, key: string): string => `idempotency:${client}:${key}`;

  return {
    async get(client, key, fingerprint) {
      const local = memory.get(memoryKey(client, key));
      if (local !== undefined) {
        const match = local.fingerprint === fingerprint;
        deps.events.lookup('memory', match ? 'hit' : 'mismatch');
        if (match) return local;
      } else {
        deps.events.lookup('memory', 'miss');
      }
      if (redis === undefined) return undefined;
      if (!redisUsable()) {
        deps.events.lookup('redis', 'skipped');
        return undefined;
      }
      let raw: string | null;
      try {
        raw = await redis.get(redisKey(client, key));
        redisOk();
      } catch (error) {
        redisFailed('get', error);
        deps.events.lookup('redis', 'error');
        return undefined;
      }
      if (raw === null) {
        deps.events.lookup('redis', 'miss');
        return undefined;
      }
      const stored = decode(raw, client, key);
      if (stored === undefined || stored.fingerprint !== fingerprint) {
        deps.events.lookup('redis', 'mismatch');
        return undefined;
      }
      deps.events.lookup('redis', 'hit');
      memory.set(memoryKey(client, key), stored);
      return stored;
    },

    set(client, key, response) {
      memory.set(memoryKey(client, key), response);
      if (redis === undefined || !redisUsable()) return;
      redis.set(redisKey(client, key), encode(client, key, response), 'EX', deps.ttlSeconds).then(redisOk, (error) =>
        redisFailed('set', error),
      );
    },

    redisState() {
      if (redis === undefined) return 'disabled';
      return redis.status === 'ready' ? 'up' : 'down';
    },
  };
}
