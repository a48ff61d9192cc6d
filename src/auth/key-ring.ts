import { keyDigest, type ApiKeyEntry } from './key-config.ts';
import type { Scope } from './scopes.ts';

/** Who is calling: the client name scopes idempotency keys and owns charges; the scopes say what the key may do. */
export interface Caller {
  readonly client: string;
  readonly scopes: ReadonlySet<Scope>;
  /** Safe to log. */
  readonly maskedKey: string;
}

export const hasScope = (caller: Caller, scope: Scope): boolean => caller.scopes.has(scope);

export interface KeyRing {
  /** The caller owning this key, or undefined. Looked up by digest (see createKeyRing). */
  authenticate(presented: string | undefined): Caller | undefined;
  readonly size: number;
}

/**
 * Keys are looked up by their SHA-256 digest. Whatever timing a lookup shows depends on the digest of what was
 * presented, and a digest says nothing usable about the key that would match (preimage resistance): the usual
 * hash-then-lookup defence, one map probe instead of a comparison against every key. Duplicates were refused when the
 * entries were loaded (loadApiKeys).
 */
export function createKeyRing(entries: readonly ApiKeyEntry[]): KeyRing {
  const byDigest = new Map<string, Caller>();
  for (const e of entries) {
    byDigest.set(e.digest, Object.freeze({ client: e.client, scopes: new Set(e.scopes), maskedKey: e.maskedKey }));
  }
  return {
    size: byDigest.size,
    authenticate(presented) {
      if (presented === undefined || presented.length === 0 || presented.length > 256) return undefined;
      return byDigest.get(keyDigest(presented));
    },
  };
}

/** The key ring in use, replaceable at run time (SIGHUP): a request sees the old ring or the new, never a mix. */
export interface KeyStore extends KeyRing {
  replace(entries: readonly ApiKeyEntry[]): void;
}

export function createKeyStore(entries: readonly ApiKeyEntry[]): KeyStore {
  let ring = createKeyRing(entries);
  return {
    authenticate: (presented) => ring.authenticate(presented),
    get size() {
      return ring.size;
    },
    replace(next) {
      ring = createKeyRing(next);
    },
  };
}
