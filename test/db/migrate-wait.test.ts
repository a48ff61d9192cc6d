// Start-up migrations against a database that is not accepting writes yet — a server still starting, or an HA
// cluster electing a leader (HAProxy's write port refuses connections, or reaches a standby) — wait for it, bounded;
// any other error still fails at once.
import { once } from 'node:events';
import net from 'node:net';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.ts';
import { freePort } from '../helpers/processes.ts';
import { DATABASE_URL } from '../helpers/app.ts';

const SERVER_URL = process.env.TEST_SERVER_URL ?? '';

/** A TCP forwarder to the test database's server, listening on `port` from now on. */
async function forwardFrom(port: number): Promise<() => Promise<void>> {
  const target = new URL(DATABASE_URL);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => (sockets.delete(s), client.destroy(), upstream.destroy()));
    }
    client.pipe(upstream).pipe(client);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return async () => {
    for (const s of sockets) s.destroy();
    server.close();
    await once(server, 'close');
  };
}

/** An empty database on the test server (no pgmigrations table: migrating it has to write). */
async function emptyDatabase(): Promise<string> {
  const name = `picopay_migrate_wait_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  after(async () => {
    const c = new pg.Client({ connectionString: SERVER_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

test('nothing listening yet: migrate retries until the database appears, then migrates', async () => {
  const port = await freePort();
  const url = new URL(DATABASE_URL);
  url.port = String(port);
  let stopForwarding: (() => Promise<void>) | undefined;
  const waits: string[] = [];
  try {
    const applied = await migrate(url.toString(), undefined, {
      waitMs: 30_000,
      onWait: (message) => {
        waits.push(message);
        // The database "comes up" once migrate has seen it missing.
        if (waits.length === 1) void forwardFrom(port).then((stop) => (stopForwarding = stop));
      },
    });
    assert.equal(applied.versioned, 0, 'the test database is already migrated');
    assert.ok(waits.length >= 1);
    assert.match(waits[0]!, /database not accepting writes yet \(.*ECONNREFUSED.*\); migrating again in 250 ms/);
  } finally {
    await stopForwarding?.();
  }
});

test('a server that refuses writes (SQLSTATE 25006, as a standby does) is waited for, and the error surfaces after the bound', async () => {
  const url = new URL(await emptyDatabase());
  url.searchParams.set('options', '-c default_transaction_read_only=on');
  const waits: string[] = [];
  await assert.rejects(migrate(url.toString(), undefined, { waitMs: 1000, onWait: (m) => waits.push(m) }), {
    code: '25006',
  });
  assert.ok(waits.length >= 1, 'retried before giving up');
  url.searchParams.delete('options');
  assert.ok((await migrate(url.toString())).versioned > 0, 'the same database migrates once it takes writes');
});

test('any other error fails at once (a database that does not exist)', async () => {
  const url = new URL(DATABASE_URL);
  url.pathname = '/picopay_no_such_database';
  const waits: string[] = [];
  await assert.rejects(migrate(url.toString(), undefined, { waitMs: 30_000, onWait: (m) => waits.push(m) }), {
    code: '3D000',
  });
  assert.deepEqual(waits, []);
});
