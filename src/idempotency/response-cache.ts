import type { RedisGuard } from '../plugins/external/redis-guard.ts';
import type { CacheSigner, RejectReason } from './cache-signature.ts';
import { LruCache } from './lru.ts';

/** A final response stored under an Idempotency-Key, with the fingerprint of the request that produced it. */
export interface StoredResponse {
  readonly fingerprint: string; // hex
  readonly status: number;
  readonly code: string | null;
  readonly body: string;
}

export type CacheLayer = 'memory' | 'redis';
export type LookupResult = 'hit' | 'miss' | 'mismatch' | 'rejected' | 'error' | 'skipped';

export interface CacheEvents {
  lookup(layer: CacheLayer, result: LookupResult): void;
  /** A Redis entry that failed verification: never replayed, the request goes on to PostgreSQL. */
  rejected(reason: RejectReason): void;
}

export interface ResponseCache {
  /** A stored response whose fingerprint matches, or undefined: the caller then asks PostgreSQL, the authority. */
  get(client: string, key: string, fingerprint: string): Promise<StoredResponse | undefined>;
  /** After commit only. Never throws, never waits for Redis. */
  set(client: string, key: string, response: StoredResponse): void;
  readonly redisState: () => 'up' | 'down' | 'disabled';
}

export interface ResponseCacheDeps {
  readonly redis: RedisGuard;
  readonly signer: CacheSigner;
  readonly ttlSeconds: number;
  readonly memoryEntries: number;
  readonly events: CacheEvents;
  readonly now?: () => number;
}

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

/** The entry if its signature holds for this key name and it decodes; otherwise counted as rejected. */
function verifiedEntry(
  deps: ResponseCacheDeps,
  name: string,
  raw: string,
  client: string,
  key: string,
): StoredResponse | undefined {
  const verified = deps.signer.verify(name, raw);
  // A genuine entry always decodes: one that verifies but does not is counted as malformed too.
  const stored = verified.ok ? decode(verified.payload, client, key) : undefined;
  if (stored === undefined) {
    deps.events.rejected(verified.ok ? 'malformed' : verified.reason);
    deps.events.lookup('redis', 'rejected');
  }
  return stored;
}

/**
 * Two layers in front of PostgreSQL: an in-process LRU, then Redis under `idempotency:{client}:{key}`. Redis is
 * an accelerator only: the guard skips it after failures; an entry without a valid signature for its key name
 * (cache-signature.ts) is rejected, and one not written for this client, key and request fingerprint is a miss.
 */
export function createResponseCache(deps: ResponseCacheDeps): ResponseCache {
  const now = deps.now ?? Date.now;
  const memory = new LruCache<StoredResponse>(deps.memoryEntries, deps.ttlSeconds * 1000, now);
  const guard = deps.redis;
  const redis = guard.redis;
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
      if (!guard.usable()) {
        deps.events.lookup('redis', 'skipped');
        return undefined;
      }
      let raw: string | null;
      try {
        raw = await redis.get(redisKey(client, key));
        guard.succeeded();
      } catch (error) {
        guard.failed('get', error);
        deps.events.lookup('redis', 'error');
        return undefined;
      }
      if (raw === null) {
        deps.events.lookup('redis', 'miss');
        return undefined;
      }
      const stored = verifiedEntry(deps, redisKey(client, key), raw, client, key);
      if (stored === undefined) return undefined;
      if (stored.fingerprint !== fingerprint) {
        deps.events.lookup('redis', 'mismatch');
        return undefined;
      }
      deps.events.lookup('redis', 'hit');
      memory.set(memoryKey(client, key), stored);
      return stored;
    },

    set(client, key, response) {
      memory.set(memoryKey(client, key), response);
      if (redis === undefined || !guard.usable()) return;
      const name = redisKey(client, key);
      redis.set(name, deps.signer.sign(name, encode(client, key, response)), 'EX', deps.ttlSeconds).then(
        () => guard.succeeded(),
        (error: unknown) => guard.failed('set', error),
      );
    },

    redisState: () => guard.state(),
  };
}
