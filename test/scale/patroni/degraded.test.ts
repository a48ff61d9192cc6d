// PicoPay on the local HA cluster (deploy/ha/local-cluster.sh) when the cluster loses a part other than the leader:
// 3. The synchronous standby dies: Patroni names the third node synchronous standby, writes go on, nothing lost.
// 4. etcd dies for a while: without failsafe_mode the leader cannot renew its key and demotes itself (Patroni's
//    rule) — PicoPay answers 503 meanwhile — and once etcd is back a leader takes writes again. No charge is ever
//    acknowledged that the cluster does not have.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { summary, type ServerProcess } from '../../reliability/harness.ts';
import { NODES, patroniSkipReason, startHaCluster, waitUntil, type HaCluster } from './cluster.ts';
import { describeOps } from './load.ts';
import { SEEDED_MINOR, runFacts, startPicoPay, underLoad } from './scenario.ts';
import { assertNothingLost, assertOnlyRetryableFailures } from './verify.ts';

const skip = patroniSkipReason();

describe('PicoPay on Patroni: a lost synchronous standby, a lost etcd', { skip }, () => {
  let cluster: HaCluster;
  let server: ServerProcess;

  before(async () => {
    cluster = await startHaCluster();
    server = await startPicoPay(cluster);
  });
  after(async () => {
    await server?.stop();
    await cluster?.down();
  });

  const readyStatus = async (): Promise<number> =>
    (await fetch(`${server.url}/ready`, { signal: AbortSignal.timeout(5000) })).status;

  test('the synchronous standby dies: the third node becomes synchronous, writes continue, nothing lost', async () => {
    const leader = await cluster.leader();
    const sync = await cluster.syncStandby();
    const third = NODES.find((n) => n !== leader && n !== sync);
    assert.ok(leader !== undefined && sync !== undefined && third !== undefined, 'a leader and a synchronous standby');
    const run = await underLoad(
      server,
      () => cluster.drill('kill-node', sync),
      async () => (await cluster.syncStandby()) === third,
    );
    assert.equal(await cluster.leader(), leader, 'no failover: the leader stayed');
    assertOnlyRetryableFailures(run.load);
    const entries = await assertNothingLost(cluster.databaseUrl, run.load, run.users, SEEDED_MINOR);
    summary('patroni-sync-standby-lost', {
      lost: sync,
      newSync: third,
      ...runFacts(run),
      ledgerEntries: entries,
      ...describeOps(run.load.ops),
    });
    // The lost node comes back as a replica, so the next test starts with the whole cluster.
    await cluster.drill('start-node', sync);
    await waitUntil(
      `${sync} streaming again`,
      120_000,
      async () => (await cluster.members()).filter((m) => m.state === 'running').length === 3,
    );
  });

  test('etcd dies for a while: the leader demotes itself, PicoPay answers 503, writes resume once etcd is back', async () => {
    const leaderBefore = await cluster.leader();
    let demoteMs = 0;
    let etcdBackAt = 0;
    const run = await underLoad(
      server,
      async () => {
        const stoppedAt = performance.now();
        await cluster.drill('stop-etcd');
        // failsafe_mode is off: a leader that cannot renew its key within retry_timeout stops being a primary.
        await waitUntil(
          'the leader to demote itself (PicoPay not ready)',
          60_000,
          async () => (await readyStatus()) === 503,
        );
        demoteMs = Math.round(performance.now() - stoppedAt);
        await cluster.drill('start-etcd');
        etcdBackAt = performance.now();
      },
      async () => (await cluster.leader()) !== undefined && (await readyStatus()) === 200,
    );
    assertOnlyRetryableFailures(run.load);
    const entries = await assertNothingLost(cluster.databaseUrl, run.load, run.users, SEEDED_MINOR);
    assert.ok(
      run.during.some((o) => o.reply.status === 503),
      'the outage was seen as 503s',
    );
    summary('patroni-etcd-lost', {
      leaderBefore,
      leaderAfter: await cluster.leader(),
      etcdLostToDemotedMs: demoteMs,
      etcdBackToFirstNewChargeMs: Math.round(run.load.acked(etcdBackAt)[0]!.endedAt - etcdBackAt),
      ...runFacts(run),
      ledgerEntries: entries,
      ...describeOps(run.load.ops),
    });
  });
});
