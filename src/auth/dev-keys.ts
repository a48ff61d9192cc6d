import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import { keyDigest, maskKey, type ApiKeyEntry } from './key-config.ts';
import { ADMIN_SCOPES } from './scopes.ts';

/** A new random API key: 32 bytes of entropy, URL-safe. */
export function generateApiKey(prefix = 'pk'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/**
 * Outside production, a PicoPay started with no key configured gets an admin key of client `default`, generated
 * once and kept in `<dataDir>/admin-api-key` (mode 600) so restarts keep working with the same key.
 */
export function ensureDevelopmentKey(config: Config): { config: Config; generated: { key: string } | undefined } {
  if (config.apiKeys.length > 0 || config.production) return { config, generated: undefined };
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
