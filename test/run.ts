// `npm test`: provides what the tests need, then runs them with node:test.
// - PostgreSQL: DATABASE_URL's server when set, else an embedded PostgreSQL in .test-data/ on a free port.
//   Either way the run gets a fresh database (dropped afterwards), migrated once.
// - Redis: REDIS_URL when set, else a redis-server from PATH on a free port; without one the Redis tests are
//   reported as skipped with the reason.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';
import { freePort, startRedisServer } from './helpers/processes.ts';

const root = path.resolve(import.meta.dirname, '..');
const log = (message: string): void => void process.stderr.write(`test-run: ${message}\n`);

function testFiles(dir: string, filter: string | undefined): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...testFiles(full, filter));
    else if (name.endsWith('.test.ts') && (filter === undefined || full.includes(filter))) out.push(full);
  }
  return out.sort();
}

async function main(): Promise<number> {
  const filter = process.argv[2];
  const cleanups: (() => Promise<void>)[] = [];
  try {
    let serverUrl = process.env.DATABASE_URL;
    if (serverUrl === undefined || serverUrl === '') {
      const port = await freePort();
      log(`no DATABASE_URL: starting embedded PostgreSQL on port ${port}`);
      const embedded = await startEmbeddedPostgres({
        dataDir: path.join(root, '.test-data', `pg-${port}`),
        port,
        database: 'postgres',
        log,
        postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'max_connections=300'],
      });
      cleanups.push(async () => {
        await embedded.stop();
        spawnSync('rm', ['-rf', path.join(root, '.test-data', `pg-${port}`)]);
      });
      serverUrl = embedded.url;
    }
    const dbName = `picopay_test_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    cleanups.push(async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await c.end();
    });
    const url = new URL(serverUrl);
    url.pathname = `/${dbName}`;
    const databaseUrl = url.toString();
    await migrate(databaseUrl);

    let redisUrl = process.env.REDIS_URL;
    let redisSkip = '';
    if (redisUrl === undefined || redisUrl === '') {
      const redis = await startRedisServer().catch((error: Error) => error);
      if (redis instanceof Error) {
        redisSkip = `no REDIS_URL and no redis-server on PATH (${redis.message})`;
        redisUrl = '';
        log(`Redis tests will be skipped: ${redisSkip}`);
      } else {
        log(`no REDIS_URL: started redis-server on port ${redis.port}`);
        redisUrl = redis.url;
        cleanups.push(() => redis.stop());
      }
    }

    const files = testFiles(path.join(root, 'test'), filter);
    // node --test with no file arguments would fall back to its own discovery and run unrelated files.
    if (files.length === 0) throw new Error(`no test file path contains "${filter}"`);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files],
      {
        stdio: 'inherit',
        env: {
          ...process.env,
          TEST_DATABASE_URL: databaseUrl,
          TEST_SERVER_URL: serverUrl,
          TEST_REDIS_URL: redisUrl,
          TEST_REDIS_SKIP: redisSkip,
        },
      },
    );
    return await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => log(`cleanup: ${error}`));
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
