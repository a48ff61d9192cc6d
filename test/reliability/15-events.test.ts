// Scenario 15: the events outbox under load and failure. (a) A reader paging GET /events?after= while many charges
// commit concurrently ends with exactly the set of all events: the cursor is the seq given after commit, so no event
// is skipped. (b) SIGKILL the server mid-load, restart it: ledger entries and events match one to one, every event is
// published. (c) PostgreSQL restarted mid-load (this test's own embedded cluster, never a shared one): the same.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.ts';
import { freePort } from '../helpers/processes.ts';
import {
  ADMIN_KEY,
  assertLedgerInvariants,
  charge,
  countBy,
  createFundedUser,
  DATABASE_URL,
  inParallel,
  newKey,
  startServer,
  summary,
} from './harness.ts';

const root = path.resolve(import.meta.dirname, '../..');
after(() => assertLedgerInvariants());

interface FeedEvent {
  id: number;
  type: string;
  data: { id: number; user_id: number };
}

async function query<R extends pg.QueryResultRow>(databaseUrl: string, text: string, values: unknown[]): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Waits (bounded) until the server's sequencer has published every committed event. */
async function allPublished(databaseUrl: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const [row] = await query<{ n: number }>(
      databaseUrl,
      'SELECT count(*)::int AS n FROM events WHERE seq IS NULL',
      [],
    );
    if (row!.n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail('events still unpublished after 20 s');
}

/** The users' balance-changing ledger entries and their events, as `type id` strings: must be equal sets. */
async function assertOneToOne(databaseUrl: string, users: readonly number[]): Promise<number> {
  const entries = await query<{ k: string }>(
    databaseUrl,
    `SELECT type || '.succeeded ' || id AS k FROM ledger_entries
      WHERE user_id = ANY($1) AND type IN ('charge', 'credit', 'refund') ORDER BY 1`,
    [users],
  );
  const events = await query<{ k: string; seq: string | null }>(
    databaseUrl,
    `SELECT type || ' ' || (data::json ->> 'id') AS k, seq FROM events
      WHERE user_id = ANY($1) AND type <> 'charge.declined' ORDER BY 1`,
    [users],
  );
  assert.deepEqual(
    events.map((e) => e.k),
    entries.map((e) => e.k),
    'one event per entry, no other',
  );
  assert.ok(
    events.every((e) => e.seq !== null),
    'every event published',
  );
  return entries.length;
}

/** Every event of these users the feed shows after `after`, paging to the end (read:all). */
async function readFeed(url: string, after: number, users: ReadonlySet<number>): Promise<[FeedEvent[], number]> {
  const seen: FeedEvent[] = [];
  for (;;) {
    const res = await fetch(`${url}/events?after=${after}&limit=50`, { headers: { 'x-api-key': ADMIN_KEY } });
    assert.equal(res.status, 200);
    const page = (await res.json()) as { data: FeedEvent[]; has_more: boolean; next_after: number };
    for (const e of page.data) {
      assert.ok(e.id > after, `ids increase: ${e.id} after ${after}`);
      after = e.id;
      if (users.has(e.data.user_id)) seen.push(e);
    }
    after = page.next_after;
    if (!page.has_more) return [seen, after];
  }
}

test('a reader paging by after while charges commit concurrently sees every event exactly once', async () => {
  const server = await startServer({ EVENTS_SEQUENCE_INTERVAL_MS: '5' });
  try {
    const users = await Promise.all([1, 2, 3, 4].map(() => createFundedUser(server.url, '1000.00')));
    let writing = true;
    const writers = inParallel(400, 40, (i) => charge(server.url, users[i % 4]!, '1.00', newKey())).finally(() => {
      writing = false;
    });
    const collected: FeedEvent[] = [];
    let after = 0;
    let pages = 0;
    while (writing) {
      const [seen, next] = await readFeed(server.url, after, new Set(users));
      collected.push(...seen);
      after = next;
      pages++;
    }
    const replies = await writers;
    await allPublished(DATABASE_URL);
    const [rest] = await readFeed(server.url, after, new Set(users));
    collected.push(...rest);
    const entries = await assertOneToOne(DATABASE_URL, users);
    const ids = collected.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, 'no event twice');
    const kinds = collected.map((e) => `${e.type} ${e.data.id}`).sort();
    const stored = await query<{ k: string }>(
      DATABASE_URL,
      "SELECT type || ' ' || (data::json ->> 'id') AS k FROM events WHERE user_id = ANY($1) ORDER BY 1",
      [users],
    );
    assert.deepEqual(kinds, stored.map((r) => r.k).sort(), 'the reader saw exactly the events stored');
    summary('15 events feed under load', { charges: countBy(replies, (r) => r.status), entries, readerPasses: pages });
  } finally {
    await server.stop();
  }
});

test('SIGKILL mid-load, restart: ledger entries and events one to one, all published', async () => {
  const first = await startServer();
  const userId = await createFundedUser(first.url, '1000.00');
  let answered = 0;
  let killed: Promise<number | null> | undefined;
  const replies = await inParallel(300, 50, async () => {
    const reply = await charge(first.url, userId, '1.00', newKey());
    if (++answered === 30) killed = first.stop('SIGKILL');
    return reply;
  });
  await killed;
  const second = await startServer({}, first.port);
  try {
    await allPublished(DATABASE_URL);
    const entries = await assertOneToOne(DATABASE_URL, [userId]);
    const [feed] = await readFeed(second.url, 0, new Set([userId]));
    assert.equal(feed.length, entries, 'the feed shows every event of the user');
    summary('15 events after SIGKILL', { replies: countBy(replies, (r) => r.status), entries });
  } finally {
    await second.stop();
  }
});

test('PostgreSQL restart mid-load: ledger entries and events one to one, all published', async () => {
  const port = await freePort();
  const dataDir = path.join(root, '.test-data', `events-restart-${port}`);
  const cluster = (): Promise<EmbeddedDatabase> =>
    startEmbeddedPostgres({ dataDir, port, database: 'picopay', log: () => {}, postgresFlags: ['-c', 'fsync=off'] });
  let db = await cluster();
  after(async () => {
    try {
      await assertLedgerInvariants(db.url);
    } finally {
      await db.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
  const server = await startServer({ DATABASE_URL: db.url, DB_CONNECT_TIMEOUT_MS: '500' });
  try {
    const userId = await createFundedUser(server.url, '1000.00');
    let answered = 0;
    let outage: Promise<void> | undefined;
    const replies = await inParallel(300, 20, async () => {
      const reply = await charge(server.url, userId, '1.00', newKey());
      answered++;
      if (answered === 80) outage = db.stop();
      if (answered === 200) {
        await outage;
        db = await cluster();
      }
      return reply;
    });
    await allPublished(db.url);
    const entries = await assertOneToOne(db.url, [userId]);
    const [feed] = await readFeed(server.url, 0, new Set([userId]));
    assert.equal(feed.length, entries, 'the feed shows every event of the user');
    summary('15 events after PostgreSQL restart', { replies: countBy(replies, (r) => r.status), entries });
  } finally {
    await server.stop();
  }
});
