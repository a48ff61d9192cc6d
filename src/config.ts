// One schema for every setting PicoPay reads from the environment, validated once at boot.
// A bad value stops start-up with one line naming the variable; nothing reads process.env elsewhere.
// Secrets (keys, URLs with passwords) may come from NAME_FILE instead of NAME: see secret() in lib/env.ts.
import { createSecureContext } from 'node:tls';
import { KeyConfigError, loadApiKeys, type ApiKeyEntry } from './auth/key-config.ts';
import { ADMIN_SCOPES } from './auth/scopes.ts';
import {
  eventsFrom,
  holdsFrom,
  overloadBoundsFrom,
  retentionFrom,
  type EventSettings,
  webhooksFrom,
  type HoldSettings,
  type OverloadBounds,
  type RetentionSettings,
  type WebhookSettings,
} from './config-limits.ts';
import { bool, ConfigError, int, read, readSettingFile, secret, secretUrl, type Env } from './lib/env.ts';

export type { ApiKeyEntry } from './auth/key-config.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface Config extends RetentionSettings, OverloadBounds, HoldSettings, EventSettings, WebhookSettings {
  readonly nodeEnv: string;
  readonly production: boolean;
  readonly host: string;
  readonly port: number;
  /** Undefined: plain HTTP (TLS terminated in front, or none). */
  readonly tls: TlsFiles | undefined;
  readonly logLevel: LogLevel;
  /** Undefined: run the embedded PostgreSQL under dataDir. */
  readonly databaseUrl: string | undefined;
  readonly dbPoolSize: number;
  readonly dbConnectTimeoutMs: number;
  readonly dbStatementTimeoutMs: number;
  /** Bounds every lock wait: a same-key request waiting for the first one, a charge waiting for a hot account. */
  readonly dbLockTimeoutMs: number;
  /**
   * False: statements go unnamed (parsed on every call) instead of prepared once per connection, for a
   * transaction-mode pooler that cannot keep a prepared statement with its client (PgBouncer < 1.21).
   */
  readonly dbPreparedStatements: boolean;
  /** Where migrations run (they hold a session advisory lock, so never through a transaction-mode pooler). */
  readonly databaseMigrationUrl: string | undefined;
  /** A streaming replica for the read-only endpoints; undefined: every read on the primary. */
  readonly databaseReplicaUrl: string | undefined;
  /**
   * The least-privileged role the grants (db/grants.sql) go to. Single-URL mode: the server's sessions SET ROLE to
   * it; with DATABASE_MIGRATION_URL, DATABASE_URL should log in as it (or as a member of it).
   */
  readonly databaseAppRole: string;
  /** Undefined: no Redis, in-process cache only. */
  readonly redisUrl: string | undefined;
  /** Seed nodes of a Redis Cluster (used instead of redisUrl); undefined: a single Redis or none. */
  readonly redisClusterNodes: readonly RedisNode[] | undefined;
  readonly redisCommandTimeoutMs: number;
  readonly cacheTtlSeconds: number;
  readonly memoryCacheEntries: number;
  readonly apiKeys: readonly ApiKeyEntry[];
  /**
   * HMAC keys for Redis cache entries: the first signs, every one verifies (rotation). Empty: none configured; the
   * server then persists one in dataDir (embedded database) or makes an ephemeral one (src/idempotency/signing-keys.ts).
   */
  readonly cacheSigningKeys: readonly string[];
  /** Failed authentications per source address per window before 429 (0: off), and the window. */
  readonly authFailureLimit: number;
  readonly authFailureWindowMs: number;
  readonly dataDir: string;
  /** Port of the embedded PostgreSQL used when DATABASE_URL is unset. */
  readonly embeddedPgPort: number;
  readonly bodyLimitBytes: number;
  /** Requests per window per API key (0: off) and the window. */
  readonly rateLimitMax: number;
  readonly rateLimitWindowMs: number;
  /** Trust X-Forwarded-For from this many proxy hops (0: none), for the client address in logs. */
  readonly trustProxyHops: number;
  /** Whole-request bound, headers to response (0: none); slow clients cannot hold sockets forever. */
  readonly requestTimeoutMs: number;
  /** Worker processes (node:cluster), like uvicorn workers. */
  readonly webConcurrency: number;
  /** Group commit for charges: on/off, most charges per transaction, longest wait, batches in flight. */
  readonly batchEnabled: boolean;
  readonly batchMaxSize: number;
  readonly batchMaxWaitMs: number;
  readonly batchMaxInFlight: number;
}

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** Direct HTTPS: the PEM certificate chain and private key, read once at start. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
}

export { ConfigError };

/**
 * Single-URL mode (DATABASE_URL alone, or embedded): migrations and server share a login, and the server's sessions
 * switch to DATABASE_APP_ROLE. Two-URL mode (DATABASE_MIGRATION_URL too): DATABASE_URL's login is used as it is.
 */
export const singleUrl = (config: Config): boolean =>
  config.databaseUrl === undefined || config.databaseMigrationUrl === undefined;

