// Scenario 6: PostgreSQL restarted mid-load (this test's own embedded cluster, never a shared one) → requests during
// the outage get 503 with Retry-After; afterwards every key without a 2xx/4xx decision is retried → each key ends
// with exactly one outcome; invariants hold.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.ts';
import { freePort } from '../helpers/processes.ts';
import {
  assertConserved,
  assertLedgerInvariants,
  charge,
  countBy,
  createFundedUser,
  inParallel,
  newKey,
  startServer,
  summary,
} from './harness.ts';

const root = path.resolve(import.meta.dirname, '../..');

test('PostgreSQL restart under load: 503 + Retry-After during the outage, one outcome per key after', async () => {
  const port = await freePort();
  const dataDir = path.join(root, '.test-data', `restart-${port}`);
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
    const keys = Array.from({ length: 400 }, newKey);
    let answered = 0;
    let outage: Promise<void> | undefined;
    let sawOutage = false;
    const replies = await inParallel(keys.length, 20, async (i) => {
      const reply = await charge(server.url, userId, '1.00', keys[i]!);
      answered++;
      if (answered === 100) outage = db.stop();
      if (reply.status === 503) {
        sawOutage = true;
        assert.equal(JSON.parse(reply.body).code, 'database_unavailable');
        assert.equal(reply.retryAfter, '1');
      }
      // Restart once the outage has been seen by some requests (the load keeps going meanwhile).
      if (answered === 250) {
        await outage;
        db = await cluster();
      }
      return reply;
    });
    const during = countBy(replies, (r) => r.status);
    assert.ok(sawOutage, 'the outage was observed');
    assert.deepEqual(
      Object.keys(during).filter((s) => !['200', '503'].includes(s)),
      [],
      JSON.stringify(during),
    );
    const undecided = keys.filter((_, i) => replies[i]!.status !== 200);
    const retries = await inParallel(undecided.length, 10, (i) => charge(server.url, userId, '1.00', undecided[i]!));
    summary('06 postgres restart', {
      requests: keys.length,
      duringRestart: during,
      retried: undecided.length,
      retries: countBy(retries, (r) => r.status),
    });
    assert.deepEqual(
      countBy(retries, (r) => r.status),
      undecided.length === 0 ? {} : { 200: undecided.length },
    );
    await assertConserved(userId, 100_000, new Set(keys), 100, db.url);
  } finally {
    await server.stop();
  }
});
