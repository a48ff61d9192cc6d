import type { RedisGuard } from '../plugins/external/redis-guard.ts';
import type { CacheSigner, RejectReason } from './cache-signature.ts';
import { LruCache } from './lru.ts';
import { DEFAULT_RETENTION, lifetimeMs, type Retention } from './retention.ts';

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
  /**
   * After commit only, for a response this process just decided: it lives min(CACHE_TTL, the record's retention)
   * from now, so no copy outlives the record. Never throws, never waits for Redis.
   */
  set(client: string, key: string, response: StoredResponse): void;
  readonly redisState: () => 'up' | 'down' | 'disabled';
}

export interface ResponseCacheDeps {
  readonly redis: RedisGuard;
  readonly signer: CacheSigner;
  readonly ttlSeconds: number;
  readonly memoryEntries: number;
  readonly events: CacheEvents;
  /** The records' retention (src/idempotency/retention.ts); DEFAULT_RETENTION when not given. */
  readonly retention?: Retention;
  readonly now?: () => number;
}

interface Decoded {
  readonly response: StoredResponse;
  readonly expiresAt: number;
}

/**
 * A Redis entry names the (client, key) it was written for: an entry copied or left under another key (a stale
 * restore, a bug, a swap) must not replay there, even when the two requests were identical and so share a fingerprint.
 */
function encode(client: string, key: string, response: StoredResponse, expiresAt: number): string {
  return JSON.stringify({ client, key, ...response, expiresAt });
}

/** An entry and the time (epoch ms) its record expires: a copy in the in-process cache must not live longer. */
function decode(raw: string, client: string, key: string): Decoded | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null) return undefined;
    const entry = value as Record<string, unknown>;
    if (entry.client !== client || entry.key !== key) return undefined;
    const { fingerprint, status, code, body, expiresAt } = entry;
    if (typeof expiresAt !== 'number') return undefined;
    if (typeof fingerprint !== 'string' || !/^[0-9a-f]{64}$/.test(fingerprint)) return undefined;
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 499) return undefined;
    if (code !== null && typeof code !== 'string') return undefined;
    if (typeof body !== 'string') return undefined;
    JSON.parse(body); // a garbled body is a miss, never a reply
    return { response: { fingerprint, status, code, body }, expiresAt };
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
): Decoded | undefined {
  const verified = deps.signer.verify(name, raw);
  // A genuine entry always decodes: one that verifies but does not is counted as malformed too.
  const stored = verified.ok ? decode(verified.payload, client, key) : undefined;
  if (stored === undefined) {
    deps.events.rejected(verified.ok ? 'malformed' : verified.reason);
    deps.events.lookup('redis', 'rejected');
  }
  return stored;
}

/** The verified entry under this Redis key, or undefined (a miss, an error, or a rejected entry, each counted). */
async function redisEntry(
  deps: ResponseCacheDeps,
  name: string,
  client: string,
  key: string,
): Promise<Decoded | undefined> {
  let raw: string | null;
  try {
    raw = await deps.redis.redis!.get(name);
    deps.redis.succeeded();
  } catch (error) {
    deps.redis.failed('get', error);
    deps.events.lookup('redis', 'error');
    return undefined;
  }
  if (raw === null) {
    deps.events.lookup('redis', 'miss');
    return undefined;
  }
  return verifiedEntry(deps, name, raw, client, key);
}

/**
 * Two layers in front of PostgreSQL: an in-process LRU, then Redis under `idempotency:{client}:{key}`. Redis is
 * an accelerator only: the guard skips it after failures; an entry without a valid signature for its key name
 * (cache-signature.ts) is rejected, and one not written for this client, key and request fingerprint is a miss.
 */
export function createResponseCache(deps: ResponseCacheDeps): ResponseCache {
  const now = deps.now ?? Date.now;
  const retention = deps.retention ?? DEFAULT_RETENTION;
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
      const decoded = await redisEntry(deps, redisKey(client, key), client, key);
      if (decoded === undefined) return undefined;
      // Past its record's expiry (Redis keeps it a little longer than PX promised, or clocks differ): a miss.
      if (decoded.expiresAt <= now()) {
        deps.events.lookup('redis', 'miss');
        return undefined;
      }
      if (decoded.response.fingerprint !== fingerprint) {
        deps.events.lookup('redis', 'mismatch');
        return undefined;
      }
      deps.events.lookup('redis', 'hit');
      memory.set(memoryKey(client, key), decoded.response, decoded.expiresAt - now());
      return decoded.response;
    },

    set(client, key, response) {
      const ttlMs = Math.min(deps.ttlSeconds * 1000, lifetimeMs(retention, response.code));
      memory.set(memoryKey(client, key), response, ttlMs);
      if (redis === undefined || !guard.usable()) return;
      const name = redisKey(client, key);
      const entry = deps.signer.sign(name, encode(client, key, response, now() + ttlMs));
      redis.set(name, entry, 'PX', ttlMs).then(
        () => guard.succeeded(),
        (error: unknown) => guard.failed('set', error),
      );
    },

    redisState: () => guard.state(),
  };
}
