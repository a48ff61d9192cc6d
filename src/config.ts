// One schema for every setting PicoPay reads from the environment, validated once at boot.
// A bad value stops start-up with one line naming the variable; nothing reads process.env elsewhere.
import { KeyConfigError, loadApiKeys, type ApiKeyEntry } from './auth/key-config.ts';

export type { ApiKeyEntry } from './auth/key-config.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface Config {
  readonly nodeEnv: string;
  readonly production: boolean;
  readonly host: string;
  readonly port: number;
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
  /** Undefined: no Redis, in-process cache only. */
  readonly redisUrl: string | undefined;
  /** Seed nodes of a Redis Cluster (used instead of redisUrl); undefined: a single Redis or none. */
  readonly redisClusterNodes: readonly RedisNode[] | undefined;
  readonly redisCommandTimeoutMs: number;
  readonly cacheTtlSeconds: number;
  readonly memoryCacheEntries: number;
  readonly apiKeys: readonly ApiKeyEntry[];
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

export class ConfigError extends Error {}

type Env = Readonly<Record<string, string | undefined>>;

function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got "${raw.slice(0, 40)}")`);
  }
  return Number(raw);
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false (got "${raw.slice(0, 40)}")`);
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL (${protocols.join(' or ')})`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')} (got ${parsed.protocol})`);
  }
  return raw;
}

function redisUrlFrom(env: Env): string | undefined {
  const fromUrl = url(env, 'REDIS_URL', ['redis:', 'rediss:']);
  if (fromUrl !== undefined) return fromUrl;
  const host = read(env, 'REDIS_HOST');
  if (host === undefined) return undefined;
  if (!/^[A-Za-z0-9_.:[\]-]{1,255}$/.test(host)) throw new ConfigError('REDIS_HOST must be a host name or address');
  return `redis://${host}:${int(env, 'REDIS_PORT', 6379, 1, 65535)}`;
}

const REDIS_HOST_NAME = /^[A-Za-z0-9_.-]{1,255}$|^\[[0-9A-Fa-f:.]{2,45}\]$/;

/** "host:port,host:port" (an IPv6 host in brackets) → seed nodes; the client learns the rest from the cluster. */
function redisClusterNodesFrom(env: Env): RedisNode[] | undefined {
  const raw = read(env, 'REDIS_CLUSTER_NODES');
  if (raw === undefined) return undefined;
  if (read(env, 'REDIS_URL') !== undefined || read(env, 'REDIS_HOST') !== undefined) {
    throw new ConfigError('REDIS_CLUSTER_NODES cannot be combined with REDIS_URL or REDIS_HOST; set one of them');
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
      apiKey: read(env, 'APP_API_KEY'),
      apiKeys: read(env, 'APP_API_KEYS'),
      adminApiKeys: read(env, 'APP_ADMIN_API_KEYS'),
      keysFile: read(env, 'APP_KEYS_FILE'),
    });
  } catch (error) {
    if (error instanceof KeyConfigError) throw new ConfigError(error.message);
    throw error;
  }
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = read(env, 'NODE_ENV') ?? 'development';
  const production = nodeEnv === 'production';
  const logLevel = (read(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const apiKeys = apiKeysFrom(env);
  if (production && apiKeys.length === 0) {
    throw new ConfigError('APP_API_KEY, APP_API_KEYS or APP_KEYS_FILE must be set when NODE_ENV=production');
  }
  const config: Config = {
    nodeEnv,
    production,
    host: read(env, 'HOST') ?? '0.0.0.0',
    port: int(env, 'PORT', 8000, 0, 65535),
    logLevel: logLevel as LogLevel,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    dbPoolSize: int(env, 'DB_POOL_SIZE', 10, 1, 1000),
    dbConnectTimeoutMs: int(env, 'DB_CONNECT_TIMEOUT_MS', 2000, 50, 60_000),
    dbStatementTimeoutMs: int(env, 'DB_STATEMENT_TIMEOUT_MS', 10_000, 100, 600_000),
    dbLockTimeoutMs: int(env, 'DB_LOCK_TIMEOUT_MS', 5000, 10, 600_000),
    dbPreparedStatements: bool(env, 'DB_PREPARED_STATEMENTS', true),
    databaseMigrationUrl: url(env, 'DATABASE_MIGRATION_URL', ['postgres:', 'postgresql:']),
    databaseReplicaUrl: url(env, 'DATABASE_REPLICA_URL', ['postgres:', 'postgresql:']),
    redisUrl: redisUrlFrom(env),
    redisClusterNodes: redisClusterNodesFrom(env),
    redisCommandTimeoutMs: int(env, 'REDIS_COMMAND_TIMEOUT_MS', 100, 5, 10_000),
    cacheTtlSeconds: int(env, 'CACHE_TTL', 86_400, 1, 31_536_000),
    memoryCacheEntries: int(env, 'MEMORY_CACHE_ENTRIES', 10_000, 0, 10_000_000),
    apiKeys,
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
  };
  return Object.freeze(config);
}
