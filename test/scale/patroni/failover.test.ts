// PicoPay on the local HA cluster (deploy/ha/local-cluster.sh) across a leader change, under mixed load:
// 1. SIGKILL of the leader's postmaster: Patroni promotes the synchronous standby; zero acknowledged loss.
// 2. The old leader rejoins as a replica (pg_rewind when its WAL went past the fork), then a switchover back to it
//    under load: only retryable 503s, nothing lost.
// PicoPay talks to HAProxy only: DATABASE_URL is the write port, DATABASE_REPLICA_URL the read port.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { summary, type ServerProcess } from '../../reliability/harness.ts';
import { NODES, patroniSkipReason, startHaCluster, waitUntil, type HaCluster, type NodeName } from './cluster.ts';
import { describeOps } from './load.ts';
import { SEEDED_MINOR, runFacts, startPicoPay, underLoad } from './scenario.ts';
import { assertNothingLost, assertOnlyRetryableFailures } from './verify.ts';

const skip = patroniSkipReason();

describe('PicoPay on Patroni: failover and switchover under load', { skip }, () => {
  let cluster: HaCluster;
  let server: ServerProcess;
  let oldLeader: NodeName;
  let newLeader: NodeName;

  before(async () => {
    cluster = await startHaCluster();
    server = await startPicoPay(cluster);
  });
  after(async () => {
    await server?.stop();
    await cluster?.down();
  });

  test("SIGKILL of the leader's postmaster: the synchronous standby takes over, no acknowledged request is lost", async () => {
    oldLeader = (await cluster.leader())!;
    const sync = await cluster.syncStandby();
    assert.ok(oldLeader !== undefined && sync !== undefined, 'a leader and a synchronous standby before the kill');
    const run = await underLoad(
      server,
      () => cluster.drill('kill-postgres', oldLeader),
      async () => ((await cluster.leader()) ?? oldLeader) !== oldLeader,
    );
    newLeader = (await cluster.leader())!;
    assert.equal(newLeader, sync, 'Patroni promoted the synchronous standby');
    assertOnlyRetryableFailures(run.load);
    const entries = await assertNothingLost(cluster.databaseUrl, run.load, run.users, SEEDED_MINOR);
    const ready = await fetch(`${server.url}/ready`);
    assert.equal(ready.status, 200, 'ready again on the new leader');
    summary('patroni-failover', {
      // The write-unavailability window: from the kill to the first new charge acknowledged that was sent after it.
      killed: oldLeader,
      promoted: newLeader,
      writeUnavailableMs: run.windowMs,
      ...runFacts(run),
      ledgerEntries: entries,
      ...describeOps(run.load.ops),
    });
  });

  test('the old leader rejoins as a replica; a switchover back to it under load loses nothing', async () => {
    assert.ok(oldLeader !== undefined && newLeader !== undefined, 'runs after the failover test');
    const rejoined = await waitUntil(`${oldLeader} back as a replica on the new timeline`, 120_000, async () => {
      const members = await cluster.members();
      const leaderTimeline = members.find((m) => m.role === 'leader')?.timeline;
      const old = members.find((m) => m.name === oldLeader);
      return (
        old !== undefined && old.role !== 'leader' && old.state === 'running' && old.timeline === leaderTimeline && old
      );
    });
    // Patroni rewinds only when the old leader's WAL went past the point where the new timeline forked.
    const rewound = /running pg_rewind from/.test(cluster.log(oldLeader));
    // In synchronous mode Patroni switches over only to the synchronous standby: keep the third node out of that
    // role for a moment so that the old leader is chosen.
    const third = NODES.find((n) => n !== oldLeader && n !== newLeader)!;
    cluster.setNoSync(third, true);
    try {
      await waitUntil(
        `${oldLeader} as the synchronous standby`,
        60_000,
        async () => (await cluster.syncStandby()) === oldLeader,
      );
      const run = await underLoad(
        server,
        () => cluster.drill('switchover', oldLeader),
        async () => (await cluster.leader()) === oldLeader,
      );
      assertOnlyRetryableFailures(run.load);
      const entries = await assertNothingLost(cluster.databaseUrl, run.load, run.users, SEEDED_MINOR);
      summary('patroni-switchover', {
        rejoinedAs: rejoined.role,
        rewound,
        from: newLeader,
        to: oldLeader,
        ...runFacts(run),
        ledgerEntries: entries,
        ...describeOps(run.load.ops),
      });
    } finally {
      cluster.setNoSync(third, false);
    }
  });
});
