import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ADMIN_SCOPES, CLIENT_SCOPES, isScope, type Scope } from './scopes.ts';

/** One configured API key: only its digest is kept, with the client it belongs to and what it may do. */
export interface ApiKeyEntry {
  readonly client: string;
  /** SHA-256 of the key, lower-case hex: what requests are matched against. */
  readonly digest: string;
  /** Safe to log: first and last 4 characters of the key, or of its digest when only that was configured. */
  readonly maskedKey: string;
  readonly scopes: readonly Scope[];
  /** Where it was configured, for error messages (never the key): `APP_KEYS_FILE entry 2 (client support)`. */
  readonly source: string;
}

/** A configuration mistake: its message names the variable or entry, never a key. */
export class KeyConfigError extends Error {}

const CLIENT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const API_KEY = /^[\x21-\x7e]{16,256}$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

export const keyDigest = (key: string): string => hash('sha256', key, 'hex');

export function maskKey(key: string): string {
  return key.length <= 12 ? '****' : `${key.slice(0, 4)}…${key.slice(-4)}`;
}

function entry(client: string, key: string, scopes: readonly Scope[], source: string): ApiKeyEntry {
  return { client, digest: keyDigest(key), maskedKey: maskKey(key), scopes, source };
}

/** "client:key,key2" → entries; a bare key belongs to client "default". */
export function parseKeyList(name: string, raw: string | undefined, scopes: readonly Scope[]): ApiKeyEntry[] {
  if (raw === undefined) return [];
  return raw.split(',').map((item, index) => {
    const trimmed = item.trim();
    const colon = trimmed.indexOf(':');
    const client = colon > 0 ? trimmed.slice(0, colon) : 'default';
    const key = colon > 0 ? trimmed.slice(colon + 1) : trimmed;
    const source = `${name} entry ${index + 1}`;
    if (!CLIENT_NAME.test(client)) throw new KeyConfigError(`${source}: client name must be 1-64 of A-Z a-z 0-9 _ . -`);
    if (!API_KEY.test(key)) throw new KeyConfigError(`${source}: key must be 16-256 printable ASCII characters`);
    return entry(client, key, scopes, source);
  });
}

const FILE_FIELDS = new Set(['client', 'key', 'key_sha256', 'scopes']);

function fileEntry(value: unknown, index: number): ApiKeyEntry {
  let source = `APP_KEYS_FILE entry ${index + 1}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new KeyConfigError(`${source}: not an object`);
  const e = value as Record<string, unknown>;
  if (typeof e.client !== 'string' || !CLIENT_NAME.test(e.client)) {
    throw new KeyConfigError(`${source}: "client" must be 1-64 of A-Z a-z 0-9 _ . -`);
  }
  source += ` (client ${e.client})`;
  const unknown = Object.keys(e).filter((field) => !FILE_FIELDS.has(field));
  if (unknown.length > 0) throw new KeyConfigError(`${source}: unknown field(s) ${unknown.join(', ')}`);
  if ((e.key === undefined) === (e.key_sha256 === undefined)) {
    throw new KeyConfigError(`${source}: give exactly one of "key" and "key_sha256"`);
  }
  if (!Array.isArray(e.scopes) || e.scopes.length === 0)
    throw new KeyConfigError(`${source}: "scopes" must be a non-empty list`);
  const bad = e.scopes.filter((s) => s !== 'admin' && !isScope(s));
  if (bad.length > 0)
    throw new KeyConfigError(`${source}: unknown scope(s) ${bad.map((s) => JSON.stringify(s)).join(', ')}`);
  const scopes: readonly Scope[] = e.scopes.includes('admin') ? ADMIN_SCOPES : [...new Set(e.scopes as Scope[])];
  if (e.key !== undefined) {
    if (typeof e.key !== 'string' || !API_KEY.test(e.key))
      throw new KeyConfigError(`${source}: "key" must be 16-256 printable ASCII characters`);
    return entry(e.client, e.key, scopes, source);
  }
  if (typeof e.key_sha256 !== 'string' || !SHA256_HEX.test(e.key_sha256)) {
    throw new KeyConfigError(`${source}: "key_sha256" must be 64 hex digits (the SHA-256 of the key)`);
  }
  const digest = e.key_sha256.toLowerCase();
  return { client: e.client, digest, maskedKey: `sha256:${digest.slice(0, 8)}`, scopes, source };
}

/** The key file: `{"keys": [{"client", "key" | "key_sha256", "scopes"}]}`. Malformed → KeyConfigError naming the entry. */
export function parseKeyFile(path: string): ApiKeyEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new KeyConfigError(
      `APP_KEYS_FILE ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new KeyConfigError(`APP_KEYS_FILE ${path} is not valid JSON`);
  }
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (typeof document !== 'object' || !Array.isArray(keys))
    throw new KeyConfigError(`APP_KEYS_FILE ${path}: expected {"keys": [...]}`);
  return keys.map(fileEntry);
}

/** Where keys come from; each value undefined when unset. */
export interface KeySources {
  readonly apiKey?: string;
  readonly apiKeys?: string;
  readonly adminApiKeys?: string;
  readonly keysFile?: string;
}

/** The key ring's entries: the union of every source. One key listed twice is a configuration error. */
export function loadApiKeys(sources: KeySources): ApiKeyEntry[] {
  const entries = [
    ...parseKeyList('APP_API_KEY', sources.apiKey, CLIENT_SCOPES),
    ...parseKeyList('APP_API_KEYS', sources.apiKeys, CLIENT_SCOPES),
    ...parseKeyList('APP_ADMIN_API_KEYS', sources.adminApiKeys, ADMIN_SCOPES),
    ...(sources.keysFile === undefined ? [] : parseKeyFile(sources.keysFile)),
  ];
  const seen = new Map<string, string>();
  for (const e of entries) {
    const first = seen.get(e.digest);
    if (first !== undefined) throw new KeyConfigError(`the same key is configured twice: ${first} and ${e.source}`);
    seen.set(e.digest, e.source);
  }
  return entries;
}
