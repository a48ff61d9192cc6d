// Scenario 12's engine: a seeded mix of faults under mixed load. Everything random comes from the seed, so a failing
// seed replays the same fault sequence: `npm run nemesis -- --seeds 1 --from <seed>`.
import assert from 'node:assert/strict';
import { startRedisServer, type RedisServer } from '../helpers/processes.ts';
import {
  DATABASE_URL,
  assertLedgerInvariants,
  charge,
  countBy,
  createFundedUser,
  inParallel,
  ledgerOf,
  newKey,
  startServer,
  type Reply,
  type ServerProcess,
} from './harness.ts';
import { HoldPlay } from './nemesis-holds.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

const FAULTS = [
  'none',
  'kill-redis',
  'restart-redis',
  'flush-redis',
  'kill-server',
  'sigterm-server',
  'cut-commit',
] as const;
type Fault = (typeof FAULTS)[number];

/** mulberry32: small, seedable, good enough to pick faults and keys. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface NemesisResult {
  readonly seed: number;
  readonly faults: readonly Fault[];
  readonly keys: number;
  readonly charged: number;
  readonly holds: number;
  readonly statuses: Record<string, number>;
}

const AMOUNTS = [100, 250, 1000] as const; // minor units
const ROUNDS = 6;
const PER_ROUND = 60;
/** Of a round's requests, this share are hold operations (./nemesis-holds.ts) on the charges' account. */
const HOLD_SHARE = 0.25;

export async function runNemesis(seed: number): Promise<NemesisResult> {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const target = new URL(DATABASE_URL);
  const proxy: TcpProxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const viaProxy = new URL(DATABASE_URL);
  viaProxy.port = String(proxy.port);
  let redis: RedisServer | undefined = await startRedisServer();
  const redisPort = redis.port;
  const env = {
    DATABASE_URL: viaProxy.toString(),
    REDIS_URL: redis.url,
    DB_CONNECT_TIMEOUT_MS: '1000',
    // The sweeper releases the 1-second holds nobody settles, between and during the faults.
    HOLD_SWEEP_INTERVAL_MS: '200',
  };
  let server: ServerProcess = await startServer(env);
  const port = server.port;
  const faults: Fault[] = [];
  const amountOf = new Map<string, number>();
  const replies = new Map<string, Reply[]>();
  const statuses: Reply[] = [];
  try {
    const userId = await createFundedUser(server.url, '100000.00');
    const holds = new HoldPlay(
      random,
      () => server.url,
      userId,
      (reply) => statuses.push(reply),
    );
    const send = async (key: string): Promise<void> => {
      const reply = await charge(server.url, userId, (amountOf.get(key)! / 100).toFixed(2), key);
      replies.set(key, [...(replies.get(key) ?? []), reply]);
      statuses.push(reply);
    };
    for (let round = 0; round < ROUNDS; round++) {
      const fault = pick(FAULTS);
      faults.push(fault);
      const known = [...amountOf.keys()];
      const batch = Array.from({ length: PER_ROUND }, (): string | (() => Promise<void>) => {
        if (random() < HOLD_SHARE) return random() < 0.3 ? () => holds.replayOne() : () => holds.play();
        if (known.length > 0 && random() < 0.3) return pick(known);
        const key = newKey();
        amountOf.set(key, pick(AMOUNTS));
        return key;
      });
      let sent = 0;
      let faultDone: Promise<unknown> = Promise.resolve();
      await inParallel(batch.length, 15, async (i) => {
        // The fault strikes a fifth of the way into the batch, while requests are in flight.
        if (++sent === Math.ceil(PER_ROUND / 5)) faultDone = inject(fault);
        const task = batch[i]!;
        await (typeof task === 'string' ? send(task) : task());
      });
      await faultDone;
      if (server.child.exitCode !== null || server.child.signalCode !== null) server = await startServer(env, port);
    }
    if (redis === undefined) redis = await startRedisServer(redisPort);
    // Every key without a decision (a 2xx or 4xx) is retried until it has one.
    for (let pass = 0; pass < 3; pass++) {
      const undecided = [...amountOf.keys()].filter(
        (k) => !(replies.get(k) ?? []).some((r) => r.status >= 200 && r.status < 500),
      );
      await inParallel(undecided.length, 10, (i) => send(undecided[i]!));
    }
    await holds.decideAll();
    const context = `seed ${seed}, faults ${faults.join(',')}`;
    const held = await holds.check(context);
    let expected = 10_000_000 - held.capturedMinor;
    const truth = await ledgerOf(userId);
    for (const key of held.captureKeys)
      assert.equal(truth.keysWithEntry.get(key), 1, `${context}: capture ${key} once`);
    for (const [key, list] of replies) {
      const decided = list.filter((r) => r.status >= 200 && r.status < 500);
      assert.ok(decided.length > 0, `${context}: key ${key} ends with a decision`);
      assert.equal(new Set(decided.map((r) => r.body)).size, 1, `${context}: one outcome per key`);
      assert.equal(decided[0]!.status, 200, `${context}: funded charges succeed`);
      assert.equal(truth.keysWithEntry.get(key), 1, `${context}: key ${key} charged exactly once`);
      expected -= amountOf.get(key)!;
    }
    const entries = amountOf.size + held.captureKeys.size;
    assert.equal(truth.chargeEntries, entries, `${context}: no entry without its key (charges and captures)`);
    assert.equal(truth.balanceMinor, expected, `${context}: money conserved`);
    await assertLedgerInvariants();
    return {
      seed,
      faults,
      keys: amountOf.size,
      charged: truth.chargeEntries,
      holds: holds.count,
      statuses: countBy(statuses, (r) => r.status),
    };
  } finally {
    await server.stop('SIGKILL');
    await redis?.kill();
    await proxy.close();
  }

  async function inject(fault: Fault): Promise<void> {
    switch (fault) {
      case 'none':
        return;
      case 'kill-redis':
        await redis?.kill();
        redis = undefined;
        return;
      case 'restart-redis':
        await redis?.kill();
        redis = await startRedisServer(redisPort);
        return;
      case 'flush-redis':
        if (redis !== undefined) await fetchFlush(redisPort);
        return;
      case 'kill-server':
        await server.stop('SIGKILL');
        server = await startServer(env, port);
        return;
      case 'sigterm-server':
        await server.stop('SIGTERM');
        server = await startServer(env, port);
        return;
      case 'cut-commit':
        // Not awaited: it resolves when a committed charge's reply is dropped, which may be after the batch.
        void proxy.cutAfterResponseContaining('Charge processed successfully');
        return;
    }
  }
}

async function fetchFlush(port: number): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(port, '127.0.0.1');
  try {
    await client.flushall();
  } finally {
    client.disconnect();
  }
}
