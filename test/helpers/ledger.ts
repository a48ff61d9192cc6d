import assert from 'node:assert/strict';
import pg from 'pg';
import { verifyLedger } from '../../src/verify/ledger-checks.ts';

/** The shared checker: the ledger invariants over the whole database (same checks as `npm run verify`). */
export async function assertLedgerInvariants(databaseUrl = process.env.TEST_DATABASE_URL ?? ''): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    assert.deepEqual(await verifyLedger(client), [], 'ledger invariants');
  } finally {
    await client.end();
  }
}
