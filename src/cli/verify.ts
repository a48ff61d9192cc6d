// `npm run verify`: checks the ledger invariants on DATABASE_URL (or the embedded PostgreSQL), read-only, in one
// snapshot. Exit 0 and a one-line summary when they hold; exit 2 and a report of every violation otherwise.
import pg from 'pg';
import { openDatabase } from '../db/database.ts';
import { LEDGER_CHECKS, verifyLedger } from '../verify/ledger-checks.ts';
import { configOrExit, fail, log } from './common.ts';

const database = await openDatabase(configOrExit(), log).catch((error: Error) => fail(error.message));
// As the owner (DATABASE_MIGRATION_URL when set): the application role cannot read idempotency records or totals.
const client = new pg.Client({ connectionString: database.ownerUrl, application_name: 'picopay-verify' });
let exitCode = 0;
try {
  await client.connect();
  const totals = await client.query<{ accounts: string; entries: string; keys: string }>(
    `SELECT (SELECT count(*) FROM accounts)::text AS accounts, (SELECT count(*) FROM ledger_entries)::text AS entries,
            (SELECT count(*) FROM idempotency_keys)::text AS keys`,
  );
  const violations = await verifyLedger(client);
  const { accounts, entries, keys } = totals.rows[0]!;
  const scope = `${accounts} accounts, ${entries} ledger entries, ${keys} idempotency records`;
  if (violations.length === 0) {
    process.stdout.write(`verify: OK — ${LEDGER_CHECKS.length} checks passed over ${scope}\n`);
  } else {
    exitCode = 2;
    process.stdout.write(`verify: FAILED — ${violations.length} violation(s) over ${scope}\n`);
    for (const check of LEDGER_CHECKS) {
      const found = violations.filter((v) => v.check === check.name);
      if (found.length === 0) continue;
      process.stdout.write(`\n✖ ${check.name}: ${check.description}\n`);
      for (const v of found) process.stdout.write(`    ${v.detail}\n`);
    }
  }
} finally {
  await client.end().catch(() => {});
  await database.stop();
}
process.exit(exitCode);
