import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyEntry } from '../config.ts';

/** Who is calling: the client (caller) name scopes idempotency keys; admin keys may call every route. */
export interface Caller {
  readonly client: string;
  readonly admin: boolean;
  /** Safe to log: first 4 and last 4 characters. */
  readonly maskedKey: string;
}

interface StoredKey {
  readonly digest: Buffer;
  readonly caller: Caller;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export function maskKey(key: string): string {
  return key.length <= 12 ? '****' : `${key.slice(0, 4)}…${key.slice(-4)}`;
}

export interface KeyRing {
  /** The caller owning this key, or undefined. Constant time in the key's content. */
  authenticate(presented: string | undefined): Caller | undefined;
  readonly size: number;
}

/**
 * Keys are compared as SHA-256 digests (equal length, so timingSafeEqual applies) against every stored key,
 * without early exit, so neither the content nor the position of a match leaks through timing.
 */
export function createKeyRing(entries: readonly ApiKeyEntry[]): KeyRing {
  const stored: StoredKey[] = entries.map((e) => ({
    digest: digest(e.key),
    caller: Object.freeze({ client: e.client, admin: e.admin, maskedKey: maskKey(e.key) }),
  }));
  return {
    size: stored.length,
    authenticate(presented) {
      if (presented === undefined || presented.length === 0 || presented.length > 256) return undefined;
      const candidate = digest(presented);
      let found: Caller | undefined;
      for (const key of stored) {
        // Admin wins when the same key is listed twice, so a rotated-in admin key keeps its rights.
        if (timingSafeEqual(candidate, key.digest) && (found === undefined || key.caller.admin)) found = key.caller;
      }
      return found;
    },
  };
}
