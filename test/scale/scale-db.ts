// A database of its own for a scale test (created on the test run's server, migrated directly, dropped at the end),
// so per-database settings (ALTER DATABASE … SET) and extra server processes never touch the shared test database.
import pg from 'pg';
import { migrate } from '../../src/db/migrate.ts';

const SERVER_URL = process.env.TEST_SERVER_URL ?? '';

export interface ScaleDb {
  readonly url: string;
  readonly name: string;
  /** Runs one statement on it, directly (not through any pooler). */
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  drop(): Promise<void>;
}

async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createScaleDb(label: string): Promise<ScaleDb> {
  if (SERVER_URL === '') throw new Error('run the tests with `npm test` (it provides TEST_SERVER_URL)');
  const name = `picopay_${label}_${process.pid}_${Date.now()}`;
  await onServer((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  return {
    url: url.toString(),
    name,
    query: async (text, values) => {
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        return await client.query(text, values);
      } finally {
        await client.end();
      }
    },
    drop: () => onServer(async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}
