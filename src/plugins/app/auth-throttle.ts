import type { RedisGuard } from '../external/redis-guard.ts';
import { INCR_SCRIPT, LocalCounters } from './rate-limit.ts';

export interface AuthThrottleSettings {
  /** Failed authentications per address per window before 429; 0 turns the throttle off. */
  readonly limit: number;
  readonly windowMs: number;
}

export interface AuthThrottle {
  /** Milliseconds this address stays blocked (0: not blocked). Answered locally, no Redis call on the happy path. */
  blockedFor(address: string): number;
  /** Counts a failed authentication; resolves to the milliseconds the address is now blocked for (0: under limit). */
  failed(address: string): Promise<number>;
}

// Bounded like the rate limiter's local counters: an address spray cannot grow memory without limit.
const MAX_BLOCKED = 100_000;

/**
 * Failed authentications per source address, counted in Redis when usable (shared by every instance, like the
 * per-key rate limit) and in this process otherwise. Once an address is over the limit, this instance answers 429
 * to every request from it to an authenticated route, before checking the key, until the window passes; another
 * instance learns it at the next failure it sees from that address (its counter is shared).
 */
export function createAuthThrottle(settings: AuthThrottleSettings, guard: RedisGuard): AuthThrottle | undefined {
  if (settings.limit === 0) return undefined;
  const local = new LocalCounters();
  const blocked = new Map<string, number>();

  const count = async (address: string): Promise<{ current: number; ttl: number }> => {
    const redis = guard.redis;
    if (redis === undefined || !guard.usable()) return local.incr(address, settings.windowMs);
    try {
      const result = await redis.eval(INCR_SCRIPT, 1, `authfail:${address}`, settings.windowMs);
      guard.succeeded();
      const [current, ttl] = result as [number, number];
      return { current, ttl };
    } catch (error) {
      guard.failed('authfail', error);
      return local.incr(address, settings.windowMs);
    }
  };

  return {
    blockedFor(address) {
      const until = blocked.get(address);
      if (until === undefined) return 0;
      const left = until - Date.now();
      if (left > 0) return left;
      blocked.delete(address);
      return 0;
    },
    async failed(address) {
      const { current, ttl } = await count(address);
      if (current <= settings.limit) return 0;
      const left = Math.max(ttl, 1);
      if (blocked.size >= MAX_BLOCKED) blocked.clear();
      blocked.set(address, Date.now() + left);
      return left;
    },
  };
}
