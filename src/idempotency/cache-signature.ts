import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 envelopes for what PicoPay stores in Redis and later believes. Whoever can write to Redis (a shared
 * instance, a leaked password, a restored snapshot) must not be able to make PicoPay replay a response it never
 * gave. The MAC covers the Redis key name and the whole value, so a genuine entry moved to another key fails too.
 *
 * Stored form: `v1.<64 hex MAC>.<payload>`. Keys: the first signs, every one verifies (rotation: add the new key
 * second, roll out, move it first, roll out, drop the old one once entries signed with it have expired).
 */
export type RejectReason = 'bad_signature' | 'malformed';

export type Verified =
  { readonly ok: true; readonly payload: string } | { readonly ok: false; readonly reason: RejectReason };

export interface CacheSigner {
  sign(redisKey: string, payload: string): string;
  verify(redisKey: string, stored: string): Verified;
}

const ENVELOPE = /^v1\.([0-9a-f]{64})\./;

function mac(key: string, redisKey: string, payload: string): Buffer {
  // The key name is length-prefixed so no (name, payload) pair can be re-split into another with the same MAC input.
  return createHmac('sha256', key)
    .update(`${Buffer.byteLength(redisKey)}:${redisKey}`)
    .update(payload)
    .digest();
}

export function createCacheSigner(keys: readonly string[]): CacheSigner {
  if (keys.length === 0) throw new Error('createCacheSigner needs at least one key');
  const [signing] = keys as [string, ...string[]];
  return {
    sign: (redisKey, payload) => `v1.${mac(signing, redisKey, payload).toString('hex')}.${payload}`,
    verify(redisKey, stored) {
      const m = ENVELOPE.exec(stored);
      if (m === null) return { ok: false, reason: 'malformed' };
      const given = Buffer.from(m[1]!, 'hex');
      const payload = stored.slice(m[0].length);
      for (const key of keys) {
        if (timingSafeEqual(given, mac(key, redisKey, payload))) return { ok: true, payload };
      }
      return { ok: false, reason: 'bad_signature' };
    },
  };
}
