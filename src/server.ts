import cluster from 'node:cluster';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { openDatabase, type Database } from './db/database.ts';
import { checkServerTimeouts } from './db/server-timeouts.ts';
import { ensureDevelopmentKey } from './auth/dev-keys.ts';
import { reloadKeysOnHangup } from './auth/reload.ts';
import { EPHEMERAL_KEY_NOTE, ensureCacheSigningKey } from './idempotency/signing-keys.ts';

function startupLine(message: string): void {
  process.stderr.write(`picopay: ${message}\n`);
}

interface Loaded {
  readonly config: Config;
  readonly generated: { key: string } | undefined;
  /** A cache signing key made up for this start, which workers must share. */
  readonly ephemeralSigningKey: string | undefined;
}

/** The configuration, with the development keys when due; a configuration error ends the process. */
function loadConfigOrExit(): Loaded {
  try {
    const { config, generated } = ensureDevelopmentKey(loadConfig());
    const signing = ensureCacheSigningKey(config);
    return { config: signing.config, generated, ephemeralSigningKey: signing.ephemeral };
  } catch (error) {
    if (error instanceof ConfigError) {
      startupLine(`configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

const scheme = (config: Config): string => (config.tls === undefined ? 'http' : 'https');

function printQuickstart(config: Config, key: string): void {
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const base = `${scheme(config)}://${host}:${config.port}`;
  process.stdout.write(
    [
      '',
      'PicoPay development admin key (kept in ' + `${config.dataDir}/admin-api-key; set APP_API_KEYS to use your own):`,
      `  ${key}`,
      'Create a user, then charge it:',
      `  curl -s -X POST ${base}/users -H 'Content-Type: application/json' -H 'X-API-Key: ${key}' \\`,
      `       -d '{"name":"Ada","balances":{"USD":1000}}'`,
      `  curl -s -X POST ${base}/charge -H 'Content-Type: application/json' -H 'X-API-Key: ${key}' \\`,
      `       -H "Idempotency-Key: $(node -e 'console.log(crypto.randomUUID())')" \\`,
      `       -d '{"user_id":1,"amount":50.0,"currency":"USD"}'`,
      `API docs: ${base}/docs`,
      '',
    ].join('\n') + '\n',
  );
}

/**
 * Refuses to serve with unbounded lock or statement waits on the server (possible only when a pooler dropped the
 * startup parameters and no role default replaced them); warns when the bounds differ from the configuration.
 */
async function requireBoundedWaits(config: Config, database: Database): Promise<void> {
  const check = await checkServerTimeouts(config, database.url);
  for (const line of check.differing)
    startupLine(`warning: database server ${line} (set by a role or database default?)`);
  if (check.unbounded.length > 0) {
    await database.stop();
    throw new Error(
      `database server has no ${check.unbounded.join(' and ')} (0 = unbounded waits); behind PgBouncer set them per role, ` +
        `e.g. ALTER ROLE <user> SET lock_timeout = '${config.dbLockTimeoutMs}ms' (see docs/DEPLOY.md)`,
    );
  }
}

/** What a serving process connects with: the primary's decision, passed on to workers. */
type ServerDatabase = Pick<Database, 'url' | 'sessionRole'>;

/** One process serving HTTP: a worker under WEB_CONCURRENCY, or the whole server when it is 1. */
async function serve(config: Config, database: ServerDatabase, onClosed: () => Promise<void>): Promise<string> {
  const app = await buildApp({ config, databaseUrl: database.url, sessionRole: database.sessionRole });
  reloadKeysOnHangup(app.keys, startupLine);
  const redis =
    config.redisClusterNodes !== undefined ? 'cluster' : config.redisUrl !== undefined ? 'single' : 'disabled';
  app.log.info(
    { redis, replica: config.databaseReplicaUrl === undefined ? 'disabled' : 'configured' },
    redis === 'disabled' ? 'no Redis configured: in-process idempotency cache only' : `Redis configured (${redis})`,
  );
  // SIGTERM/SIGINT: stop accepting, let in-flight requests finish, close pools, then the rest (embedded database).
  // SIGHUP is not a stop here: it reloads the API keys (reloadKeysOnHangup).
  closeWithGrace({ delay: 10_000, skip: ['SIGHUP'] }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down');
    await app.close();
    await onClosed();
  });
  return app.listen({ host: config.host, port: config.port });
}

/**
 * WEB_CONCURRENCY > 1: this primary owns the database (embedded start, migrations) and forks workers that share
 * the port (node:cluster), replacing any that dies; on SIGTERM/SIGINT it lets them drain, then stops the database.
 */
async function supervise(loaded: Loaded, database: ServerDatabase, stopDatabase: () => Promise<void>): Promise<void> {
  const { config, ephemeralSigningKey } = loaded;
  // Workers share the primary's ephemeral signing key, or one worker's cache entries would be rejected by the others.
  const workerEnv = {
    PICOPAY_WORKER_DATABASE_URL: database.url,
    PICOPAY_WORKER_SESSION_ROLE: database.sessionRole ?? '',
    ...(ephemeralSigningKey === undefined ? {} : { CACHE_SIGNING_KEY: ephemeralSigningKey }),
  };
  let stopping = false;
  const fork = (): void => {
    cluster.fork(workerEnv).on('exit', (code, signal) => {
      if (stopping) return;
      startupLine(`worker exited (${signal ?? code}); starting another`);
      fork();
    });
  };
  // Each worker holds its own key ring: pass a reload on to all of them.
  process.on('SIGHUP', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGHUP');
  });
  for (let i = 0; i < config.webConcurrency; i++) fork();
  await new Promise<void>((resolve) => {
    let listening = 0;
    cluster.on('listening', () => ++listening === config.webConcurrency && resolve());
  });
  closeWithGrace({ delay: 15_000, skip: ['SIGHUP'] }, async ({ signal }) => {
    stopping = true;
    startupLine(`${signal ?? 'stop'}: draining ${config.webConcurrency} workers`);
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) =>
            w.isDead() ? resolve() : (w.once('exit', () => resolve()), w.process.kill('SIGTERM')),
          ),
      ),
    );
    await stopDatabase();
  });
}

async function main(): Promise<void> {
  const loaded = loadConfigOrExit();
  const { config, generated } = loaded;
  const workerDatabaseUrl = process.env.PICOPAY_WORKER_DATABASE_URL;
  if (cluster.isWorker && workerDatabaseUrl !== undefined) {
    const sessionRole = process.env.PICOPAY_WORKER_SESSION_ROLE || null;
    await serve(config, { url: workerDatabaseUrl, sessionRole }, async () => {});
    return;
  }
  if (loaded.ephemeralSigningKey !== undefined) startupLine(EPHEMERAL_KEY_NOTE);
  const database = await openDatabase(config, startupLine);
  await requireBoundedWaits(config, database);
  let address: string;
  if (config.webConcurrency > 1) {
    await supervise(loaded, database, () => database.stop());
    address = `${scheme(config)}://${config.host}:${config.port} (${config.webConcurrency} workers)`;
  } else {
    address = await serve(config, database, () => database.stop());
  }
  // Printed whatever LOG_LEVEL says: supervisors and tests wait for this line.
  startupLine(`listening on ${address}`);
  if (generated !== undefined) printQuickstart(config, generated.key);
}

main().catch((error: unknown) => {
  startupLine(`failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
