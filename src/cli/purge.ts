// `picopay purge` / `npm run purge`: deletes the idempotency records older than IDEMPOTENCY_RETENTION (declines about
// a user or charge that does not exist: IDEMPOTENCY_DECLINE_RETENTION), IDEMPOTENCY_PURGE_BATCH at a time, until none
// is left, then the events older than EVENT_RETENTION the same way. The servers do the same every
// IDEMPOTENCY_PURGE_INTERVAL_MS; this is for a cron job or a first clean-up.
// Exit 0 with the counts; exit 3 when another instance holds a purge lock (that part was not done; try again later).
import { openDatabase } from '../db/database.ts';
import { createPool } from '../db/pool.ts';
import { purgeEvents } from '../events/purge.ts';
import { purgeExpired } from '../idempotency/purge.ts';
import { configOrExit, fail, log } from './common.ts';

const config = configOrExit();
const database = await openDatabase(config, log).catch((error: Error) => fail(error.message));
const db = createPool({ ...config, dbPoolSize: 1 }, database.url, { applicationName: 'picopay-purge' });
let exitCode = 0;
try {
  const settings = {
    retentionMs: config.idempotencyRetentionMs,
    declineRetentionMs: config.idempotencyDeclineRetentionMs,
    batch: config.idempotencyPurgeBatch,
    maxSteps: Number.MAX_SAFE_INTEGER,
  };
  const result = await purgeExpired(db, settings);
  if (!result.ran) {
    exitCode = 3;
    process.stdout.write('purge: another instance is purging; nothing done\n');
  } else {
    process.stdout.write(`purge: deleted ${result.deleted} expired idempotency records\n`);
  }
  const events = await purgeEvents(db, {
    retentionMs: config.eventRetentionMs,
    batch: config.idempotencyPurgeBatch,
    maxSteps: Number.MAX_SAFE_INTEGER,
  });
  if (!events.ran) {
    exitCode = 3;
    process.stdout.write('purge: another instance is purging events; nothing done\n');
  } else {
    process.stdout.write(`purge: deleted ${events.deleted} events older than EVENT_RETENTION\n`);
  }
} catch (error) {
  exitCode = 1;
  log(`purge failed: ${(error as Error).message}`);
} finally {
  await db.end();
  await database.stop();
}
process.exit(exitCode);
