// The read router on its own: a dead replica costs one failed attempt per back-off period, every read still answers
// from the primary; a replica "not found" is rechecked on the primary. (test/scale/replica.test.ts runs a real standby.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.ts';
import { createPool, ping } from '../../src/db/pool.ts';
import { createReadRouter } from '../../src/db/read-router.ts';
import { freePort } from '../helpers/processes.ts';
import { DATABASE_URL } from '../helpers/app.ts';

test('a replica nobody listens on: reads go to the primary, the replica is tried once per back-off period', async () => {
  const config = loadConfig({ DATABASE_REPLICA_URL: `postgres://nobody@127.0.0.1:${await freePort()}/none` });
  const primary = createPool(config, DATABASE_URL);
  let clock = 0;
  const failures: unknown[] = [];
  const router = createReadRouter(
    config,
    primary,
    (error) => failures.push(error),
    () => clock,
  );
  try {
    const work = async (db: typeof primary): Promise<string> => (
      await ping(db),
      db === primary ? 'primary' : 'replica'
    );
    for (let i = 0; i < 5; i++) assert.deepEqual(await router.read(work), { value: 'primary', source: 'primary' });
    assert.equal(failures.length, 1, 'one attempt, then the back-off (1 s) skips it');
    clock += 1000;
    await router.read(work);
    assert.equal(failures.length, 2, 'retried once the back-off expired');
    assert.equal(await router.replicaState(), 'down');
  } finally {
    await router.end();
    await primary.end();
  }
});

test('a replica answer the caller does not trust ("not found") is asked again on the primary', async () => {
  const config = loadConfig({ DATABASE_REPLICA_URL: DATABASE_URL }); // the same server stands in for a replica
  const primary = createPool(config, DATABASE_URL);
  const router = createReadRouter(config, primary, () => assert.fail('no replica failure expected'));
  try {
    const seen: string[] = [];
    const work = async (db: typeof primary): Promise<string | undefined> => {
      seen.push(db === primary ? 'primary' : 'replica');
      return db === primary ? 'found' : undefined;
    };
    assert.deepEqual(await router.read(work, (v) => v === undefined), { value: 'found', source: 'primary' });
    assert.deepEqual(seen, ['replica', 'primary']);
    assert.deepEqual(
      await router.read(
        async () => 'kept',
        (v) => v === undefined,
      ),
      { value: 'kept', source: 'replica' },
    );
    assert.equal(await router.replicaState(), 'up');
  } finally {
    await router.end();
    await primary.end();
  }
});
