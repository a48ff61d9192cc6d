import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from '../config.ts';
import { keyDigest, maskKey, type ApiKeyEntry } from './key-config.ts';
import { ADMIN_SCOPES } from './scopes.ts';

/** A new random API key: 32 bytes of entropy, URL-safe. */
export function generateApiKey(prefix = 'pk'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/**
 * A server with no key configured: on the embedded database (no DATABASE_URL: a laptop, `npm start`) it gets an
 * admin key of client `default`, generated once and kept in `<dataDir>/admin-api-key` (mode 600) so restarts keep
 * the same key. With DATABASE_URL it refuses to start, whatever NODE_ENV says: a server on a real database is a
 * deployment, and a deployment whose key secret was not passed must not invent an admin key and print it.
 */
export function ensureDevelopmentKey(config: Config): { config: Config; generated: { key: string } | undefined } {
  if (config.apiKeys.length > 0) return { config, generated: undefined };
  if (config.databaseUrl !== undefined) {
    throw new ConfigError(
      'no API key: set APP_API_KEYS and/or APP_ADMIN_API_KEYS (or their _FILE variants), or APP_KEYS_FILE; ' +
        'a development key is generated only for the embedded database (DATABASE_URL unset)',
    );
  }
  const file = path.resolve(config.dataDir, 'admin-api-key');
  let key: string;
  if (existsSync(file)) {
    key = readFileSync(file, 'utf8').trim();
  } else {
    mkdirSync(path.dirname(file), { recursive: true });
    key = generateApiKey('sk_dev');
    writeFileSync(file, `${key}\n`, { mode: 0o600 });
  }
  const entry: ApiKeyEntry = {
    client: 'default',
    digest: keyDigest(key),
    maskedKey: maskKey(key),
    scopes: ADMIN_SCOPES,
    source: 'the development admin key',
  };
  return { config: Object.freeze({ ...config, apiKeys: [entry] }), generated: { key } };
}