/** The session role implied by the configuration alone (openDatabase may find it unusable and decide null). */
export const configuredSessionRole = (config: Config): string | null =>
  singleUrl(config) ? config.databaseAppRole : null;

const POSTGRES = ['postgres:', 'postgresql:'];

/**
 * A PostgreSQL URL from NAME or NAME_FILE. node-postgres reads the files its sslrootcert/sslcert/sslkey parameters
 * name on every new connection; one it cannot read stops start-up here, named, instead of failing each connection.
 */
function postgresUrl(env: Env, name: string): string | undefined {
  const value = secretUrl(env, name, POSTGRES);
  if (value === undefined) return undefined;
  const params = new URL(value).searchParams;
  for (const param of ['sslrootcert', 'sslcert', 'sslkey']) {
    const file = params.get(param);
    if (file !== null) readSettingFile(`${name} ${param}`, file);
  }
  return value;
}

/** Both files or neither; they must hold a certificate chain and its private key (checked now, not at listen). */
// A plain lower-case identifier: it goes into GRANT statements and the `role` startup parameter unquoted-safe.
function roleName(name: string, value: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value))
    throw new ConfigError(
      `${name} must be a lower-case SQL identifier (letters, digits, _), got ${JSON.stringify(value)}`,
    );
  return value;
}

function tlsFrom(env: Env): TlsFiles | undefined {
  const certFile = read(env, 'TLS_CERT_FILE');
  const keyFile = read(env, 'TLS_KEY_FILE');
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new ConfigError('TLS_CERT_FILE and TLS_KEY_FILE must be set together (neither: plain HTTP)');
  }
  const files = { cert: readSettingFile('TLS_CERT_FILE', certFile), key: readSettingFile('TLS_KEY_FILE', keyFile) };
  try {
    createSecureContext(files);
  } catch (error) {
    // OpenSSL's reason ("no start line", "key values mismatch") names the problem, never the key material.
    const reason = error instanceof Error ? error.message.slice(0, 120) : 'invalid';
    throw new ConfigError(`TLS_CERT_FILE/TLS_KEY_FILE must be a PEM certificate and its private key (${reason})`);
  }
  return files;
}

function redisUrlFrom(env: Env): string | undefined {
  const fromUrl = secretUrl(env, 'REDIS_URL', ['redis:', 'rediss:']);
  if (fromUrl !== undefined) return fromUrl;
  const host = read(env, 'REDIS_HOST');
  if (host === undefined) return undefined;
  if (!/^[A-Za-z0-9_.:[\]-]{1,255}$/.test(host)) throw new ConfigError('REDIS_HOST must be a host name or address');
  return `redis://${host}:${int(env, 'REDIS_PORT', 6379, 1, 65535)}`;
}

const REDIS_HOST_NAME = /^[A-Za-z0-9_.-]{1,255}$|^\[[0-9A-Fa-f:.]{2,45}\]$/;

/** "host:port,host:port" (an IPv6 host in brackets) → seed nodes; the client learns the rest from the cluster. */
function redisClusterNodesFrom(env: Env, redisUrl: string | undefined): RedisNode[] | undefined {
  const raw = read(env, 'REDIS_CLUSTER_NODES');
  if (raw === undefined) return undefined;
  if (redisUrl !== undefined) {
    throw new ConfigError(
      'REDIS_CLUSTER_NODES cannot be combined with REDIS_URL(_FILE) or REDIS_HOST; set one of them',
    );
  }
  return raw.split(',').map((item, index) => {
    const m = /^(.+):(\d{1,5})$/.exec(item.trim());
    const port = Number(m?.[2]);
    if (m === null || !REDIS_HOST_NAME.test(m[1]!) || port < 1 || port > 65535) {
      throw new ConfigError(`REDIS_CLUSTER_NODES entry ${index + 1} must be host:port`);
    }
    return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
  });
}

/**
 * The key ring's entries from APP_API_KEY, APP_API_KEYS, APP_ADMIN_API_KEYS and APP_KEYS_FILE. Also what SIGHUP
 * re-reads (the file may have changed; the variables cannot).
 */
export function apiKeysFrom(env: Env = process.env): ApiKeyEntry[] {
  try {
    return loadApiKeys({
      apiKey: secret(env, 'APP_API_KEY'),
      apiKeys: secret(env, 'APP_API_KEYS'),
      adminApiKeys: secret(env, 'APP_ADMIN_API_KEYS'),
      keysFile: read(env, 'APP_KEYS_FILE'),
    });
  } catch (error) {
    if (error instanceof KeyConfigError) throw new ConfigError(error.message);
    throw error;
  }
}

const MIN_SIGNING_KEY_LENGTH = 32;

/**
 * CACHE_SIGNING_KEY(_FILE): comma-separated, the first signs and all verify. Required with NODE_ENV=production on a
 * real database, like the API keys: instances that do not share it cannot use each other's cache entries.
 */
