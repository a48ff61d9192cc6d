// The lone-charge gate (BATCH_ENABLED=false): at most `limit` charges at the pool, the rest queued in order until
// their deadline, a full queue refused at once. Deterministic: the work is promises the test settles itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProblemError } from '../../src/lib/errors.ts';
import { createLoneChargeGate } from '../../src/payments/lone-charges.ts';

function deferred(): { promise: Promise<string>; resolve(value: string): void } {
  let resolve!: (value: string) => void;
  const promise = new Promise<string>((r) => (resolve = r));
  return { promise, resolve };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

test('the gate runs `limit` charges at once and starts the queued ones in arrival order as slots free', async () => {
  const gate = createLoneChargeGate(2, 10);
  const works = Array.from({ length: 5 }, () => deferred());
  const started: number[] = [];
  const results = works.map((w, i) =>
    gate.run(() => {
      started.push(i);
      return w.promise;
    }),
  );
  assert.deepEqual(started, [0, 1]);
  assert.equal(gate.waiting, 3);
  works[1]!.resolve('b');
  await settle();
  assert.deepEqual(started, [0, 1, 2]);
  works[0]!.resolve('a');
  await settle();
  assert.deepEqual(started, [0, 1, 2, 3]);
  for (const w of works.slice(2)) w.resolve('c');
  await settle();
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.deepEqual(await Promise.all(results), ['a', 'b', 'c', 'c', 'c']);
  assert.equal(gate.waiting, 0);
});

test('a full queue refuses at once with overloaded, and a charge past its deadline is dropped unsent', async () => {
  let shed = 0;
  const gate = createLoneChargeGate(1, 2, () => shed++);
  const first = deferred();
  const running = gate.run(() => first.promise);
  let ranExpired = false;
  const expired = gate.run(async () => {
    ranExpired = true;
    return 'never';
  }, performance.now() - 1);
  const live = gate.run(async () => 'live');
  await assert.rejects(
    gate.run(async () => 'refused'),
    (e: unknown) => e instanceof ProblemError && e.code === 'overloaded',
  );
  assert.equal(shed, 1);
  first.resolve('first');
  assert.equal(await running, 'first');
  await assert.rejects(expired, (e: unknown) => e instanceof ProblemError && e.code === 'overloaded');
  assert.equal(ranExpired, false, 'nothing was sent for the expired charge');
  assert.equal(await live, 'live');
});

test('a failed charge frees its slot like a successful one', async () => {
  const gate = createLoneChargeGate(1, 10);
  const failing = gate.run(async () => {
    throw new Error('database_unavailable');
  });
  const next = gate.run(async () => 'next');
  await assert.rejects(failing, /database_unavailable/);
  assert.equal(await next, 'next');
});
