import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';

/** A new signing key: 32 random bytes, hex. */
export function generateSigningKey(): string {
  return randomBytes(32).toString('hex');
}

/** What the server says when it signs with a key it made up; never the key itself. */
export const EPHEMERAL_KEY_NOTE =
  'CACHE_SIGNING_KEY not set: signing Redis cache entries with a random key for this process ' +
  '(entries written by other instances or before a restart are rejected and served from PostgreSQL; ' +
  'set the same CACHE_SIGNING_KEY on every instance)';

/**
 * The configuration with a cache signing key when none was set (NODE_ENV=production on a real database already
 * refused to start in loadConfig). On the embedded database it is generated once and kept next to the development
 * admin key, `<dataDir>/cache-signing-key` (mode 600), so restarts keep their cache; with DATABASE_URL it is random
 * for this start only (`ephemeral`: the caller logs EPHEMERAL_KEY_NOTE and passes it to its workers).
 */
export function ensureCacheSigningKey(config: Config): { config: Config; ephemeral: string | undefined } {
  if (config.cacheSigningKeys.length > 0) return { config, ephemeral: undefined };
  let key: string;
  let ephemeral: string | undefined;
  if (config.databaseUrl === undefined) {
    const file = path.resolve(config.dataDir, 'cache-signing-key');
    if (existsSync(file)) {
      key = readFileSync(file, 'utf8').trim();
    } else {
      mkdirSync(path.dirname(file), { recursive: true });
      key = generateSigningKey();
      writeFileSync(file, `${key}\n`, { mode: 0o600 });
    }
  } else {
    key = ephemeral = generateSigningKey();
  }
  return { config: Object.freeze({ ...config, cacheSigningKeys: [key] }), ephemeral };
}