function cacheSigningKeysFrom(env: Env, production: boolean, databaseUrl: string | undefined): string[] {
  const raw = secret(env, 'CACHE_SIGNING_KEY');
  if (raw === undefined) {
    if (production && databaseUrl !== undefined) {
      throw new ConfigError('CACHE_SIGNING_KEY (or CACHE_SIGNING_KEY_FILE) must be set when NODE_ENV=production');
    }
    return [];
  }
  const keys = raw.split(',').map((k) => k.trim());
  keys.forEach((key, index) => {
    // The message names the position, never the value.
    if (key.length < MIN_SIGNING_KEY_LENGTH) {
      throw new ConfigError(
        `CACHE_SIGNING_KEY entry ${index + 1} must be at least ${MIN_SIGNING_KEY_LENGTH} characters (e.g. openssl rand -hex 32)`,
      );
    }
  });
  return keys;
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = read(env, 'NODE_ENV') ?? 'development';
  const production = nodeEnv === 'production';
  const logLevel = (read(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const apiKeys = apiKeysFrom(env);
  if (production && !apiKeys.some((k) => k.scopes !== ADMIN_SCOPES)) {
    throw new ConfigError(
      'APP_API_KEYS or APP_API_KEY (or its _FILE), or a non-admin entry of APP_KEYS_FILE, must be set when NODE_ENV=production',
    );
  }
  const redisUrl = redisUrlFrom(env);
  const databaseUrl = postgresUrl(env, 'DATABASE_URL');
  const config: Config = {
    nodeEnv,
    production,
    host: read(env, 'HOST') ?? '0.0.0.0',
    port: int(env, 'PORT', 8000, 0, 65535),
    tls: tlsFrom(env),
    logLevel: logLevel as LogLevel,
    databaseUrl,
    dbPoolSize: int(env, 'DB_POOL_SIZE', 10, 1, 1000),
    dbConnectTimeoutMs: int(env, 'DB_CONNECT_TIMEOUT_MS', 2000, 50, 60_000),
    dbStatementTimeoutMs: int(env, 'DB_STATEMENT_TIMEOUT_MS', 10_000, 100, 600_000),
    dbLockTimeoutMs: int(env, 'DB_LOCK_TIMEOUT_MS', 5000, 10, 600_000),
    dbPreparedStatements: bool(env, 'DB_PREPARED_STATEMENTS', true),
    databaseMigrationUrl: postgresUrl(env, 'DATABASE_MIGRATION_URL'),
    databaseReplicaUrl: postgresUrl(env, 'DATABASE_REPLICA_URL'),
    databaseAppRole: roleName('DATABASE_APP_ROLE', read(env, 'DATABASE_APP_ROLE') ?? 'picopay_app'),
    redisUrl,
    redisClusterNodes: redisClusterNodesFrom(env, redisUrl),
    redisCommandTimeoutMs: int(env, 'REDIS_COMMAND_TIMEOUT_MS', 100, 5, 10_000),
    cacheTtlSeconds: int(env, 'CACHE_TTL', 86_400, 1, 31_536_000),
    memoryCacheEntries: int(env, 'MEMORY_CACHE_ENTRIES', 10_000, 0, 10_000_000),
    apiKeys,
    cacheSigningKeys: cacheSigningKeysFrom(env, production, databaseUrl),
    authFailureLimit: int(env, 'AUTH_FAILURE_LIMIT', 100, 0, 10_000_000),
    authFailureWindowMs: int(env, 'AUTH_FAILURE_WINDOW_MS', 60_000, 1000, 86_400_000),
    dataDir: read(env, 'PICOPAY_DATA_DIR') ?? '.data',
    embeddedPgPort: int(env, 'EMBEDDED_PG_PORT', 54329, 1, 65535),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 16_384, 1024, 10_485_760),
    rateLimitMax: int(env, 'RATE_LIMIT_MAX', 1000, 0, 10_000_000),
    rateLimitWindowMs: int(env, 'RATE_LIMIT_WINDOW_MS', 1000, 100, 3_600_000),
    trustProxyHops: int(env, 'TRUST_PROXY_HOPS', 0, 0, 10),
    requestTimeoutMs: int(env, 'REQUEST_TIMEOUT_MS', 30_000, 0, 600_000),
    webConcurrency: int(env, 'WEB_CONCURRENCY', 1, 1, 64),
    batchEnabled: bool(env, 'BATCH_ENABLED', true),
    // At most 60: each item costs a subtransaction, and PostgreSQL caches 64 per backend before slowing down.
    batchMaxSize: int(env, 'BATCH_MAX_SIZE', 50, 1, 60),
    batchMaxWaitMs: int(env, 'BATCH_MAX_WAIT_MS', 2, 0, 100),
    batchMaxInFlight: int(env, 'BATCH_MAX_IN_FLIGHT', 4, 1, 100),
    ...retentionFrom(env),
    ...overloadBoundsFrom(env),
    ...holdsFrom(env),
    ...eventsFrom(env),
    ...webhooksFrom(env),
  };
  return Object.freeze(config);
}
